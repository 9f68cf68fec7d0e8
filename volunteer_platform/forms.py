"""Form helpers shared by every domain, and the Post/Redirect/Get cycle of a
form view (rule 2 of ARCHITECTURE.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field

from volunteer_platform.errors import DomainError, NotFound
from volunteer_platform.extensions import db


class ActionForm(FlaskForm):
    """A form with no fields: the CSRF token behind a POST button."""


def strip_filter(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def apply_domain_error(form: FlaskForm, error: DomainError) -> None:
    """Show a service's refusal beside its field, or as a message at the top."""
    field: Field | None = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, str(error.message)]  # type: ignore[list-item]
    else:
        flash(str(error.message), "error")


REQUIRED = _l("Ce champ est obligatoire.")
INVALID_EMAIL = _l("Saisissez une adresse e-mail valide, par exemple prenom.nom@exemple.fr.")


def form_status(form: Any, error: DomainError | None = None) -> int:
    """422 when a submitted form is shown again with its errors; a refusal not
    tied to a field (shown as a flash message) keeps its own 4xx."""
    if form.errors:
        return 422
    return error.status_code if error is not None else 200


def commit_or_show(form: FlaskForm, save: Callable[[], tuple[str, str]]) -> tuple[Any | None, int]:
    """Save a submitted form, or say with which status to show it again.

    When ``form`` is submitted and valid, ``save`` makes the service calls and
    returns the success message and the URL to go to next: the transaction is
    committed, the message flashed, and ``(redirect, 302)`` returned.
    Otherwise ``(None, status)``: a domain refusal is rolled back and shown on
    its field (422) or as a message with its own 4xx; a form not submitted is 200.
    """
    refusal: DomainError | None = None
    if form.validate_on_submit():
        try:
            message, next_url = save()
        except DomainError as error:
            db.session.rollback()
            if isinstance(error, NotFound):  # another structure's object looks missing
                abort(404)
            apply_domain_error(form, error)
            refusal = error
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(next_url), 302
    return None, form_status(form, refusal)
