"""Notification tests talk to real servers: a local SMTP server (aiosmtpd) that records what it
receives and can be told to refuse, and the machine's Redis for the RQ backend."""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

TEMPORARY = "451 4.3.0 try later"
PERMANENT = "550 5.1.1 no such user"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class RecordingHandler:
    """Records every message accepted; `refuse(reply, n)` answers the next n DATA with `reply`."""

    messages: list[Received] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        with self.lock:
            if self.refusals:
                return self.refusals.pop(0)
            self.messages.append(
                Received(
                    mail_from=envelope.mail_from,
                    rcpt_tos=list(envelope.rcpt_tos),
                    message=message_from_bytes(envelope.content, policy=policy.default),
                )
            )
        return "250 2.0.0 OK"


class SMTPServer:
    def __init__(self) -> None:
        self.handler = RecordingHandler()
        self.host = "127.0.0.1"
        self.port = free_port()
        self.controller = Controller(self.handler, hostname=self.host, port=self.port)

    @property
    def messages(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.messages)

    def refuse(self, reply: str, times: int = 1) -> None:
        """Answer the next `times` DATA commands with `reply` (TEMPORARY or PERMANENT)."""
        with self.handler.lock:
            self.handler.refusals.extend([reply] * times)

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.rcpt_tos]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    server = SMTPServer()
    server.controller.start()
    try:
        yield server
    finally:
        server.controller.stop()


@pytest.fixture
def use_smtp(app, smtp_server):
    """The app sends its email to `smtp_server` over plain SMTP."""
    keys = {"MAIL_BACKEND": "smtp", "MAIL_SERVER": smtp_server.host,
            "MAIL_PORT": smtp_server.port, "MAIL_USE_TLS": False, "MAIL_USE_SSL": False}
    old = {k: app.config.get(k) for k in keys}
    app.config.update(keys)
    try:
        yield smtp_server
    finally:
        app.config.update(old)


# --------------------------------------------------------------------------- Redis
def _redis_or_skip(url: str):
    from redis import Redis
    from redis.exceptions import RedisError

    conn = Redis.from_url(url, socket_connect_timeout=1)
    try:
        conn.ping()
    except (RedisError, OSError) as exc:
        conn.close()
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {url} in CI: {exc}")
        pytest.skip("Redis not running")
    return conn


@pytest.fixture
def redis_url():
    """A Redis database for the test (TEST_REDIS_URL, or database 15 on the local Redis),
    emptied before and after. Skipped without Redis, except in CI, where that fails."""
    url = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"
    conn = _redis_or_skip(url)
    conn.flushdb()
    try:
        yield url
    finally:
        conn.flushdb()
        conn.close()
