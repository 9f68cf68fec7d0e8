"""What each transaction changes through the ORM, for what is kept derived from it.

Two things are derived from rows and must follow every change, whatever code
path made it (views, services, ``flask`` commands, demo data): the calendar
feeds' change stamps (``calendars/stamps.py``) and the dashboards' stored
figures (``impact/aggregates.py``). Each registers a ``Watcher``; the session
plumbing is here, once:

- before a flush, the attributes a watcher reads of rows being deleted are
  loaded (once the DELETE has run, an expired attribute cannot be);
- after each flush, every added, changed (``is_modified``: setting a value to
  itself is no change) or deleted row of a watched class goes to the watcher's
  ``note`` — attribute history is still there, so old values can be read;
- a bulk ``update()``/``delete()`` of a watched class goes to ``note_bulk``;
- just before the commit, after a last flush, ``write`` gets what was noted
  and writes, in the same transaction; a rollback forgets it all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction


@dataclass(frozen=True)
class Watcher:
    name: str
    classes: tuple[type, ...]
    start: Callable[[], Any]  # empty notes for a transaction
    note: Callable[[Any, Session, Any], None]  # (notes, session, changed row)
    note_bulk: Callable[[Any, ORMExecuteState], None]  # (notes, bulk statement on a watched class)
    write: Callable[[Session, Any], None]  # (session, notes) just before the commit
    needed: tuple[str, ...] = ()  # attributes ``note`` reads of deleted rows


_WATCHERS: dict[str, Watcher] = {}
_KEY = "changes_noted"  # session.info: {watcher name: notes}


def watch(watcher: Watcher) -> None:
    """Register (or replace, on a module reload) a watcher; they write in registration order."""
    _WATCHERS[watcher.name] = watcher


def loaded(obj: Any, name: str) -> Any:
    """An attribute already in memory (never a query: the row may be gone)."""
    return inspect(obj).dict.get(name)


def _notes(session: Session, watcher: Watcher) -> Any:
    noted = session.info.setdefault(_KEY, {})
    if watcher.name not in noted:
        noted[watcher.name] = watcher.start()
    return noted[watcher.name]


@event.listens_for(Session, "before_flush")
def _load_deleted(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
    for obj in session.deleted:
        for watcher in _WATCHERS.values():
            if isinstance(obj, watcher.classes):
                unloaded = inspect(obj).unloaded
                for name in watcher.needed:
                    if name in unloaded:
                        getattr(obj, name)


@event.listens_for(Session, "after_flush")
def _note_changed_rows(session: Session, _flush: UOWTransaction) -> None:
    changed = chain(session.new, session.deleted,
                    (obj for obj in session.dirty if session.is_modified(obj, include_collections=False)))
    for obj in changed:
        for watcher in _WATCHERS.values():
            if isinstance(obj, watcher.classes):
                watcher.note(_notes(session, watcher), session, obj)


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_statements(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    classes = [mapper.class_ for mapper in state.all_mappers]
    for watcher in _WATCHERS.values():
        if any(issubclass(cls, watcher.classes) for cls in classes):
            watcher.note_bulk(_notes(state.session, watcher), state)


@event.listens_for(Session, "before_commit")
def _write(session: Session) -> None:
    session.flush()  # the commit's own flush comes after this hook: changes still pending count too
    noted = session.info.pop(_KEY, None) or {}
    for name, watcher in _WATCHERS.items():
        if name in noted:
            watcher.write(session, noted[name])


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_KEY, None)
