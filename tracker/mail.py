"""Sending e-mail through the clinic's SMTP server, when one is configured.

E-mail is optional: the app works without it (sign-up links are handed over on screen or
paper). Only the standard library is used. :func:`send` raises :class:`MailError` with a
sentence staff can act on; the caller shows it and carries on, so a mail server that is
down or refuses a message never takes a page down.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from typing import Any

from flask import current_app


class MailError(Exception):
    """The message was not handed to the mail server; ``str()`` says why, for staff."""


def is_configured(config: Mapping[str, Any] | None = None) -> bool:
    """Whether the clinic has a mail server set up (a server and a sender address)."""
    config = config if config is not None else current_app.config
    return bool(str(config.get("MAIL_SERVER") or "").strip()
                and str(config.get("MAIL_FROM") or "").strip())


def build_message(to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text message from the clinic. A header value with a line break (a forged
    address) raises MailError rather than adding headers."""
    config = current_app.config
    sender = str(config["MAIL_FROM"]).strip()
    message = EmailMessage()
    try:
        message["From"] = formataddr((config["CLINIC_NAME"], sender))
        message["To"] = to
        message["Subject"] = subject
    except ValueError as error:
        raise MailError("The e-mail address on file cannot be used.") from error
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body, cte=_transfer_encoding(body))
    return message


def _transfer_encoding(body: str) -> str:
    """7bit for plain ASCII, so a long link stays one line a reader can copy (quoted-
    printable would break it with soft line breaks that some mail readers show)."""
    if body.isascii() and all(len(line) <= 998 for line in body.splitlines()):
        return "7bit"
    return "quoted-printable"


def send(to: str, subject: str, body: str) -> None:
    """Send one plain-text message to ``to`` through the configured server.

    Raises MailError when mail is not configured, the server cannot be reached, refuses
    the sign-in or the recipient, or the connection fails midway.
    """
    if not is_configured():
        raise MailError("No mail server is configured.")
    config = current_app.config
    message = build_message(to, subject, body)
    host = str(config["MAIL_SERVER"]).strip()
    port = int(config["MAIL_PORT"])
    try:
        _deliver(message, host, port, config)
    except MailError as error:
        # The class and SMTP code only: the error's text can hold the patient's address.
        cause = error.__cause__
        current_app.logger.warning(
            "e-mail not sent: %s %s", type(cause).__name__, getattr(cause, "smtp_code", ""))
        raise


def _deliver(message: EmailMessage, host: str, port: int, config: Mapping[str, Any]) -> None:
    try:
        with smtplib.SMTP(host, port, timeout=float(config["MAIL_TIMEOUT_SECONDS"])) as smtp:
            if config["MAIL_USE_STARTTLS"]:
                smtp.starttls(context=ssl.create_default_context())
            if config["MAIL_USERNAME"]:
                smtp.login(str(config["MAIL_USERNAME"]), str(config["MAIL_PASSWORD"]))
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        raise MailError("The mail server refused the address.") from error
    except smtplib.SMTPAuthenticationError as error:
        raise MailError("The mail server refused the clinic's sign-in "
                        "(check MAIL_USERNAME and MAIL_PASSWORD).") from error
    except smtplib.SMTPNotSupportedError as error:
        raise MailError("The mail server does not offer what the settings ask for "
                        "(STARTTLS or sign-in).") from error
    except smtplib.SMTPException as error:
        raise MailError("The mail server did not accept the message.") from error
    except ssl.SSLError as error:
        raise MailError("A secure connection to the mail server could not be made.") from error
    except OSError as error:
        # Refused connection, unknown host, timeout: nothing reached the server.
        raise MailError("The mail server could not be reached.") from error
