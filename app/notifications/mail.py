"""Sending one email: over SMTP (`MAIL_*` settings), or kept for the development mail page.

Python's smtplib and email packages do the protocol and the MIME; this module adds the
configuration, a time-out on every connection, and the sorting of failures into "try again
later" (connection trouble, 4xx replies) and "give up" (5xx replies: the address or the message
is refused).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from flask import current_app

log = logging.getLogger(__name__)


class TemporaryFailure(Exception):
    """Worth trying again later."""


class PermanentFailure(Exception):
    """Trying again will not help (the server refused the address or the message)."""


def backend() -> str:
    """"smtp" when MAIL_SERVER is set (or MAIL_BACKEND says so); otherwise "dev": messages are
    kept in the outbox and shown on /dev/mail, and, with "console", also logged."""
    chosen = current_app.config.get("MAIL_BACKEND")
    if chosen:
        return chosen
    return "smtp" if current_app.config.get("MAIL_SERVER") else "dev"


def build_message(*, to: str, subject: str, text: str, html: str | None, message_id: str,
                  attachments=(), sender: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender or current_app.config.get("MAIL_DEFAULT_SENDER") or formataddr(
        ("Gonggan", "no-reply@gonggan.local")
    )
    msg["To"] = to
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id
    # Automatic mail: out-of-office replies must not answer it.
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    for att in attachments:
        maintype, _, subtype = att.content_type.partition("/")
        subtype, _, params = subtype.partition(";")
        extra: dict[str, str] = {}
        if maintype == "text":
            # Bytes carry no charset of their own; without it readers assume US-ASCII and
            # garble the Korean in calendar files.
            extra["charset"] = "utf-8"
        if "method=" in params:
            extra["method"] = params.split("method=", 1)[1].strip()
        msg.add_attachment(att.data, maintype=maintype, subtype=subtype.strip(),
                           filename=att.filename, params=extra)
    return msg


def send(msg: EmailMessage) -> None:
    """Deliver `msg` through the configured backend; raises TemporaryFailure/PermanentFailure."""
    kind = backend()
    if kind in ("dev", "console"):
        if kind == "console":
            body = msg.get_body(("plain",))
            log.warning("email to %s: %s\n%s", msg["To"], msg["Subject"],
                        body.get_content() if body is not None else "")
        return
    cfg = current_app.config
    host, port = cfg["MAIL_SERVER"], int(cfg.get("MAIL_PORT") or 25)
    timeout = float(cfg.get("MAIL_TIMEOUT") or 10)
    smtp: smtplib.SMTP
    try:
        if cfg.get("MAIL_USE_SSL"):
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout,
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        with smtp:
            if cfg.get("MAIL_USE_TLS"):
                smtp.starttls(context=ssl.create_default_context())
            if cfg.get("MAIL_USERNAME"):
                smtp.login(cfg["MAIL_USERNAME"], cfg.get("MAIL_PASSWORD") or "")
            refused = smtp.send_message(msg)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _m in exc.recipients.values()]
        error = f"recipient refused: {exc.recipients}"
        if all(500 <= c < 600 for c in codes):
            raise PermanentFailure(error) from exc
        raise TemporaryFailure(error) from exc
    except smtplib.SMTPResponseException as exc:
        error = f"{exc.smtp_code} {_decode(exc.smtp_error)}"
        if 500 <= exc.smtp_code < 600 and not isinstance(exc, smtplib.SMTPAuthenticationError):
            raise PermanentFailure(error) from exc
        raise TemporaryFailure(error) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from exc
    if refused:  # only some recipients refused; we send to one, so this is unreachable today
        raise PermanentFailure(f"recipient refused: {refused}")


def _decode(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
