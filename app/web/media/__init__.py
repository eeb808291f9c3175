"""Serving stored picture files (app.media.storage) to browsers."""

from flask import Blueprint

bp = Blueprint("media", __name__)

from app.web.media import routes  # noqa: E402,F401
