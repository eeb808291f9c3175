"""Fetching a calendar a manager gave by URL, without letting the URL reach inside our network.

Only http and https. For every hop (the address, then each redirect, at most MAX_REDIRECTS) the
host is resolved exactly once; every address it resolves to must be public (not private,
loopback, link-local — cloud metadata at 169.254.169.254 — shared, multicast, reserved or
unspecified), and the connection goes to one of *those* addresses: nothing resolves the name
again, so a resolver that answers a public address to the check and 127.0.0.1 to the connection
(DNS rebinding) gets nowhere. The request still names the host (Host header; for https the TLS
SNI name and the certificate check), so virtual hosts and certificates work as usual. urllib3
is used directly for that, with no proxy from the environment.

Connect and read time-outs come from CALENDAR_FETCH_TIMEOUT (seconds, default 10), the whole
download is bounded by a few of those, and the body by MAX_BYTES while it streams.

CALENDAR_FETCH_ALLOW_PRIVATE (default False) lifts the address checks, not the pinning: for
tests against a local server and for intranet deployments that want it. Errors are
ValidationFailed with a message for the manager.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urljoin

import certifi
from flask import current_app
from flask_babel import gettext as _
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, Timeout
from urllib3.exceptions import (
    HTTPError,
    LocationParseError,
    NewConnectionError,
    ProtocolError,
    SSLError,
)
from urllib3.exceptions import TimeoutError as Urllib3Timeout
from urllib3.util import make_headers, parse_url

from app.calendars.imports import MAX_BYTES, import_calendar, record_failure, too_large_message
from app.calendars.models import ExternalCalendar
from app.db import serialized_writes, utcnow
from app.errors import ValidationFailed
from app.extensions import db

MAX_REDIRECTS = 3
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
CHUNK = 64 * 1024
USER_AGENT = "Gonggan calendar import (+https://gonggan.kr)"
CA_CERTS = certifi.where()  # the same trust store requests used


def _fail(message: str) -> ValidationFailed:
    return ValidationFailed.single(message, "url")


def _private(host: str) -> ValidationFailed:
    return _fail(
        _(
            "The address %(host)s points into a private or local network; only public "
            "internet addresses can be fetched.",
            host=host,
        )
    )


def _no_answer(timeout: float) -> ValidationFailed:
    return _fail(_("The calendar server did not answer within %(n)d seconds.", n=timeout))


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


@dataclass(frozen=True)
class Target:
    """One hop: what to ask for and whom to name, before anything is resolved."""

    url: str  # normalised, for resolving a redirect's Location against
    scheme: str
    host: str  # lower case, IDNA; an IPv6 literal without its brackets
    port: int
    request_uri: str  # path and query, percent-encoded
    auth: str | None

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def target(url: str) -> Target:
    """The hop `url` asks for, or ValidationFailed if it is not an http(s) URL."""
    url = normalise(url)
    try:
        parts = parse_url(url)
    except (LocationParseError, ValueError, UnicodeError) as exc:
        raise _fail(_("That address is not a valid URL.")) from exc
    scheme = (parts.scheme or "").lower()
    if scheme not in ("http", "https"):
        raise _fail(_("Only http:// and https:// addresses can be fetched."))
    host = (parts.host or "").strip("[]")
    if not host or parts.port == 0:
        raise _fail(_("That address is not a valid URL."))
    return Target(
        url=url,
        scheme=scheme,
        host=host,
        port=parts.port or (443 if scheme == "https" else 80),
        request_uri=parts.request_uri,
        auth=unquote(parts.auth) if parts.auth else None,
    )


def check_url(url: str) -> str:
    """`url` in normal form if it has the form of an address we fetch; ValidationFailed
    otherwise. Where it points is checked when it is fetched."""
    return target(url).url


def resolve(hop: Target, *, allow_private: bool) -> list[str]:
    """The addresses `hop.host` resolves to — the only resolution of this hop. Every one must
    be public unless `allow_private`."""
    try:
        infos = socket.getaddrinfo(hop.host, hop.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise _fail(_("The host %(host)s could not be found.", host=hop.host)) from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise _fail(_("The host %(host)s could not be found.", host=hop.host))
    if not allow_private and not all(is_public_address(a) for a in addresses):
        raise _private(hop.host)
    return addresses


def _pool(hop: Target, address: str, timeout: Timeout) -> HTTPConnectionPool:
    """A pool that connects to `address` and nowhere else, naming `hop.host` to the server."""
    common: dict[str, Any] = {"port": hop.port, "timeout": timeout, "retries": False, "maxsize": 1}
    if hop.scheme == "https":
        # The TLS library checks the certificate against server_hostname (check_hostname on).
        return HTTPSConnectionPool(
            address, server_hostname=hop.host, cert_reqs="CERT_REQUIRED", ca_certs=CA_CERTS,
            **common,
        )
    return HTTPConnectionPool(address, **common)


def _request(hop: Target, addresses: list[str], timeout: float, deadline: float):
    """(pool, response) of a GET of `hop` sent to the first of `addresses` that accepts."""
    headers = {
        "Host": hop.host_header,
        "User-Agent": USER_AGENT,
        "Accept": "text/calendar, */*;q=0.5",
        "Accept-Encoding": "gzip, deflate",
    }
    if hop.auth:
        headers.update(make_headers(basic_auth=hop.auth))
    for index, address in enumerate(addresses):
        left = deadline - time.monotonic()
        if left <= 0:
            raise _no_answer(timeout)
        pool = _pool(hop, address, Timeout(connect=min(timeout, left), read=min(timeout, left)))
        try:
            response = pool.urlopen(
                "GET", hop.request_uri, headers=headers, redirect=False, retries=False,
                preload_content=False, assert_same_host=False,
            )
        except NewConnectionError as exc:  # refused or unroutable: the next address, if any
            pool.close()
            if index + 1 < len(addresses):
                continue
            raise _fail(_("The calendar server could not be reached.")) from exc
        except Urllib3Timeout as exc:
            pool.close()
            raise _no_answer(timeout) from exc
        except SSLError as exc:
            pool.close()
            raise _fail(
                _("The calendar server's certificate could not be verified for %(host)s.",
                  host=hop.host)
            ) from exc
        except (HTTPError, OSError) as exc:
            pool.close()
            raise _fail(_("The calendar server could not be reached.")) from exc
        return pool, response
    raise _fail(_("The calendar server could not be reached."))


def fetch(url: str) -> bytes:
    """The body at `url` (following up to MAX_REDIRECTS redirects), or ValidationFailed."""
    config = current_app.config
    timeout = float(config.get("CALENDAR_FETCH_TIMEOUT", 10))
    allow_private = bool(config.get("CALENDAR_FETCH_ALLOW_PRIVATE", False))
    deadline = time.monotonic() + 3 * timeout
    for _hop in range(MAX_REDIRECTS + 1):
        hop = target(url)
        addresses = resolve(hop, allow_private=allow_private)
        pool, response = _request(hop, addresses, timeout, deadline)
        try:
            location = response.headers.get("Location")
            if response.status in REDIRECT_STATUSES and location:
                url = urljoin(hop.url, location)
                continue
            if response.status != 200:
                raise _fail(
                    _(
                        "The calendar server answered with HTTP status %(status)d.",
                        status=response.status,
                    )
                )
            return _read(response, deadline, timeout)
        finally:
            response.close()
            pool.close()
    raise _fail(_("The address redirects too many times."))


def _read(response, deadline: float, timeout: float) -> bytes:
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > MAX_BYTES:
        raise _fail(too_large_message())
    body = bytearray()
    try:
        for chunk in response.stream(CHUNK, decode_content=True):
            body.extend(chunk)
            if len(body) > MAX_BYTES:
                raise _fail(too_large_message())
            if time.monotonic() > deadline:
                raise _no_answer(timeout)
    except (Urllib3Timeout, ProtocolError, OSError) as exc:
        raise _no_answer(timeout) from exc
    except HTTPError as exc:  # a body that does not decode
        raise _fail(_("The calendar server could not be reached.")) from exc
    return bytes(body)


def sync_all(echo) -> int:
    """`flask calendars sync`: fetch and import every calendar that has a URL, each in its own
    transaction (the fetch outside any), reporting through `echo`. A calendar that fails keeps
    its closures and records the error; the others go on. Returns how many failed."""
    from sqlalchemy import select


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
