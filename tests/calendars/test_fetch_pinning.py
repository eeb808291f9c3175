"""DNS rebinding: the address that passed the check is the one connected to.

Two servers on the same port: one on 127.0.0.2, which these tests let pass as a public address,
and one on 127.0.0.1 (Linux routes all of 127/8 to the loopback). The resolver (socket.getaddrinfo
for the test's names) answers 127.0.0.2 first and 127.0.0.1 after that — an attacker's DNS. The
fetch must reach 127.0.0.2, still naming the host it was given, and the 127.0.0.1 server must
hear nothing. For https a throwaway CA (trustme) shows that SNI and the certificate check use
the host name while the connection goes to the pinned address."""

from __future__ import annotations

import socket
import ssl
from contextlib import ExitStack

import pytest
import trustme

from app.calendars import fetch as fetch_module
from app.calendars.fetch import fetch, is_public_address
from app.calendars.models import ExternalCalendar
from app.errors import ValidationFailed
from tests.calendars.test_import_fetch import GOOGLE, Server, serving

PUBLIC = "127.0.0.2"  # counts as public in these tests
NAME = "calendar.example.org"
OTHER = "other.example.org"


@pytest.fixture
def refuse_private(app, monkeypatch):
    monkeypatch.setitem(app.config, "CALENDAR_FETCH_ALLOW_PRIVATE", False)
    monkeypatch.setitem(app.config, "CALENDAR_FETCH_TIMEOUT", 2)
    monkeypatch.setattr(
        fetch_module, "is_public_address", lambda a: a == PUBLIC or is_public_address(a)
    )


def _twins(make) -> tuple[Server, Server]:
    """A server on PUBLIC and one on 127.0.0.1 listening on the same port."""
    for _attempt in range(20):
        public = make(PUBLIC, 0)
        try:
            local = make("127.0.0.1", public.server_port)
        except OSError:  # that port is taken on 127.0.0.1: try another
            public.server_close()
            continue
        return public, local
    raise RuntimeError("no port free on both addresses")


@pytest.fixture
def twins():
    public, local = _twins(lambda host, port: Server((host, port)))
    with serving(public), serving(local):
        yield public, local


@pytest.fixture
def resolver(monkeypatch):
    """`answers(name=[first answer, second answer, ...])`: each lookup of a name gets the next
    answer (the last one from then on); other names are resolved for real. Returns the names
    looked up, in order."""
    real = socket.getaddrinfo
    lookups: list[str] = []
    table: dict[str, list[list[str]]] = {}

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in table:
            return real(host, port, *args, **kwargs)
        n = lookups.count(host)
        lookups.append(host)
        answer = table[host][min(n, len(table[host]) - 1)]
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
             (a, port))
            for a in answer
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    def answers(**names):
        table.update({name.replace("_", "."): value for name, value in names.items()})
        return lookups

    return answers


def test_the_connection_goes_to_the_address_that_was_checked(refuse_private, twins, resolver):
    public, local = twins
    lookups = resolver(calendar_example_org=[[PUBLIC], ["127.0.0.1"]])
    port = public.server_port
    assert fetch(f"http://{NAME}:{port}/cal.ics") == GOOGLE
    assert public.requests == [(f"{NAME}:{port}", "/cal.ics")]
    assert local.requests == []
    assert lookups == [NAME]  # resolved once, never again


def test_every_redirect_hop_is_resolved_once_checked_and_pinned(refuse_private, twins,
                                                                resolver):
    public, local = twins
    lookups = resolver(calendar_example_org=[[PUBLIC], ["127.0.0.1"]],
                       other_example_org=[[PUBLIC], ["127.0.0.1"]])
    port = public.server_port
    assert fetch(f"http://{NAME}:{port}/away") == GOOGLE
    assert public.requests == [(f"{NAME}:{port}", "/away"), (f"{OTHER}:{port}", "/cal.ics")]
    assert local.requests == []
    assert lookups == [NAME, OTHER]


def test_a_name_with_any_private_address_is_refused_before_connecting(refuse_private, twins,
                                                                      resolver, english):
    public, local = twins
    lookups = resolver(calendar_example_org=[[PUBLIC, "127.0.0.1"]])
    with pytest.raises(ValidationFailed, match=f"{NAME} points into a private") as caught:
        fetch(f"http://{NAME}:{public.server_port}/cal.ics")
    assert caught.value.errors == {"url": [caught.value.message]}
    assert public.requests == local.requests == []
    assert lookups == [NAME]


def test_a_redirect_to_a_private_address_is_refused(refuse_private, twins, resolver, english):
    public, local = twins
    resolver(calendar_example_org=[[PUBLIC]])
    with pytest.raises(ValidationFailed, match="127.0.0.1 points into a private"):
        fetch(f"http://{NAME}:{public.server_port}/to-loopback")
    assert public.requests == [(f"{NAME}:{public.server_port}", "/to-loopback")]
    assert local.requests == []


