"""Findings 7 and 8: security headers on every response, pages with nothing inline for the
policy to refuse, and CSV downloads that spreadsheets do not run as formulas."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from app import create_app
from app.db import utcnow
from app.payments import services as payment_services
from tests.conftest import next_weekday

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "templates"


def _policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    out = {}
    for part in header.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


@pytest.mark.parametrize("path", ["/", "/spaces/", "/login", "/api/v1/spaces", "/nope"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    policy = _policy(response)
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    assert "https://tile.openstreetmap.org" in policy["img-src"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in response.headers  # not in development


def test_production_sends_hsts_over_https():
    app = create_app("production", {"SQLALCHEMY_DATABASE_URI": "sqlite://",
                                    "SECRET_KEY": "z" * 48,
                                    "BASE_URL": "https://gonggan.example"})
    response = app.test_client().get("/static/css/app.css", base_url="https://gonggan.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=315")  # a year


def test_no_template_has_inline_script_handlers_or_styles():
    found = []
    for path in TEMPLATES.rglob("*.html"):
        if "notifications/kinds" in str(path) or path.name == "email.html":
            continue  # emails: never served as pages
        text = path.read_text()
        for match in re.finditer(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", text):
            found.append(f"{path.name}: {match.group(0)}")
        found += [f"{path.name}: {m.group(0)}" for m in re.finditer(r"\son[a-z]+=\"", text)]
        found += [f"{path.name}: {m.group(0)}" for m in re.finditer(r"\sstyle=\"", text)]
        found += [f"{path.name}: <style>" for _ in re.finditer(r"<style", text)]
    assert not found


def test_the_payout_csv_does_not_run_formulas_in_names(client, db, factories, login):
    space = factories.space(name='=HYPERLINK("http://evil.example","Click")',
                            price_per_hour=10_000)
    manager = factories.manager(space.owner)
    start = next_weekday(2, 10)
    booking = factories.booking(space, factories.user(), start=start,
                                end=start + timedelta(hours=1))
    payment_services.record_offline(booking, manager, method="cash",
                                    amount=booking.price_amount, reference="영수증")
    db.session.commit()
    login(manager)
    today = utcnow().date()
    response = client.get(f"/manage/organisations/{space.owner.id}/payouts?format=csv"
                          f"&from={(today - timedelta(days=1)).isoformat()}"
                          f"&to={(today + timedelta(days=1)).isoformat()}")
    text = response.get_data(as_text=True)
    assert "'=HYPERLINK" in text
    assert ',=HYPERLINK' not in text and '"=HYPERLINK' not in text
