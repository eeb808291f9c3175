"""The privacy tests read English messages, whatever the Korean catalog holds."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _english(app, monkeypatch):
    monkeypatch.setattr(app.extensions["babel"], "locale_selector", lambda: "en")
