"""A real SMTP server on a free local port (aiosmtpd), for tests of e-mail sending.

The app talks to it through smtplib and a socket as it would to the clinic's server; the
test reads what arrived, or makes the server refuse a recipient or demand a sign-in.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    """A port the OS says is free now (the server binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def refusing_port() -> Iterator[int]:
    """A port bound but not listening: every connection to it is refused at once."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield bound.getsockname()[1]


@dataclass
class Delivery:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def body(self) -> str:
        """The text as the reader sees it (lines end in CRLF on the wire)."""
        return self.message.get_content().replace("\r\n", "\n")


@dataclass
class Inbox:
    """aiosmtpd's handler: keeps each message, refuses the recipients it is told to."""

    deliveries: list[Delivery] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    #: (username, password) the server accepts, when it asks for a sign-in.
    credentials: tuple[str, str] | None = None
    signed_in_as: list[str] = field(default_factory=list)

    async def handle_RCPT(  # noqa: N802 - the hook names aiosmtpd calls
            self, server: Any, session: Any, envelope: Any, address: str,
            rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - the hook names aiosmtpd calls
            self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.deliveries.append(Delivery(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                     auth_data: Any) -> AuthResult:
        if isinstance(auth_data, LoginPassword) and self.credentials is not None:
            given = (auth_data.login.decode(), auth_data.password.decode())
            if given == self.credentials:
                self.signed_in_as.append(given[0])
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


@contextmanager
def smtp_server(credentials: tuple[str, str] | None = None) -> Iterator[tuple[int, Inbox]]:
    """Run a server on 127.0.0.1 until the block ends; yields its port and inbox. With
    ``credentials`` it offers a sign-in (over plain SMTP: a test on loopback) and accepts
    only those."""
    inbox = Inbox(credentials=credentials)
    options: dict[str, Any] = {}
    if credentials is not None:
        options = {"authenticator": inbox.authenticate,
                   "auth_require_tls": False}
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    try:
        yield controller.port, inbox
    finally:
        controller.stop()
