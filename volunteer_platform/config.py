"""Settings read from the environment.

Every setting has a development default so that ``make run`` works on a fresh
machine; production (``APP_ENV=production``) refuses to start without a real
``SECRET_KEY`` and ``BASE_URL``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any


class ConfigError(RuntimeError):
    """A required setting is missing or invalid."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _dev_secret_key(instance_path: Path) -> str:
    """Return the development secret key, generating it once into ``instance/``.

    Keeping it on disk means sessions survive a restart of ``make run``; it is
    never used in production, where ``SECRET_KEY`` must be set explicitly.
    """
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # Create with owner-only permissions: the key signs sessions.
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def load_config(instance_path: str, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Build the Flask configuration from environment variables."""
    env = os.environ if environ is None else environ
    instance = Path(instance_path)
    app_env = env.get("APP_ENV", "development").strip().lower()
    if app_env not in {"development", "production", "testing"}:
        raise ConfigError(f"APP_ENV must be development, production or testing, not {app_env!r}")
    is_production = app_env == "production"

    secret_key = env.get("SECRET_KEY", "")
    if not secret_key:
        if is_production:
            raise ConfigError("SECRET_KEY must be set when APP_ENV=production")
        secret_key = _dev_secret_key(instance)
    elif is_production and len(secret_key) < 32:
        raise ConfigError("SECRET_KEY must be at least 32 characters long in production")

    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance / 'volunteer_platform.sqlite3'}"
    # Heroku-style URLs name the dialect "postgres"; SQLAlchemy wants the driver too.
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgres://") :]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]

    base_url = env.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    if is_production and "BASE_URL" not in env:
        raise ConfigError("BASE_URL must be set when APP_ENV=production (links in e-mails use it)")

    mail_port = env.get("MAIL_PORT", "587")
    if not mail_port.isdigit():
        raise ConfigError("MAIL_PORT must be a number")

    return {
        "APP_ENV": app_env,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        # A pooled connection is tested before use (one round trip per request) so that a
        # restarted database costs no failed request; DATABASE_PRE_PING=false saves that trip.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": _bool(env.get("DATABASE_PRE_PING"), default=True)},
        "BASE_URL": base_url,
        "DEFAULT_TIMEZONE": env.get("DEFAULT_TIMEZONE", "Europe/Paris"),
        "BABEL_DEFAULT_LOCALE": "fr",
        "BABEL_DEFAULT_TIMEZONE": env.get("DEFAULT_TIMEZONE", "Europe/Paris"),
        "LANGUAGES": ("fr", "en"),
        # Mail: with no MAIL_SERVER, the outbox sender prints messages to the console.
        "MAIL_SERVER": env.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(mail_port),
        "MAIL_USERNAME": env.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _bool(env.get("MAIL_USE_TLS"), default=True),
        "MAIL_USE_SSL": _bool(env.get("MAIL_USE_SSL"), default=False),
        "MAIL_FROM": env.get("MAIL_FROM", "Aidants numériques <no-reply@localhost>"),
        "MAIL_MAX_ATTEMPTS": int(env.get("MAIL_MAX_ATTEMPTS", "6")),
        # Lifetimes of the links sent by e-mail.
        "INVITATION_TTL_DAYS": int(env.get("INVITATION_TTL_DAYS", "14")),
        "PASSWORD_RESET_TTL_MINUTES": int(env.get("PASSWORD_RESET_TTL_MINUTES", "60")),
        # Cookies.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": is_production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": is_production,
        "REMEMBER_COOKIE_DURATION": 60 * 60 * 24 * 30,
        "PREFERRED_URL_SCHEME": "https" if is_production else "http",
        # CSRF tokens stay valid as long as the session: no time limit that loses input.
        "WTF_CSRF_TIME_LIMIT": None,
        # Request bodies: 1 MiB is ten times the longest form (a 100 000-character lesson);
        # bigger ones get the 413 page before anything reads them. The lesson pages, which
        # take a file, raise their own cap (training/views/authoring.py).
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", str(1024 * 1024))),
        # Rate limits: counted in the app's own database by default, so every
        # gunicorn worker shares them (core/ratelimit.py); redis://… also works.
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI") or f"sql+{database_url}",
        "RATELIMIT_ENABLED": _bool(env.get("RATELIMIT_ENABLED"), default=True),
        "RATELIMIT_HEADERS_ENABLED": True,
        # A storage outage must not take the site down: count in memory meanwhile.
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        # External calendars (busy times of rooms and trainers).
        "EXTERNAL_CALENDARS_TIMEOUT": float(env.get("EXTERNAL_CALENDARS_TIMEOUT", "10")),
        "EXTERNAL_CALENDARS_ALLOW_PRIVATE_HOSTS": _bool(env.get("EXTERNAL_CALENDARS_ALLOW_PRIVATE_HOSTS")),
    }
