"""Scheduling pages: agenda (being written)."""
