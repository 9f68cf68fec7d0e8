"""``flask send-emails``: deliver the outbox (run it from cron every minute)."""

from __future__ import annotations

import time
from collections import Counter

import click
from flask import current_app
from flask.cli import with_appcontext

from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.notifications.services import (
    deliver,
    next_due_email,
    transport_from_config,
)


@click.command("send-emails")
@click.option("--batch-size", default=100, show_default=True, help="Messages per run at most.")
@click.option(
    "--every",
    type=click.IntRange(min=1),
    default=None,
    help="Keep running and look for due messages every N seconds (development).",
)
@with_appcontext
def send_emails_command(batch_size: int, every: int | None) -> None:
    """Send due e-mails from the outbox (printed to the console without MAIL_SERVER).

    Each message is committed on its own, so a crash never re-sends the
    messages already delivered in the same run.
    """
    while True:
        _send_batch(batch_size)
        if every is None:
            return
        db.session.remove()
        time.sleep(every)


def _send_batch(batch_size: int) -> None:
    config = current_app.config
    transport = transport_from_config(config)
    outcomes: Counter[str] = Counter()
    for _ in range(batch_size):
        now = utcnow()
        email = next_due_email(now=now)
        if email is None:
            break
        outcome = deliver(
            email,
            transport,
            sender=config["MAIL_FROM"],
            now=now,
            max_attempts=config["MAIL_MAX_ATTEMPTS"],
        )
        db.session.commit()
        outcomes[outcome.value] += 1
    db.session.commit()
    if sum(outcomes.values()):
        click.echo(
            f"sent={outcomes['sent']} retry={outcomes['retry']} failed={outcomes['failed']}"
        )