def test_a_redirect_to_a_name_that_rebinds_to_a_private_address_is_refused(
    refuse_private, twins, resolver, english
):
    public, local = twins
    resolver(calendar_example_org=[[PUBLIC]], other_example_org=[["127.0.0.1"]])
    with pytest.raises(ValidationFailed, match=f"{OTHER} points into a private"):
        fetch(f"http://{NAME}:{public.server_port}/away")
    assert local.requests == []


def test_the_hourly_sync_is_pinned_too(refuse_private, twins, resolver, runner, db, factories):
    public, local = twins
    resolver(calendar_example_org=[[PUBLIC], ["127.0.0.1"]])
    space = factories.space(owner=factories.org())
    ext = ExternalCalendar(space_id=space.id, name="학사일정",
                           url=f"http://{NAME}:{public.server_port}/cal.ics")
    db.session.add(ext)
    db.session.commit()
    result = runner.invoke(args=["calendars", "sync"])
    assert "calendars=1 failed=0" in result.output, result.output
    assert public.requests == [(f"{NAME}:{public.server_port}", "/cal.ics")]
    assert local.requests == []


def test_allowing_private_addresses_still_pins_the_connection(app, monkeypatch, twins,
                                                              resolver):
    monkeypatch.setitem(app.config, "CALENDAR_FETCH_ALLOW_PRIVATE", True)
    public, local = twins
    resolver(calendar_example_org=[[PUBLIC], ["127.0.0.1"]])
    assert fetch(f"http://{NAME}:{public.server_port}/cal.ics") == GOOGLE
    assert local.requests == []


def test_an_ipv6_literal(app, monkeypatch):
    monkeypatch.setitem(app.config, "CALENDAR_FETCH_ALLOW_PRIVATE", True)
    try:
        server = Server(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with serving(server):
        assert fetch(f"http://[::1]:{server.server_port}/cal.ics") == GOOGLE
        assert server.requests == [(f"[::1]:{server.server_port}", "/cal.ics")]


# https --------------------------------------------------------------------------------------


@pytest.fixture
def ca(monkeypatch, tmp_path):
    authority = trustme.CA()
    path = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    monkeypatch.setattr(fetch_module, "CA_CERTS", str(path))
    return authority


def _tls(authority, *names):
    """A server factory whose certificate (from `authority`) is valid for `names` only."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert(*names).configure_cert(context)
    seen: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: seen.append(name)

    def make(host, port):
        server = Server((host, port))
        server.socket = context.wrap_socket(server.socket, server_side=True)
        server.sni = seen
        return server

    return make


@pytest.fixture
def tls_twins(ca):
    stack = ExitStack()

    def start(*names):
        public, local = _twins(_tls(ca, *names))
        stack.enter_context(serving(public))
        stack.enter_context(serving(local))
        return public, local

    with stack:
        yield start


def test_https_names_the_host_for_sni_and_the_certificate_while_pinned(refuse_private,
                                                                       tls_twins, resolver):
    public, local = tls_twins(NAME)
    lookups = resolver(calendar_example_org=[[PUBLIC], ["127.0.0.1"]])
    port = public.server_port
    assert fetch(f"webcal://{NAME}:{port}/cal.ics") == GOOGLE
    assert public.requests == [(f"{NAME}:{port}", "/cal.ics")]
    assert NAME in public.sni
    assert local.requests == []
    assert lookups == [NAME]


@pytest.mark.parametrize("names", [(OTHER,), (PUBLIC,)], ids=["another-name", "the-address"])
def test_https_refuses_a_certificate_not_for_the_host_name(refuse_private, tls_twins, resolver,
                                                           english, names):
    """A certificate for another name, or for the very address connected to, is refused: the
    check is against the name in the URL."""
    public, local = tls_twins(*names)
    resolver(calendar_example_org=[[PUBLIC]])
    with pytest.raises(ValidationFailed, match=f"certificate could not be verified for {NAME}"):
        fetch(f"https://{NAME}:{public.server_port}/cal.ics")
    assert public.requests == local.requests == []


def test_https_refuses_a_certificate_from_an_unknown_authority(refuse_private, tls_twins,
                                                               resolver, english, monkeypatch):
    public, _local = tls_twins(NAME)
    monkeypatch.setattr(fetch_module, "CA_CERTS", fetch_module.certifi.where())
    resolver(calendar_example_org=[[PUBLIC]])
    with pytest.raises(ValidationFailed, match="certificate could not be verified"):
        fetch(f"https://{NAME}:{public.server_port}/cal.ics")
    assert public.requests == []
