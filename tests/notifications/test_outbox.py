"""The outbox: messages queued in the request's transaction, sent by a command
with retries. Delivery is tested against a real SMTP server (aiosmtpd) on
loopback and a closed port for failures."""

from __future__ import annotations

import io
import socket
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.notifications.models import OutboxEmail, OutboxStatus
from volunteer_platform.notifications.services import (
    ConsoleTransport,
    Outcome,
    SmtpTransport,
    deliver,
    next_due_email,
    queue_email,
    retry_delay,
)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=closed_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_message_is_delivered_over_smtp(app, smtp_server):
    controller, inbox = smtp_server
    now = utcnow()
    queue_email("marie@example.org", "Bienvenue à Béthune", "Bonjour Marie,\nà bientôt.", now=now)
    db.session.commit()
    transport = SmtpTransport(host="127.0.0.1", port=controller.port,
                              use_tls=False)
    email = next_due_email(now=now)
    assert deliver(email, transport, sender="noreply@example.org", now=now, max_attempts=3) is Outcome.SENT
    db.session.commit()

    assert len(inbox.messages) == 1
    mail_from, rcpt, content = inbox.messages[0]
    assert mail_from == "noreply@example.org"
    assert rcpt == ["marie@example.org"]
    assert "Bonjour Marie" in content.decode()
    stored = db.session.scalars(select(OutboxEmail)).one()
    assert stored.status is OutboxStatus.SENT and stored.sent_at is not None
    assert next_due_email(now=now) is None  # sent messages are not taken again


def test_failure_is_retried_with_back_off_then_given_up(app):
    now = utcnow()
    queue_email("marie@example.org", "Sujet", "Corps", now=now)
    db.session.commit()
    transport = SmtpTransport(host="127.0.0.1", port=closed_port(), use_tls=False, timeout=2)

    email = next_due_email(now=now)
    assert deliver(email, transport, sender="x@example.org", now=now, max_attempts=2) is Outcome.RETRY
    db.session.commit()
    assert email.status is OutboxStatus.PENDING
    assert email.attempts == 1
    assert "ConnectionRefusedError" in email.last_error
    assert email.next_attempt_at == now + retry_delay(1)
    assert next_due_email(now=now) is None  # not due before the back-off

    later = now + timedelta(minutes=5)
    email = next_due_email(now=later)
    assert email is not None
    assert deliver(email, transport, sender="x@example.org", now=later, max_attempts=2) is Outcome.FAILED
    db.session.commit()
    assert email.status is OutboxStatus.FAILED
    assert next_due_email(now=later + timedelta(days=1)) is None


def test_back_off_grows_and_is_capped():
    delays = [retry_delay(n) for n in range(1, 12)]
    assert delays[0] == timedelta(minutes=1)
    assert delays[1] == timedelta(minutes=2)
    assert delays == sorted(delays)
    assert delays[-1] == timedelta(hours=6)


def test_console_transport_prints_the_whole_message(app):
    now = utcnow()
    queue_email("marie@example.org", "Invitation à rejoindre", "Ouvrez ce lien : http://x/y", now=now)
    db.session.commit()
    stream = io.StringIO()
    deliver(next_due_email(now=now), ConsoleTransport(stream), sender="a@example.org", now=now,
            max_attempts=3)
    printed = stream.getvalue()
    assert "To: marie@example.org" in printed
    assert "Ouvrez ce lien" in printed


def test_send_emails_command_sends_due_messages(app):
    now = utcnow()
    queue_email("one@example.org", "Un", "Premier", now=now)
    queue_email("two@example.org", "Deux", "Second", now=now)
    queue_email("later@example.org", "Plus tard", "Pas encore", now=now + timedelta(hours=1))
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["send-emails"])

    assert result.exit_code == 0, result.output
    assert "sent=2" in result.output
    assert "To: one@example.org" in result.output  # printed: no MAIL_SERVER in tests
    db.session.rollback()
    statuses = dict(db.session.execute(select(OutboxEmail.to_address, OutboxEmail.status)).all())
    assert statuses == {
        "one@example.org": OutboxStatus.SENT,
        "two@example.org": OutboxStatus.SENT,
        "later@example.org": OutboxStatus.PENDING,
    }


def test_a_rolled_back_transaction_sends_nothing(app):
    queue_email("ghost@example.org", "Jamais", "Jamais envoyé", now=utcnow())
    db.session.rollback()
    assert db.session.scalars(select(OutboxEmail)).all() == []


def test_sent_messages_keep_no_working_secret_link(app):
    now = utcnow()
    token = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-ab"
    queue_email("a@example.org", "Invitation", f"Ouvrez http://x/invitations/{token} vite.\n"
                f"Ou http://x/password/reset/{token}", now=now)
    db.session.commit()
    deliver(next_due_email(now=now), ConsoleTransport(io.StringIO()), sender="s@example.org", now=now,
            max_attempts=3)
    db.session.commit()
    body = db.session.scalars(select(OutboxEmail)).one().body_text
    assert token not in body
    assert "/invitations/[lien-retiré]" in body and "/password/reset/[lien-retiré]" in body


def test_attachments_are_delivered(app, smtp_server):
    controller, inbox = smtp_server
    now = utcnow()
    queue_email("a@example.org", "Confirmation", "Voir la pièce jointe.", now=now,
                attachments=[{"filename": "atelier.ics", "content_type": "text/calendar",
                              "content": "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"}])
    db.session.commit()
    transport = SmtpTransport(host="127.0.0.1", port=controller.port, use_tls=False)
    deliver(next_due_email(now=now), transport, sender="s@example.org", now=now, max_attempts=3)
    import email as email_lib
    message = email_lib.message_from_bytes(inbox.messages[0][2])
    parts = [p for p in message.walk() if p.get_filename() == "atelier.ics"]
    assert parts and parts[0].get_content_type() == "text/calendar"
    assert b"BEGIN:VCALENDAR" in parts[0].get_payload(decode=True)


def test_an_smtp_outage_keeps_messages_pending_then_each_is_sent_exactly_once(app):
    """The server is down: nothing is lost. It comes back: every message goes once, and
    running the sender again (or two senders at once) sends nothing twice."""
    import threading

    port = closed_port()
    now = utcnow()
    for n in range(4):
        queue_email(f"p{n}@example.org", f"Message {n}", "Corps", now=now)
    db.session.commit()
    transport = SmtpTransport(host="127.0.0.1", port=port, use_tls=False, timeout=2)

    while (email := next_due_email(now=now)) is not None:
        assert deliver(email, transport, sender="x@example.org", now=now, max_attempts=6) is Outcome.RETRY
        db.session.commit()
    db.session.rollback()  # a fresh snapshot: the senders committed in their own sessions
    assert {e.status for e in db.session.scalars(select(OutboxEmail))} == {OutboxStatus.PENDING}

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        later = now + timedelta(minutes=5)

        def sender() -> None:
            with app.app_context():
                while (email := next_due_email(now=later)) is not None:
                    deliver(email, transport, sender="x@example.org", now=later, max_attempts=6)
                    db.session.commit()
                db.session.remove()

        errors: list[BaseException] = []

        def guarded() -> None:
            try:
                sender()
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=guarded) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors, errors
        sender()  # and once more, afterwards: nothing left to send
    finally:
        controller.stop()
    recipients = sorted(rcpt[0] for _from, rcpt, _content in inbox.messages)
    assert recipients == [f"p{n}@example.org" for n in range(4)]
    db.session.rollback()  # a fresh snapshot: the senders committed in their own sessions
    assert {e.status for e in db.session.scalars(select(OutboxEmail))} == {OutboxStatus.SENT}
