"""The job tests share the real servers of the notification tests: SMTP and Redis."""

from tests.notifications.conftest import redis_url, smtp_server, use_smtp  # noqa: F401
