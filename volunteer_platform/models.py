"""Imports every model module so that ``Base.metadata`` is complete (Alembic, tests)."""

from volunteer_platform.auth.models import Invitation, PasswordReset, User
from volunteer_platform.calendars.external import ExternalBusy, ExternalCalendar
from volunteer_platform.calendars.models import CalendarFeedState, CalendarStamp, CalendarToken
from volunteer_platform.core.ratelimit import rate_limit_counter
from volunteer_platform.impact import models as impact_models
from volunteer_platform.notifications.models import OutboxEmail
from volunteer_platform.privacy.models import AuditEntry
from volunteer_platform.scheduling import models as scheduling_models
from volunteer_platform.tenants.models import Membership, Site, Tenant
from volunteer_platform.training import models as training_models

__all__ = [
    "AuditEntry",
    "CalendarFeedState",
    "CalendarStamp",
    "CalendarToken",
    "ExternalBusy",
    "ExternalCalendar",
    "Invitation",
    "Membership",
    "OutboxEmail",
    "PasswordReset",
    "Site",
    "Tenant",
    "User",
    "impact_models",
    "rate_limit_counter",
    "scheduling_models",
    "training_models",
]
