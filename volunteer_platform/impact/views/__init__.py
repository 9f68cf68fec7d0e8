"""Impact pages.

- ``impact``: a structure's pages under ``/<tenant_slug>/impact`` — its
  dashboard and exports (``dashboard.py``), the session survey, the path
  self-assessment and the shift activity report (``participation.py``), a
  volunteer's volunteering attestations (``volunteering.py``);
- ``impact_national``: the association's dashboard of all structures and its
  exports, under ``/supervision/impact`` (``dashboard.py``).
"""

from __future__ import annotations

from flask import Blueprint

from volunteer_platform.tenants.scoping import register_tenant_prefix

bp = Blueprint("impact", __name__, url_prefix="/<tenant_slug>/impact")
register_tenant_prefix(bp)

national_bp = Blueprint("impact_national", __name__, url_prefix="/supervision/impact")

from volunteer_platform.impact.views import (  # noqa: F401
    dashboard,
    participation,
    volunteering,
)

__all__ = ["bp", "national_bp"]
