"""Request hooks shared by every page: access rules, security headers, errors,
and what templates need (navigation, language, roles)."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask, flash, g, has_request_context, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug import exceptions as werkzeug_exceptions
from werkzeug.exceptions import HTTPException

from volunteer_platform.auth.permissions import enforce_access, has_role
from volunteer_platform.errors import DomainError, NotFound
from volunteer_platform.extensions import db
from volunteer_platform.tenants.models import Role

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)


def register_web_hooks(app: Flask) -> None:
    app.before_request(enforce_access)

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

    @app.context_processor
    def template_globals() -> dict[str, Any]:
        from volunteer_platform.tenants.services import tenants_of

        # Templates are also rendered outside requests (e-mails queued by commands),
        # where there is no signed-in person at all.
        signed_in = has_request_context() and current_user.is_authenticated
        my_tenants = tenants_of(current_user) if signed_in else []
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
        titles = {
            400: _("Requête incorrecte"),
            403: _("Accès refusé"),
            404: _("Page introuvable"),
            405: _("Méthode non autorisée"),
            410: _("Lien expiré"),
            413: _("Fichier trop volumineux"),
            429: _("Trop de tentatives"),
        }
        messages = {
            403: _("Vous n'avez pas les droits nécessaires pour cette page."),
            404: _("Cette page n'existe pas ou n'est plus disponible."),
            413: _("Le fichier envoyé est trop volumineux. Choisissez un fichier plus petit."),
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
