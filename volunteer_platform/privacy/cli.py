"""``flask apply-retention``: run daily from cron (see the README)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.privacy.services import apply_retention


@click.command("apply-retention")
@with_appcontext
def apply_retention_command() -> None:
    """Warn, then anonymise accounts inactive beyond their structures' retention; purge old audit entries."""
    counts = apply_retention(now=utcnow(), base_url=current_app.config["BASE_URL"])
    db.session.commit()
    click.echo(
        f"{counts['warned']} warned, {counts['anonymised']} anonymised, "
        f"{counts['audit_purged']} audit entries purged."
    )
