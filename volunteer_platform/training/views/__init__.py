"""Training pages.

Three blueprints, because the pages live under three URL spaces:

- ``training``: a structure's pages, under ``/<tenant_slug>/training`` —
  learners (``learner.py``), coordinators (``coordination.py``) and the
  structure's own authoring (``authoring.py``,
  ``authoring_paths.py``);
- ``catalogue``: the association's shared catalogue, authored by supervisors
  under ``/supervision/catalogue`` with the same authoring views;
- ``verification``: the public page that confirms an attestation, ``/verify/<code>``.
"""

from __future__ import annotations

from flask import Blueprint

from volunteer_platform.tenants.scoping import register_tenant_prefix

bp = Blueprint("training", __name__, url_prefix="/<tenant_slug>/training")
register_tenant_prefix(bp)

catalogue_bp = Blueprint("catalogue", __name__, url_prefix="/supervision/catalogue")

verification_bp = Blueprint("verification", __name__, url_prefix="/verify")

# Route modules register on the blueprints above when imported.
from volunteer_platform.training.views import (  # noqa: F401
    authoring,
    authoring_paths,
    coordination,
    learner,
    verification,
)

__all__ = ["bp", "catalogue_bp", "verification_bp"]
