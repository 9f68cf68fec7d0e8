"""dashboard pages (being written)."""

from __future__ import annotations

from volunteer_platform.impact.views import bp, national_bp  # noqa: F401
