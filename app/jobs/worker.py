"""The application RQ workers run jobs in (one per worker process, made once)."""

from __future__ import annotations

from contextlib import contextmanager

from flask import Flask, has_app_context

_app: Flask | None = None


def use(app: Flask, *, replace: bool = True) -> None:
    """The application jobs run in: the one `flask jobs worker` runs (it hands it over), or
    the first one this process made (create_app registers it)."""
    global _app
    if replace or _app is None:
        _app = app


@contextmanager
def app_context():
    global _app
    if has_app_context():
        yield
        return
    if _app is None:
        raise RuntimeError("Run jobs in an application: start workers with `flask jobs worker`.")
    with _app.app_context():
        yield
