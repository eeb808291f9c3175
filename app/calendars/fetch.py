"""Fetching a calendar a manager gave by URL, without letting the URL reach inside our network.

Only http and https; the host is resolved and every address it resolves to must be public (not
private, loopback, link-local — cloud metadata at 169.254.169.254 — shared, multicast, reserved
or unspecified); the address actually connected to is checked again before the body is read
(so a DNS answer that changes between the check and the connection is caught). Redirects are
followed by hand, each target checked the same way, at most MAX_REDIRECTS. Connect and read
time-outs come from CALENDAR_FETCH_TIMEOUT (seconds, default 10), the whole download is bounded
by a few of those, and the body by MAX_BYTES while it streams.

CALENDAR_FETCH_ALLOW_PRIVATE (default False) lifts the address checks: for tests against a
local server and for intranet deployments that want it. Errors are ValidationFailed with a
message for the manager.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from urllib.parse import urljoin, urlsplit

import requests
from flask import current_app
from flask_babel import gettext as _

from app.calendars.imports import MAX_BYTES, too_large_message
from app.errors import ValidationFailed

MAX_REDIRECTS = 3
CHUNK = 64 * 1024
USER_AGENT = "Gonggan calendar import (+https://gonggan.kr)"


def _fail(message: str) -> ValidationFailed:
    return ValidationFailed.single(message, "url")


def is_public_address(address: str) -> bool:
    """Whether an IP address (text, IPv6 zone allowed) is one the public internet routes."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            ip = mapped
    return bool(
        ip.is_global
        and not (
            ip.is_private
            or ip.is_loopback
            or ip.is_link_local
            or ip.is_multicast
            or ip.is_reserved
            or ip.is_unspecified
        )
    )


def normalise(url: str) -> str:
    """Calendar apps hand out webcal:// links: the same address over https."""
    url = (url or "").strip()
    if url[:9].lower() == "webcal://":
        url = "https://" + url[9:]
    return url


