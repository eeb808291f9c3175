"""The application RQ workers run jobs in (one per worker process, made once)."""

from __future__ import annotations

from contextlib import contextmanager

from flask import Flask, has_app_context

_app: Flask | None = None


def use(app: Flask) -> None:
    """`flask jobs worker` hands its application over, so jobs share its configuration."""
    global _app
    _app = app


@contextmanager
def app_context():
    global _app
    if has_app_context():
        yield
        return
    if _app is None:  # a plain `rq worker` process: build the app from the environment
        from app import create_app

        _app = create_app()
    with _app.app_context():
        yield
