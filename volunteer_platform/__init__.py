"""The application factory: extensions, blueprints, commands, error handlers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application. ``config`` overrides settings read from the environment."""
    from volunteer_platform.config import load_config

    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    overrides = dict(config or {})
    environ = overrides.pop("ENVIRON", None)
    app.config.update(load_config(app.instance_path, environ))
    app.config.update(overrides)

    _init_extensions(app)
    from volunteer_platform.web import register_converters

    register_converters(app)
    _register_blueprints(app)
    _register_commands(app)

    from volunteer_platform.web import register_web_hooks

    register_web_hooks(app)
    from volunteer_platform.privacy.audit import register_audit

    register_audit(app)
    return app


def _init_extensions(app: Flask) -> None:
    # Import the models so that the metadata knows every table.
    from volunteer_platform import (
        i18n,
        models,  # noqa: F401
    )
    from volunteer_platform.db import configure_sqlite
    from volunteer_platform.extensions import babel, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    from volunteer_platform.core import ratelimit as _ratelimit  # noqa: F401  (registers the sql+ storage)

    limiter.init_app(app)
    babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        timezone_selector=i18n.select_timezone,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    login_manager.init_app(app)
    from volunteer_platform.auth import login as _login  # noqa: F401  (registers the user loader)


def _register_blueprints(app: Flask) -> None:
    from volunteer_platform.auth.views import bp as auth_bp
    from volunteer_platform.calendars.views import bp as calendars_bp
    from volunteer_platform.core.views import bp as core_bp
    from volunteer_platform.impact.views import bp as impact_bp
    from volunteer_platform.impact.views import national_bp as impact_national_bp
    from volunteer_platform.privacy.views import bp as privacy_bp
    from volunteer_platform.privacy.views import tenant_bp as privacy_tenant_bp
    from volunteer_platform.scheduling.views import bp as scheduling_bp
    from volunteer_platform.scheduling.views import personal_bp
    from volunteer_platform.supervision.views import bp as supervision_bp
    from volunteer_platform.tenants.views import bp as tenants_bp
    from volunteer_platform.training.views import bp as training_bp
    from volunteer_platform.training.views import catalogue_bp, verification_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(supervision_bp)
    app.register_blueprint(impact_national_bp)
    app.register_blueprint(catalogue_bp)
    app.register_blueprint(verification_bp)
    app.register_blueprint(training_bp)
    app.register_blueprint(scheduling_bp)
    app.register_blueprint(personal_bp)
    app.register_blueprint(calendars_bp)
    app.register_blueprint(impact_bp)
    app.register_blueprint(privacy_bp)
    app.register_blueprint(privacy_tenant_bp)
    # Last: its "/<tenant_slug>/…" rules must not shadow the fixed prefixes above
    # (Werkzeug prefers static segments anyway; reserved slugs make sure).
    app.register_blueprint(tenants_bp)


def _register_commands(app: Flask) -> None:
    from volunteer_platform.calendars.external_cli import import_external_calendars_command
    from volunteer_platform.calendars.stamps import touch_feeds_command
    from volunteer_platform.core.backup import backup_command, restore_command
    from volunteer_platform.demo import seed_demo_command
    from volunteer_platform.impact.cli import impact_refresh_command
    from volunteer_platform.notifications.cli import send_emails_command
    from volunteer_platform.privacy.cli import apply_retention_command
    from volunteer_platform.scheduling.cli import send_event_reminders_command
    from volunteer_platform.training.cli import send_qualification_reminders_command

    app.cli.add_command(seed_demo_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(apply_retention_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(send_emails_command)
    app.cli.add_command(send_qualification_reminders_command)
    app.cli.add_command(send_event_reminders_command)
    app.cli.add_command(import_external_calendars_command)
    app.cli.add_command(touch_feeds_command)
    app.cli.add_command(impact_refresh_command)
