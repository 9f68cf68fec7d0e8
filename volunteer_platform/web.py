"""Request hooks shared by every page: access rules, security headers, errors,
and what templates need (navigation, language, roles)."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask, abort, flash, g, has_request_context, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug import exceptions as werkzeug_exceptions
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from volunteer_platform.auth.permissions import enforce_access, has_role
from volunteer_platform.errors import DomainError, NotFound
from volunteer_platform.extensions import db
from volunteer_platform.tenants.models import Role

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)


# The largest id a table can hold (ids are 32-bit integers in PostgreSQL).
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<int:…>`` in addresses: a number no id column can hold is no page at all
    (404), instead of an overflow in the database driver (a 500 on SQLite)."""

    regex = r"\d{1,10}"  # longer is over MAX_ID: no rule matches, whatever its methods

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = MAX_ID, signed: bool = False) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


def register_converters(app: Flask) -> None:
    """Before any blueprint: rules bind their converters when they are added."""
    app.url_map.converters["int"] = IdConverter


def _nul_in(values: Any) -> bool:
    return any("\x00" in key or any("\x00" in v for v in vals) for key, vals in values.lists())


def _refuse_nul_byte() -> Any:
    return (
        render_template(
            "errors/error.html",
            code=400,
            title=_("Caractère non autorisé"),
            message=_("Le texte envoyé contient un caractère invisible qui n'est pas accepté. Rien n'a été "
                      "enregistré : revenez en arrière, retapez le texte au lieu de le coller, puis "
                      "recommencez."),
        ),
        400,
    )


def refuse_nul_in_address(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """A NUL byte is never typed by a person, and PostgreSQL refuses it in text
    (SQLite would store it): refuse it in the address (the structure's name in it
    is looked up before any other hook runs) and in the query string."""
    if "\x00" in request.path or _nul_in(request.args):
        abort(400, description="nul")


def refuse_nul_in_form() -> Any:
    """The same for the fields and file names of a posted form. (After the
    blueprints' own size caps: reading the body here must respect them.)"""
    if request.method == "GET" or request.mimetype not in ("application/x-www-form-urlencoded",
                                                           "multipart/form-data"):
        return None
    try:
        form, files = request.form, request.files
    except RequestEntityTooLarge:
        return None  # the view, or the 413 page, says so
    if _nul_in(form) or any("\x00" in (f.filename or "") for f in files.values()):
        return _refuse_nul_byte()
    return None


def register_web_hooks(app: Flask) -> None:
    app.url_value_preprocessor(refuse_nul_in_address)
    app.before_request(enforce_access)
    app.before_request(refuse_nul_in_form)

    @app.after_request
    def security_headers(response: Any) -> Any:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        if app.config["APP_ENV"] == "production":
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        # Pages shown to a signed-in person carry personal data: never cache them.
        if current_user.is_authenticated and response.mimetype == "text/html":
            headers["Cache-Control"] = "no-store"
        return response

    @app.template_filter("capfirst")
    def capfirst(value: Any) -> Any:
        """Upper-case the first letter only ("lundi 2 mars" → "Lundi 2 mars"). Jinja's
        ``capitalize`` lower-cases the rest, which breaks English dates ("Monday 2 march")."""
        from markupsafe import Markup

        text = str(value)
        text = text[:1].upper() + text[1:]
        return Markup(text) if isinstance(value, Markup) else text

    @app.context_processor
    def template_globals() -> dict[str, Any]:
        from volunteer_platform.tenants.scoping import my_tenants as read_my_tenants
        from volunteer_platform.tenants.services import tenants_of

        # Templates are also rendered outside requests (e-mails queued by commands),
        # where there is no signed-in person at all.
        signed_in = has_request_context() and current_user.is_authenticated
        my_tenants = []
        if signed_in:
            # A page read (GET) reuses the list the tenant prefix already read; after a
            # form, memberships may have changed during the request: read them again.
            my_tenants = read_my_tenants() if request.method in ("GET", "HEAD") else tenants_of(current_user)
        return {
            "get_locale": get_locale,
            "Role": Role,
            "has_role": has_role,
            "current_tenant": getattr(g, "tenant", None),
            "current_membership": getattr(g, "membership", None),
            "my_tenants": my_tenants,
        }

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> Any:
        return (
            render_template(
                "errors/error.html",
                code=400,
                title=_("Formulaire expiré"),
                message=_(
                    "Le formulaire n'a pas pu être vérifié (session expirée ou page ouverte trop "
                    "longtemps). Revenez en arrière, rechargez la page et recommencez."
                ),
            ),
            400,
        )

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> Any:
        """A service refusal that no view turned into a form error: nothing was saved."""
        db.session.rollback()
        if isinstance(error, NotFound):  # its message is internal; say it like any 404
            return http_error(werkzeug_exceptions.NotFound())
        return (
            render_template("errors/error.html", code=error.status_code, title=_("Action impossible"),
                            message=str(error.message)),
            error.status_code,
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        if request.path.startswith("/static/"):
            return error
        if error.code == 400 and error.description == "nul":
            return _refuse_nul_byte()
        titles = {
            400: _("Requête incorrecte"),
            403: _("Accès refusé"),
            404: _("Page introuvable"),
            405: _("Méthode non autorisée"),
            410: _("Lien expiré"),
            413: _("Envoi trop volumineux"),
            429: _("Trop de tentatives"),
        }
        messages = {
            403: _("Vous n'avez pas les droits nécessaires pour cette page."),
            404: _("Cette page n'existe pas ou n'est plus disponible."),
            413: _("Ce que vous avez envoyé est trop volumineux (un fichier ou un texte trop long). Rien n'a "
                   "été enregistré : choisissez un fichier plus petit ou raccourcissez le texte, puis "
                   "recommencez."),
            429: _("Trop de tentatives en peu de temps. Patientez quelques minutes puis réessayez."),
        }
        code = error.code or 500
        response = render_template(
            "errors/error.html",
            code=code,
            title=titles.get(code, _("Erreur")),
            message=messages.get(code, _("La demande n'a pas pu aboutir.")),
        )
        return response, code, dict(error.get_headers()) if code in (405, 429) else {}

    @app.errorhandler(500)
    def server_error(error: Exception) -> Any:
        """The generic error page, in the visitor's language, with an incident id to
        quote to the support; the traceback goes to the log under the same id only."""
        db.session.rollback()
        incident = secrets.token_hex(4).upper()
        original = getattr(error, "original_exception", None) or error
        app.logger.error("incident %s on %s %s", incident, request.method, request.path,
                         exc_info=(type(original), original, original.__traceback__))
        return (
            render_template(
                "errors/error.html",
                code=500,
                title=_("Erreur du serveur"),
                message=_("Une erreur inattendue s'est produite. Rien n'a été enregistré. "
                          "Réessayez dans quelques minutes ; si cela se reproduit, contactez "
                          "l'équipe en indiquant le numéro d'incident ci-dessous."),
                incident=incident,
            ),
            500,
            {"X-Incident-Id": incident},
        )


def flash_success(message: str) -> None:
    flash(message, "success")


def flash_error(message: str) -> None:
    flash(message, "error")
