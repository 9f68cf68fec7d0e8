"""Calendar feeds (.ics) that calendar apps subscribe to, and the person's feed address.

Public feeds have plain addresses (a structure's public workshops, and those
of one of its sites)::

    /calendars/<slug>/agenda.ics
    /calendars/<slug>/sites/<site_id>.ics

Every other feed is reached with the person's secret token (calendar apps
poll without signing in); it shows what that person may see when it is read,
and an unknown or revoked token, or a feed they may not see, is a 404::

    /feeds/<token>/me.ics                          my commitments, all my structures
    /feeds/<token>/all.ics                         association staff: every structure
    /feeds/<token>/<slug>/agenda.ics               a structure's whole agenda (its members)
    /feeds/<token>/<slug>/sites/<site_id>.ics      … one site
    /feeds/<token>/<slug>/rooms/<room_id>.ics      … one room
    /feeds/<token>/<slug>/trainers/<membership_id>.ics   … one trainer's sessions

Responses are ``text/calendar; charset=utf-8`` with ``Referrer-Policy:
no-referrer``, a strong ETag (the feed's version: the change stamps of its
structures and what else its bytes are made from, ``services.feed_version``)
and a Last-Modified (when those bytes were first sent, see
``models.CalendarFeedState``); a conditional request gets a 304 while the
version holds (``_send``). Tokens are masked in the server's request logs
(``FeedTokenFilter``).

The account page and the agenda pages show the addresses to copy
(``account_feeds``, ``agenda_feeds`` and ``personal_feeds``, template globals).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from flask import Blueprint, abort, current_app, flash, g, redirect, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.http import is_resource_modified
from werkzeug.wrappers import Response

from volunteer_platform.auth.models import User
from volunteer_platform.auth.permissions import public, require_login
from volunteer_platform.calendars import queries, services
from volunteer_platform.calendars import stamps as _stamps  # noqa: F401  (registers the session hooks)
from volunteer_platform.calendars.services import FeedSpec
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.forms import ActionForm
from volunteer_platform.scheduling.models import Room
from volunteer_platform.tenants.models import Membership, Site, Tenant

bp = Blueprint("calendars", __name__)

PRIVATE_ENDPOINTS = {
    "calendars.personal_feed", "calendars.all_feed", "calendars.structure_feed", "calendars.site_feed",
    "calendars.room_feed", "calendars.trainer_feed",
}
FEED_ENDPOINTS = PRIVATE_ENDPOINTS | {"calendars.public_agenda", "calendars.public_site"}


@bp.before_request
def _polls_read_outside_a_transaction() -> None:
    """Most polls read one small row and answer 304. On PostgreSQL a feed
    request runs its statements in autocommit mode, which spares the BEGIN and
    ROLLBACK round trips of a transaction: each statement sees committed data
    only, as in a READ COMMITTED transaction; the stamps are read before the
    events (``_send``); the only write, the feed's state, is one statement."""
    if request.endpoint in FEED_ENDPOINTS and db.engine.dialect.name == "postgresql":
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


# --- keeping tokens out of logs and referrers ------------------------------------------------------

FEED_PATH = re.compile(r"/feeds/[^/\s?#\"']+")


