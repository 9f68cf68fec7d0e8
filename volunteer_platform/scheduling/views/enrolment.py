"""Scheduling pages: enrolment (being written)."""
