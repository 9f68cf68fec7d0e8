"""``flask backup`` and ``flask restore``: a consistent copy of the whole database, and back.

- SQLite: the online backup API of ``sqlite3`` copies a consistent snapshot
  while the app keeps running (WAL readers and writers are not stopped); the
  backup is itself a SQLite database file. Restoring copies it back with the
  same API into the configured database.
- PostgreSQL: ``pg_dump --format=custom`` (a consistent snapshot taken in one
  transaction) and ``pg_restore --clean --if-exists --no-owner`` into the
  configured database. The client programs come from the ``postgresql-client``
  package; ``PG_BIN_DIR`` points at them if they are not on ``PATH``.

Restore replaces everything in the target database: the command asks for
confirmation unless ``--yes`` is given.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import URL, make_url

from volunteer_platform.extensions import db


class BackupError(click.ClickException):
    pass


def _pg_program(name: str) -> str:
    directory = current_app.config.get("PG_BIN_DIR") or os.environ.get("PG_BIN_DIR")
    candidates = [str(Path(directory) / name)] if directory else []
    found = shutil.which(name)
    if found:
        candidates.append(found)
    # Debian installs versioned programs out of PATH; take the newest.
    candidates += sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            return candidate
    raise BackupError(f"{name} not found: install postgresql-client or set PG_BIN_DIR")


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string (without the password) and the environment carrying the password."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def backup_database(url: URL, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(_sqlite_path(url))
        destination = sqlite3.connect(target)
        try:
            with destination:
                source.backup(destination)
        finally:
            destination.close()
            source.close()
        return
    if url.get_backend_name() == "postgresql":
        dsn, env = _libpq(url)
        result = subprocess.run(
            [_pg_program("pg_dump"), "--format=custom", "--no-owner", "--file", str(target), "--dbname", dsn],
            env=env, capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
        return
    raise BackupError(f"unsupported database: {url.get_backend_name()}")


def restore_database(url: URL, source: Path) -> None:
    if not source.is_file():
        raise BackupError(f"no backup file at {source}")
    if url.get_backend_name() == "sqlite":
        with source.open("rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                raise BackupError(f"{source} is not a SQLite backup")
        backup = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        target = sqlite3.connect(_sqlite_path(url))
        try:
            with target:
                backup.backup(target)
        finally:
            target.close()
            backup.close()
        return
    if url.get_backend_name() == "postgresql":
        dsn, env = _libpq(url)
        result = subprocess.run(
            [_pg_program("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
             "--exit-on-error", "--dbname", dsn, str(source)],
            env=env, capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
        return
    raise BackupError(f"unsupported database: {url.get_backend_name()}")


def _configured_url() -> URL:
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(target: Path) -> None:
    """Write a consistent copy of the database to TARGET (SQLite file or pg_dump archive)."""
    db.session.remove()  # nothing of ours holds a transaction open during the copy
    backup_database(_configured_url(), target)
    click.echo(f"Backup written to {target} ({target.stat().st_size} bytes).")


@click.command("restore")
@click.argument("source", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(source: Path, yes: bool) -> None:
    """Replace the whole database with the backup SOURCE. Stop the app first."""
    url = _configured_url()
    if not yes:
        click.confirm(
            f"Replace every row of {url.render_as_string(hide_password=True)} with {source}?", abort=True
        )
    db.session.remove()
    db.engine.dispose()  # no pooled connection may keep the old database open
    restore_database(url, source)
    click.echo(f"Database restored from {source}.")
