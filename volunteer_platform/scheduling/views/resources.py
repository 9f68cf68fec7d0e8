"""Scheduling pages: resources (being written)."""
