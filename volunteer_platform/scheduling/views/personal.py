"""Scheduling pages: personal (being written)."""
