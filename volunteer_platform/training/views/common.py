"""What the training views share: one form posted, saved and answered the
Post/Redirect/Get way (rule 2 of ARCHITECTURE.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect
from flask_wtf import FlaskForm

from volunteer_platform.errors import DomainError
from volunteer_platform.extensions import db
from volunteer_platform.forms import apply_domain_error


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
            apply_domain_error(form, error)
            refusal = error
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(next_url), 302
    return None, form_status(form, refusal)
