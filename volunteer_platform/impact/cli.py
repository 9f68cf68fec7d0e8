"""``flask impact-refresh``: bring the dashboards' stored figures up to date
(``aggregates``). Run it from cron every ten minutes; ``--full`` rebuilds
everything (after loading data around the application, or to check)."""

from __future__ import annotations

import time

import click
from flask.cli import with_appcontext

from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.impact import aggregates


@click.command("impact-refresh")
@click.option("--full", is_flag=True, help="Recompute every day, not only those changed since the last run.")
@with_appcontext
def impact_refresh_command(full: bool) -> None:
    """Refresh the dashboards' figures for the days changed since the last run."""
    started = time.perf_counter()
    report = aggregates.refresh(now=utcnow(), full=full)
    db.session.commit()
    click.echo(f"impact figures refreshed ({'everything' if report.full else 'changes'}): "
               f"{report.days} days recomputed for {report.pending} notes in {time.perf_counter() - started:.1f} s")
