"""Queueing e-mails in the outbox and sending them with retries."""

from __future__ import annotations

import enum
import re
import smtplib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, Protocol, TextIO

from flask import render_template
from flask_babel import force_locale
from sqlalchemy import select

from volunteer_platform.extensions import db
from volunteer_platform.notifications.models import OutboxEmail, OutboxStatus


def queue_email(
    to: str, subject: str, body: str, *, now: datetime, attachments: list[dict[str, str]] | None = None
) -> OutboxEmail:
    """Add a message to the outbox, in the caller's transaction.

    ``attachments``: text attachments, each ``{"filename", "content_type", "content"}``.
    """
    email = OutboxEmail(
        to_address=to, subject=subject, body_text=body, created_at=now, next_attempt_at=now,
        attachments=attachments or None,
    )
    db.session.add(email)
    db.session.flush()
    return email


def queue_templated_email(
    to: str, template: str, *, locale: str, now: datetime,
    attachments: list[dict[str, str]] | None = None, **context: Any
) -> OutboxEmail:
    """Render ``templates/emails/<template>.txt`` in ``locale`` and queue it.

    The template's first line is ``Subject: …``; the rest is the body.
    """
    with force_locale(locale):
        rendered = render_template(f"emails/{template}.txt", **context)
    first, _, body = rendered.lstrip().partition("\n")
    if not first.startswith("Subject:"):
        raise ValueError(f"emails/{template}.txt must start with 'Subject:'")
    return queue_email(
        to, first[len("Subject:") :].strip(), body.strip() + "\n", now=now, attachments=attachments
    )


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...


@dataclass
class ConsoleTransport:
    """Development: print each message instead of sending it."""

    stream: TextIO | None = None  # None: whatever sys.stdout is when sending

    def send(self, message: EmailMessage) -> None:
        stream = self.stream or sys.stdout
        # Decoded, so that links are readable (as_string() would give base64 for accents).
        headers = "".join(f"{k}: {message[k]}\n" for k in ("From", "To", "Subject"))
        stream.write(f"{'-' * 72}\n{headers}\n{message.get_content()}{'-' * 72}\n")
        stream.flush()


@dataclass
class SmtpTransport:
    host: str
    port: int
    username: str = ""
    password: str = ""
    use_tls: bool = True
    use_ssl: bool = False
    timeout: float = 30.0

    def send(self, message: EmailMessage) -> None:
        smtp_cls: Callable[..., smtplib.SMTP] = smtplib.SMTP_SSL if self.use_ssl else smtplib.SMTP
        with smtp_cls(self.host, self.port, timeout=self.timeout) as smtp:
            if self.use_tls and not self.use_ssl:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(message)


def transport_from_config(config: dict[str, Any]) -> Transport:
    if not config.get("MAIL_SERVER"):
        return ConsoleTransport()
    return SmtpTransport(
        host=config["MAIL_SERVER"],
        port=config["MAIL_PORT"],
        username=config["MAIL_USERNAME"],
        password=config["MAIL_PASSWORD"],
        use_tls=config["MAIL_USE_TLS"],
        use_ssl=config["MAIL_USE_SSL"],
    )


def build_message(email: OutboxEmail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.to_address
    message["Subject"] = email.subject
    # A stable Message-ID: a retry after a lost acknowledgement is recognisable.
    message["Message-ID"] = make_msgid(idstring=f"outbox-{email.id}")
    message.set_content(email.body_text)
    for attachment in email.attachments or []:
        maintype, _, subtype = attachment["content_type"].partition("/")
        message.add_attachment(
            attachment["content"].encode(), maintype=maintype, subtype=subtype,
            filename=attachment["filename"],
            # The text is sent as UTF-8: say so (a text part without charset is read as US-ASCII).
            params={"charset": "utf-8"} if maintype == "text" else None,
        )
    return message


_SECRET_LINK = re.compile(r"(/(?:invitations|password/reset)/)[A-Za-z0-9_-]{16,}")


def redact_secret_links(text: str) -> str:
    """Blank the tokens of invitation and password-reset links in ``text``."""
    return _SECRET_LINK.sub(r"\1[lien-retiré]", text)


def retry_delay(attempts: int) -> timedelta:
    """Back off exponentially: 1, 2, 4, 8… minutes, at most 6 hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


class Outcome(enum.StrEnum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"


def next_due_email(*, now: datetime) -> OutboxEmail | None:
    """Take the oldest due message, locked so that a second sender skips it.

    On PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets several senders share the
    outbox; SQLite writers are serialised by ``BEGIN IMMEDIATE`` anyway.
    """
    stmt = (
        select(OutboxEmail)
        .where(OutboxEmail.status == OutboxStatus.PENDING, OutboxEmail.next_attempt_at <= now)
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return db.session.scalars(stmt).first()


def deliver(
    email: OutboxEmail, transport: Transport, *, sender: str, now: datetime, max_attempts: int
) -> Outcome:
    """Try to send ``email`` once and record the result on it.

    A failure records the error and schedules a retry with back-off; after
    ``max_attempts`` attempts the message is marked failed for good.
    """
    email.attempts += 1
    try:
        transport.send(build_message(email, sender))
    except (OSError, smtplib.SMTPException) as exc:
        email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if email.attempts >= max_attempts:
            email.status = OutboxStatus.FAILED
            outcome = Outcome.FAILED
        else:
            email.next_attempt_at = now + retry_delay(email.attempts)
            outcome = Outcome.RETRY
    else:
        email.status = OutboxStatus.SENT
        email.sent_at = now
        email.last_error = None
        # The sent copy keeps no working link: a database leak then yields none.
        email.body_text = redact_secret_links(email.body_text)
        outcome = Outcome.SENT
    db.session.flush()
    return outcome
