"""One event as an .ics file to add to one's own calendar:
``/<tenant_slug>/agenda/events/<event_id>.ics``, for the structure's members.

It is here, on the structure's blueprint, rather than with the feeds in
``calendars.views``: that blueprint has no tenant prefix (its feeds are read
by calendar apps with a token, not a session), while this download is a page
of the structure like the event's own — same membership check, same 404 for
another structure's event. The file itself is built in
``calendars.event_file`` (see there why a series' occurrence is sent as that
one occurrence, with the series' UID).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from volunteer_platform.auth.permissions import require_role
from volunteer_platform.calendars import event_file
from volunteer_platform.scheduling.models import Event
from volunteer_platform.scheduling.views import bp
from volunteer_platform.tenants.models import Role
from volunteer_platform.tenants.scoping import get_in_tenant_or_404

ANY_MEMBER = (Role.COORDINATOR, Role.TRAINER, Role.VOLUNTEER)


@bp.get("/events/<int:event_id>.ics")
@require_role(*ANY_MEMBER)
def event_ics(event_id: int) -> Any:
    """Download the event (METHOD:PUBLISH, the same UID and SEQUENCE as in the feeds)."""
    event = get_in_tenant_or_404(Event, event_id, g.tenant)
    page = current_app.config["BASE_URL"] + url_for("scheduling.event", event_id=event.id)
    ics = event_file.event_file(event, event_url=page, reader_id=current_user.id)
    response = Response(ics.content, content_type=event_file.HTTP_CONTENT_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{ics.filename}"'
    response.headers["Cache-Control"] = "private, no-cache"
    return response