class FeedTokenFilter(logging.Filter):
    """Masks the token of ``/feeds/<token>/…`` in log messages (request lines
    of the development server and gunicorn, errors logged by Flask)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is not ours to break
            return True
        masked = FEED_PATH.sub("/feeds/[token]", message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


LOGGERS_WITH_PATHS = ("werkzeug", "gunicorn.access", "gunicorn.error")


@bp.record_once
def _mask_tokens_in_logs(state: Any) -> None:
    for name in (*LOGGERS_WITH_PATHS, state.app.logger.name):
        logger = logging.getLogger(name)
        if not any(isinstance(f, FeedTokenFilter) for f in logger.filters):
            logger.addFilter(FeedTokenFilter())


@bp.after_request
def _feed_headers(response: Response) -> Response:
    # The address itself is the secret: never send it on as a Referer.
    response.headers["Referrer-Policy"] = "no-referrer"
    if request.endpoint in PRIVATE_ENDPOINTS:
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


# --- sending a feed ----------------------------------------------------------------------------------


def _event_url() -> Callable[[str, int], str]:
    base = current_app.config["BASE_URL"]
    return lambda slug, event_id: base + url_for("scheduling.event", tenant_slug=slug, event_id=event_id)


def _send(key: str, match: Callable[[], ColumnElement[bool]], spec: FeedSpec, *, locale: str, private: bool,
          stamps: tuple, reader: User | None = None) -> Response:
    """Answer with the feed, or 304 when the client has it already.

    The ETag is the feed's version (``services.feed_version``: the change
    stamps of its structures, its description, the day), known before any
    event is read: a poll that sends it back gets a 304 straight away, and a
    full poll is served from this process's cache while it holds the bytes
    of that version — without a second statement once those bytes are
    recorded. Otherwise the events are read and the bytes built.
    Last-Modified is when this feed's bytes last changed (their hash is kept
    in ``CalendarFeedState``), for clients that send If-Modified-Since only.
    """
    now = utcnow()
    key = f"{key}:{locale}"
    version = services.feed_version(key, spec, stamps, day=now.date(), base_url=current_app.config["BASE_URL"])
    if request.if_none_match:
        if request.if_none_match.contains_weak(version):
            return _not_modified(version, private=private)
    elif request.if_modified_since is not None:
        state = queries.feed_state(key)
        if (state is not None and state.version == version
                and not is_resource_modified(request.environ, last_modified=state.changed_at)):
            return _not_modified(version, private=private)
    cached = services.cached_feed(key, version)
    if cached is not None and cached.changed_at is not None:
        # Built and recorded already by this process: no further statement.
        body, changed_at = cached.body, cached.changed_at
    else:
        if cached is not None:
            body = cached.body
        else:
            with force_locale(locale):
                rows = queries.feed_rows(match(), now=now, enrolments_of=reader.id if reader else None)
                body = services.feed_bytes(rows, spec)
        try:
            changed_at = services.feed_changed_at(key, services.etag_of(body), version=version, now=now)
            db.session.commit()
        except (IntegrityError, OperationalError):
            # Another request recorded the same change at the same moment (or
            # SQLite is busy): the feed is still right, the record waits for the
            # next request, and a fresh Last-Modified never causes a wrong 304.
            db.session.rollback()
            services.keep_feed(key, version, body)
            changed_at = now.replace(microsecond=0)
        else:
            services.keep_feed(key, version, body, changed_at)
    response = Response(body, content_type="text/calendar; charset=utf-8")
    response.last_modified = changed_at
    response.headers["Content-Disposition"] = 'inline; filename="agenda.ics"'
    return _validators(response, version, private=private).make_conditional(request)


def _validators(response: Response, version: str, *, private: bool) -> Response:
    response.set_etag(version)
    response.headers["Cache-Control"] = ("private" if private else "public") + ", no-cache"
    return response


def _not_modified(version: str, *, private: bool) -> Response:
    return _validators(Response(status=304), version, private=private)


def _default_locale() -> str:
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _probe_or_404(slug: str, *, token: str | None = None, target: type | None = None,
                  target_id: int | None = None) -> queries.Probe:
    """The structure (and the token's reader, and the target row) in one query,
    or a 404 for anything not found or not allowed: an unknown or revoked
    token, a structure the reader is not a member of (staff see all), another
    structure's site, room or trainer."""
    token_hash = None
    if token is not None:
        token_hash = services.token_hash(token)
        if token_hash is None:
            abort(404)
    found = queries.probe(slug, token_hash=token_hash, target=target, target_id=target_id)
    if found is None:
        abort(404)
    if token is not None and not (found.reader.is_supervisor or found.is_member):
        abort(404)
    if target is not None and found.target is None:
        abort(404)
    return found


def _reader_or_404(token: str, **stamps_of: bool) -> tuple[User, tuple]:
    """The token's person and the stamps of their feed, in one query (404 if none)."""
    token_hash = services.token_hash(token)
    reader, stamps = queries.reader_probe(token_hash, **stamps_of) if token_hash else (None, ())
    if reader is None:
        abort(404)
    return reader, stamps


# --- public feeds ----------------------------------------------------------------------------------


@bp.get("/calendars/<tenant_slug>/agenda.ics")
@public
def public_agenda(tenant_slug: str) -> Any:
    """A structure's public workshops: titles, times, places, the structure's contact."""
    found = _probe_or_404(tenant_slug)
    tenant = found.tenant
    locale = _default_locale()
    with force_locale(locale):
        spec = FeedSpec(name=_("%(name)s — ateliers numériques", name=tenant.name), timezone=tenant.timezone,
                        description=_("Les ateliers numériques ouverts à tous."))
    return _send(f"public:{tenant.id}", lambda: queries.public_workshops(tenant), spec, locale=locale, private=False,
                 stamps=(tenant.id, found.stamp))


@bp.get("/calendars/<tenant_slug>/sites/<int:site_id>.ics")
@public
def public_site(tenant_slug: str, site_id: int) -> Any:
    """The public workshops held at one of the structure's sites."""
    found = _probe_or_404(tenant_slug, target=Site, target_id=site_id)
    tenant, site = found.tenant, found.target
    locale = _default_locale()
    with force_locale(locale):
        spec = FeedSpec(name=_("%(name)s — ateliers numériques — %(site)s", name=tenant.name, site=site.name),
                        timezone=tenant.timezone, description=_("Les ateliers numériques ouverts à tous."))
    return _send(f"public-site:{site.id}", lambda: queries.public_workshops(tenant, site_id=site.id), spec,
                 locale=locale, private=False, stamps=(tenant.id, found.stamp))


# --- private feeds ---------------------------------------------------------------------------------


def _locale_of(reader: User) -> str:
    return reader.locale if reader.locale in current_app.config["LANGUAGES"] else _default_locale()


@bp.get("/feeds/<token>/me.ics")
@public  # the token, not a session, says who reads
def personal_feed(token: str) -> Any:
    """My sessions to lead and confirmed places, in all my structures."""
    reader, stamps = _reader_or_404(token, own_structures=True)
    locale = _locale_of(reader)
    with force_locale(locale):
        spec = FeedSpec(name=_("Mon agenda — %(name)s", name=reader.full_name),
                        timezone=current_app.config["DEFAULT_TIMEZONE"], event_url=_event_url(),
                        reader_id=reader.id, show_structure=True)
    return _send(f"person:{reader.id}", lambda: queries.commitments(reader), spec, locale=locale, private=True,
                 reader=reader, stamps=stamps)


@bp.get("/feeds/<token>/all.ics")
@public  # the token, not a session, says who reads
def all_feed(token: str) -> Any:
    """Association staff: every active structure's agenda."""
    reader, stamps = _reader_or_404(token, network=True)
    if not reader.is_supervisor:
        abort(404)
    locale = _locale_of(reader)
    with force_locale(locale):
        spec = FeedSpec(name=_("Toutes les structures"), timezone=current_app.config["DEFAULT_TIMEZONE"],
                        event_url=_event_url(), show_structure=True)
    return _send("all", queries.all_structures, spec, locale=locale, private=True, stamps=stamps)


@bp.get("/feeds/<token>/<tenant_slug>/agenda.ics")
@public  # the token, not a session, says who reads
def structure_feed(token: str, tenant_slug: str) -> Any:
    found = _probe_or_404(tenant_slug, token=token)
    return _private_structure_feed(found, f"structure:{found.tenant.id}", {},
                                   lambda: _("%(name)s — agenda", name=found.tenant.name))


@bp.get("/feeds/<token>/<tenant_slug>/sites/<int:site_id>.ics")
@public  # the token, not a session, says who reads
def site_feed(token: str, tenant_slug: str, site_id: int) -> Any:
    found = _probe_or_404(tenant_slug, token=token, target=Site, target_id=site_id)
    site = found.target
    return _private_structure_feed(found, f"site:{site.id}", {"site_id": site.id},
                                   lambda: _("%(name)s — %(site)s", name=found.tenant.name, site=site.name))


@bp.get("/feeds/<token>/<tenant_slug>/rooms/<int:room_id>.ics")
@public  # the token, not a session, says who reads
def room_feed(token: str, tenant_slug: str, room_id: int) -> Any:
    found = _probe_or_404(tenant_slug, token=token, target=Room, target_id=room_id)
    room = found.target
    return _private_structure_feed(found, f"room:{room.id}", {"room_id": room.id},
                                   lambda: _("%(name)s — salle %(room)s", name=found.tenant.name, room=room.name))


@bp.get("/feeds/<token>/<tenant_slug>/trainers/<int:membership_id>.ics")
@public  # the token, not a session, says who reads
def trainer_feed(token: str, tenant_slug: str, membership_id: int) -> Any:
    found = _probe_or_404(tenant_slug, token=token, target=Membership, target_id=membership_id)
    membership, trainer = found.target, found.target_user
    return _private_structure_feed(
        found, f"trainer:{membership.id}", {"trainer_id": membership.user_id},
        lambda: _("%(name)s — séances de %(trainer)s", name=found.tenant.name, trainer=trainer.full_name))


def _private_structure_feed(found: queries.Probe, key: str, filters: dict[str, int],
                            title: Callable[[], str]) -> Any:
    """A structure's private feed (whole, or one site, room or trainer): the
    reader's access is checked (``_probe_or_404``); ``filters`` choose the
    events and ``title`` names the feed (in the reader's language)."""
    tenant = found.tenant
    locale = _locale_of(found.reader)
    with force_locale(locale):
        spec = _structure_spec(tenant, title())
    return _send(key, lambda: queries.structure_events(tenant, **filters), spec, locale=locale, private=True,
                 stamps=(tenant.id, found.stamp))


def _structure_spec(tenant: Tenant, name: str) -> FeedSpec:
    return FeedSpec(name=name, timezone=tenant.timezone, event_url=_event_url())


# --- the person's feed address -------------------------------------------------------------------


def _account_url() -> str:
    return url_for("auth.account", _anchor="calendar-feeds")


@bp.post("/account/calendar-feeds/regenerate")
@require_login
def regenerate() -> Any:
    """Create the person's private feed addresses, or replace them (the old ones stop working)."""
    if ActionForm().validate_on_submit():
        had = services.current_token(current_user, secret_key=current_app.config["SECRET_KEY"]) is not None
        services.issue_token(current_user, secret_key=current_app.config["SECRET_KEY"], now=utcnow())
        db.session.commit()
        flash(_("Vos nouvelles adresses d'abonnement sont prêtes. Les anciennes ne fonctionnent plus : "
                "abonnez vos agendas aux nouvelles.") if had else
              _("Vos adresses d'abonnement privées sont prêtes."), "success")
    return redirect(_account_url())


@bp.post("/account/calendar-feeds/revoke")
@require_login
def revoke() -> Any:
    """Stop every private feed address of the person."""
    if ActionForm().validate_on_submit() and services.revoke_token(current_user):
        db.session.commit()
        flash(_("Vos adresses d'abonnement privées sont désactivées. Vos agendas ne recevront plus "
                "de mises à jour."), "success")
    return redirect(_account_url())


# --- what pages show: addresses to copy ---------------------------------------------------------------


@dataclass(frozen=True)
class Subscription:
    """A feed as offered to a person: its address and the ways to subscribe."""

    ident: str  # for the ids of the page's fields
    title: str
    url: str  # https (or http in development)
    is_private: bool

    @property
    def webcal(self) -> str:
        return "webcal://" + self.url.split("://", 1)[1]

    @property
    def google(self) -> str:
        return "https://calendar.google.com/calendar/render?" + urlencode({"cid": self.webcal})

    @property
    def outlook(self) -> str:
        return "https://outlook.live.com/calendar/0/addfromweb?" + urlencode(
            {"url": self.url, "name": self.title}, quote_via=quote)


def _external(endpoint: str, **values: Any) -> str:
    return current_app.config["BASE_URL"] + url_for(endpoint, **values)


def _token() -> str | None:
    if not current_user.is_authenticated:
        return None
    return services.current_token(current_user, secret_key=current_app.config["SECRET_KEY"])


def _public_agenda(tenant: Tenant) -> Subscription:
    return Subscription(f"public-{tenant.id}", _("Ateliers publics de %(name)s", name=tenant.name),
                        _external("calendars.public_agenda", tenant_slug=tenant.slug), False)


@dataclass(frozen=True)
class Offer:
    subscriptions: list[Subscription]
    has_token: bool


@bp.app_template_global()
def account_feeds() -> Offer:
    """The account page: my agenda, staff's all-structures agenda, and each of my structures'."""
    from volunteer_platform.tenants.services import tenants_of

    token = _token()
    subscriptions = []
    if token is not None:
        subscriptions.append(Subscription("me", _("Mon agenda (toutes mes structures)"),
                                          _external("calendars.personal_feed", token=token), True))
        if current_user.is_supervisor:
            subscriptions.append(Subscription("all", _("Toutes les structures"),
                                              _external("calendars.all_feed", token=token), True))
    for tenant, _membership in tenants_of(current_user):
        if token is not None:
            subscriptions.append(Subscription(
                f"structure-{tenant.id}", _("Agenda complet de %(name)s", name=tenant.name),
                _external("calendars.structure_feed", token=token, tenant_slug=tenant.slug), True))
        subscriptions.append(_public_agenda(tenant))
    return Offer(subscriptions, token is not None)


@bp.app_template_global()
def agenda_feeds(keep: dict[str, Any]) -> Offer:
    """An agenda page of the structure (``g.tenant``), filtered by ``keep``
    (site, room or trainer — a person's id): its public workshops and the
    private feed of what the page shows."""
    tenant: Tenant = g.tenant
    token = _token()
    subscriptions = [_public_agenda(tenant)]
    site_id, room_id, trainer_id = keep.get("site"), keep.get("room"), keep.get("trainer")
    site = None
    if site_id is not None:
        site = db.session.scalars(select(Site).where(Site.tenant_id == tenant.id, Site.id == site_id)).one_or_none()
        if site is not None:
            subscriptions.append(Subscription(
                f"public-site-{site.id}", _("Ateliers publics — %(site)s", site=site.name),
                _external("calendars.public_site", tenant_slug=tenant.slug, site_id=site.id), False))
    if token is not None:
        private = None
        if room_id is not None:
            room = db.session.scalars(select(Room).where(Room.tenant_id == tenant.id, Room.id == room_id)).one_or_none()
            if room is not None:
                private = Subscription(f"room-{room.id}", _("Salle %(room)s (agenda complet)", room=room.name),
                                       _external("calendars.room_feed", token=token, tenant_slug=tenant.slug,
                                                 room_id=room.id), True)
        elif trainer_id is not None:
            membership = db.session.scalars(select(Membership).where(
                Membership.tenant_id == tenant.id, Membership.user_id == trainer_id)).one_or_none()
            if membership is not None:
                private = Subscription(
                    f"trainer-{membership.id}",
                    _("Séances de %(name)s", name=membership.user.full_name),
                    _external("calendars.trainer_feed", token=token, tenant_slug=tenant.slug,
                              membership_id=membership.id), True)
        elif site is not None:
            private = Subscription(f"site-{site.id}", _("%(site)s (agenda complet)", site=site.name),
                                   _external("calendars.site_feed", token=token, tenant_slug=tenant.slug,
                                             site_id=site.id), True)
        if private is None:
            private = Subscription(f"structure-{tenant.id}", _("Agenda complet de %(name)s", name=tenant.name),
                                   _external("calendars.structure_feed", token=token, tenant_slug=tenant.slug),
                                   True)
        subscriptions.insert(0, private)
    return Offer(subscriptions, token is not None)


@bp.app_template_global()
def personal_feeds() -> Offer:
    """"Mon agenda": my own feed."""
    token = _token()
    if token is None:
        return Offer([], False)
    return Offer([Subscription("me", _("Mon agenda (toutes mes structures)"),
                               _external("calendars.personal_feed", token=token), True)], True)
