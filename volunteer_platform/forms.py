"""Form helpers shared by every domain."""

from __future__ import annotations

from typing import Any

from flask import flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field

from volunteer_platform.errors import DomainError


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
