"""Logs: a request id on every record, one JSON object per line in production.

Every request gets an id — the `X-Request-ID` a trusted proxy sent, else a new one — echoed in
the response's `X-Request-ID` header. A log record factory copies it (and the id and name of the
job running, if any) onto every record made meanwhile, whichever logger made it, so a line in a
service, an extension or Flask's own "Exception on ..." carries it without passing it around.
The ids live in context variables: a request's never leaks into the next one on the thread.

Which handler prints the records is the entry points' business (`configure`, called by wsgi.py
and devtools/serve.py; gunicorn.conf.py for gunicorn's own lines), not create_app's: tests and
other embedders keep their logging as it is.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import IO

from flask import Flask, request
from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

HEADER = "X-Request-ID"
_ENVIRON = "gonggan.request_id"
# What we accept from a proxy: the usual id shapes (UUIDs, hex, trace ids), nothing that could
# forge a second log field or line.
_ACCEPTABLE_ID = re.compile(r"[A-Za-z0-9._:+/=-]{1,128}")

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "gonggan_request_id", default=None
)
_job: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "gonggan_job", default=None
)

request_log = logging.getLogger("gonggan.request")
job_log = logging.getLogger("gonggan.jobs")


def new_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return _request_id.get()


def current_job() -> tuple[str, str] | None:
    """(job id, job name) of the job running in this context, if any."""
    return _job.get()


@contextmanager
def request_context(request_id: str | None) -> Iterator[None]:
    """Records made inside carry `request_id` (work a request left for after its response)."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


@contextmanager
def job_context(name: str, job_id: str | None = None) -> Iterator[str]:
    """Records made inside carry the job's id and name. Without `job_id`, a job already running
    under the same name keeps its id (the RQ entry point names it first), any other gets a new
    one. Yields the id."""
    running = _job.get()
    if job_id is None and running is not None and running[1] == name:
        yield running[0]
        return
    job_id = job_id or new_id()
    token = _job.set((job_id, name))
    try:
        yield job_id
    finally:
        _job.reset(token)


# --------------------------------------------------------------------------- records
def install_record_factory() -> None:
    """Put the request id and the job on every log record made from now on (once per process)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "gonggan", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        request_id = _request_id.get()
        if request_id is not None:
            record.request_id = request_id
        job = _job.get()
        if job is not None:
            record.job_id, record.job = job
        return record

    factory.gonggan = True  # type: ignore[attr-defined]  # marks our factory (see above)
    logging.setLogRecordFactory(factory)


class JsonFormatter(_LibraryJsonFormatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, then the request
    id, the job and any `extra=` fields; a traceback as the field `exc_info`."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("fmt", ["asctime", "levelname", "name", "message"])
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level",
                                            "name": "logger"})
        super().__init__(*args, **kwargs)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


class TextFormatter(logging.Formatter):
    """Development: readable lines, with the request id when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s",
                         datefmt="%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        parts = []
        fields = vars(record)  # the context fields are set per record, unknown to LogRecord
        if fields.get("request_id"):
            parts.append(f"request={fields['request_id'][:12]}")
        if fields.get("job"):
            parts.append(f"job={fields['job']}:{fields['job_id'][:12]}")
        record.context = f" [{' '.join(parts)}]" if parts else ""
        return super().format(record)


def configure(app: Flask, stream: IO[str] | None = None) -> logging.Handler | None:
    """Send the process's logs to `stream` (standard error) in the configured LOG_FORMAT:
    "json" (production: one object per line) or "text" (development); none leaves logging alone.

    A host that configured the root logger already (gunicorn with gunicorn.conf.py) is left as
    it is. Calling it again replaces the handler it added before."""
    form = app.config.get("LOG_FORMAT")
    if not form:
        return None
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "gonggan", False):
            root.removeHandler(handler)
    if root.handlers and stream is None:
        return None
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if form == "json" else TextFormatter())
    handler.gonggan = True  # type: ignore[attr-defined]  # marks our handler (see above)
    root.addHandler(handler)
    root.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    if form == "json":
        from flask.logging import default_handler

        app.logger.removeHandler(default_handler)  # its lines would not be JSON
    return handler


# --------------------------------------------------------------------------- requests
def register(app: Flask) -> None:
    """Give every request its id (first of the request hooks, so every record has it)."""
    install_record_factory()

    # Kept in the WSGI environ, not on `g`: `g` belongs to the application context, which a
    # request context made inside a request (email rendering builds URLs in one) shares, and
    # that context's teardown must not end the outer request's id.
    @app.before_request
    def _name_the_request() -> None:
        request_id = None
        if app.config.get("PROXY_FIX_X_FOR"):
            # Only a proxy we trust may name the request; from anyone else the header could
            # be chosen to confuse whoever reads the logs.
            sent = request.headers.get(HEADER, "")
            if _ACCEPTABLE_ID.fullmatch(sent):
                request_id = sent
        request_id = request_id or new_id()
        request.environ[_ENVIRON] = (request_id, _request_id.set(request_id),
                                     time.perf_counter())

    @app.after_request
    def _echo_and_log(response):
        named = request.environ.get(_ENVIRON)
        if named is None:
            return response
        request_id, _token, started = named
        response.headers[HEADER] = request_id
        if app.config.get("LOG_REQUESTS"):
            rule = request.url_rule.rule if request.url_rule else None
            # Probes come every few seconds: their lines only at DEBUG, unless they fail.
            probe = request.blueprint == "health" and response.status_code < 500
            # The route, not the path: paths carry feed tokens and other secrets.
            request_log.log(
                logging.DEBUG if probe else logging.INFO,
                "%s %s %s", request.method, rule or "(no route)", response.status_code,
                extra={"method": request.method, "route": rule, "status": response.status_code,
                       "duration_ms": round((time.perf_counter() - started) * 1000, 1)},
            )
        return response

    @app.teardown_request
    def _forget(_exc) -> None:
        named = request.environ.pop(_ENVIRON, None)
        if named is not None:
            _request_id.reset(named[1])
