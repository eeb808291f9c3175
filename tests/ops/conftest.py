"""The operations tests use the machine's Redis as the job tests do (skipped without it)."""

from tests.notifications.conftest import free_port, redis_url  # noqa: F401
