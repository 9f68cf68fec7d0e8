"""Domain exceptions raised by services, and their mapping to HTTP.

Services raise these; views turn a field-specific error into a form error,
anything else into a flash message and a 4xx (see ``register_error_handlers``).
"""

from __future__ import annotations


class DomainError(Exception):
    """Base class: a business rule refused the operation. Nothing was changed."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class Conflict(DomainError):
    status_code = 409


class InvalidToken(DomainError):
    """An e-mailed link is unknown, expired, revoked or already used."""

    status_code = 410


class ValidationFailed(DomainError):
    status_code = 422
