"""Language and time-zone selection for Flask-Babel.

Language: the person's saved preference, then the choice made on the site
(kept in the session, for visitors), then the browser's Accept-Language,
then French. Time zone: the structure's in its pages, else the default.
"""

from __future__ import annotations

from flask import current_app, g, has_request_context, request, session
from flask_login import current_user


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # a command, an e-mail being rendered: the default
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    tenant = getattr(g, "tenant", None)
    if tenant is not None:
        return tenant.timezone
    return current_app.config["DEFAULT_TIMEZONE"]
