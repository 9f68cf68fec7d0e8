"""Scheduling pages.

- ``scheduling``: a structure's pages under ``/<tenant_slug>/agenda`` —
  resources (``resources.py``: rooms, opening hours, closures, kits, rules),
  the agenda and events (``agenda.py``), enrolment, attendance and
  staffing (``enrolment.py``), one event as an .ics file (``ics.py``),
  the external calendars of rooms and trainers (``external.py``);
- ``my_agenda``: a person's own commitments across all their structures,
  under ``/me`` (``personal.py``).
"""

from __future__ import annotations

from flask import Blueprint

from volunteer_platform.tenants.scoping import register_tenant_prefix

bp = Blueprint("scheduling", __name__, url_prefix="/<tenant_slug>/agenda")
register_tenant_prefix(bp)

personal_bp = Blueprint("my_agenda", __name__, url_prefix="/me")

from volunteer_platform.scheduling.views import (  # noqa: F401
    agenda,
    enrolment,
    external,
    ics,
    personal,
    resources,
)

__all__ = ["bp", "personal_bp"]