def check_url(url: str, *, allow_private: bool) -> str:
    """`url` if it may be fetched; ValidationFailed otherwise."""
    url = normalise(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _fail(_("That address is not a valid URL.")) from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise _fail(_("Only http:// and https:// addresses can be fetched."))
    host = parts.hostname
    if not host:
        raise _fail(_("That address is not a valid URL."))
    if allow_private:
        return url
    try:
        infos = socket.getaddrinfo(
            host, port or (443 if parts.scheme.lower() == "https" else 80), type=socket.SOCK_STREAM
        )
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise _fail(_("The host %(host)s could not be found.", host=host)) from exc
    addresses = {info[4][0] for info in infos}
    if not addresses or not all(is_public_address(a) for a in addresses):
        raise _fail(
            _(
                "The address %(host)s points into a private or local network; only public "
                "internet addresses can be fetched.",
                host=host,
            )
        )
    return url


def _peer_address(response) -> str | None:
    """The IP address the response came from, when the connection still says."""
    raw = getattr(response, "raw", None)
    connection = getattr(raw, "connection", None) or getattr(raw, "_connection", None)
    candidates = [getattr(connection, "sock", None)]
    # urllib3 hands the socket over to http.client's response once the headers are read.
    fp = getattr(getattr(raw, "_fp", None), "fp", None)
    candidates.append(getattr(getattr(fp, "raw", None), "_sock", None))
    for sock in candidates:
        if sock is None:
            continue
        try:
            return sock.getpeername()[0]
        except (OSError, AttributeError, IndexError):
            continue
    return None


def _open(session: requests.Session, url: str, timeout: float) -> requests.Response:
    return session.get(
        url,
        stream=True,
        allow_redirects=False,
        timeout=(timeout, timeout),
        headers={"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.5"},
    )


def fetch(url: str) -> bytes:
    """The body at `url` (following up to MAX_REDIRECTS redirects), or ValidationFailed."""
    config = current_app.config
    timeout = float(config.get("CALENDAR_FETCH_TIMEOUT", 10))
    allow_private = bool(config.get("CALENDAR_FETCH_ALLOW_PRIVATE", False))
    deadline = time.monotonic() + 3 * timeout
    session = requests.Session()
    session.trust_env = False  # no proxies or .netrc from the environment: we check the peer
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            url = check_url(url, allow_private=allow_private)
            try:
                response = _open(session, url, timeout)
            except requests.Timeout as exc:
                raise _fail(
                    _("The calendar server did not answer within %(n)d seconds.", n=timeout)
                ) from exc
            except requests.RequestException as exc:
                raise _fail(_("The calendar server could not be reached.")) from exc
            with response:
                peer = _peer_address(response)
                if not allow_private and peer is not None and not is_public_address(peer):
                    raise _fail(
                        _(
                            "The address %(host)s points into a private or local network; "
                            "only public internet addresses can be fetched.",
                            host=urlsplit(url).hostname,
                        )
                    )
                if response.is_redirect:
                    location = response.headers.get("Location", "")
                    url = urljoin(url, location)
                    continue
                if response.status_code != 200:
                    raise _fail(
                        _(
                            "The calendar server answered with HTTP status %(status)d.",
                            status=response.status_code,
                        )
                    )
                return _read(response, deadline, timeout)
        raise _fail(_("The address redirects too many times."))
    finally:
        session.close()


def _read(response: requests.Response, deadline: float, timeout: float) -> bytes:
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > MAX_BYTES:
        raise _fail(too_large_message())
    body = bytearray()
    try:
        for chunk in response.iter_content(CHUNK):
            body.extend(chunk)
            if len(body) > MAX_BYTES:
                raise _fail(too_large_message())
            if time.monotonic() > deadline:
                raise _fail(
                    _("The calendar server did not answer within %(n)d seconds.", n=timeout)
                )
    except requests.RequestException as exc:
        raise _fail(
            _("The calendar server did not answer within %(n)d seconds.", n=timeout)
            if isinstance(exc, requests.Timeout | requests.exceptions.ConnectionError)
            else _("The calendar server could not be reached.")
        ) from exc
    return bytes(body)


def sync_all(echo) -> int:
    """`flask calendars sync`: fetch and import every calendar that has a URL, each in its own
    transaction (the fetch outside any), reporting through `echo`. A calendar that fails keeps
    its closures and records the error; the others go on. Returns how many failed."""
    from sqlalchemy import select

    from app.calendars.imports import import_calendar, record_failure
    from app.calendars.models import ExternalCalendar
    from app.db import serialized_writes, utcnow
    from app.extensions import db

    ids = list(
        db.session.scalars(
            select(ExternalCalendar.id)
            .where(ExternalCalendar.url.is_not(None))
            .order_by(ExternalCalendar.id)
        )
    )
    db.session.rollback()
    failed = 0
    for ext_id in ids:
        ext = db.session.get(ExternalCalendar, ext_id)
        if ext is None or not ext.url:
            continue
        label = f"#{ext.id} {ext.name}"
        url = ext.url
        db.session.rollback()
        try:
            data = fetch(url)
            with serialized_writes():
                ext = db.session.get(ExternalCalendar, ext_id)
                if ext is None:
                    db.session.rollback()
                    continue
                result = import_calendar(ext, data, utcnow())
                db.session.commit()
        except Exception as exc:  # noqa: BLE001 - one calendar's failure must not stop the rest
            db.session.rollback()
            message = exc.message if isinstance(exc, ValidationFailed) else (
                f"{exc.__class__.__name__}: {exc}"
            )
            failed += 1
            with serialized_writes():
                ext = db.session.get(ExternalCalendar, ext_id)
                if ext is not None:
                    record_failure(ext, message)
                db.session.commit()
            echo(f"{label}: failed: {message}")
            continue
        echo(
            f"{label}: events={result['events']} added={result['added']} "
            f"updated={result['updated']} removed={result['removed']} "
            f"collisions={len(result['collisions'])}"
        )
    echo(f"calendars={len(ids)} failed={failed}")
    return failed
