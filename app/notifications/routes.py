"""Inbox, preferences and the development mail page (placeholder until the pages land)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("notifications", __name__)


@bp.get("/notifications")
def inbox():
    return ""


@bp.get("/account/notifications")
def preferences():
    return ""
