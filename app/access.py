"""The one access pattern of every page and API endpoint: load the object or 404, then ask the
model (`can_view`, `can_manage`, `can_decide_now`, …) whether the current person may act.

Who may not even see an object gets 404 — whether it exists is none of their business; who
may see it but not do this gets 403 (the resident of a booking asking to approve it).
"""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import select

from app.db import MAX_DB_INT
from app.errors import NotAllowed
from app.extensions import db


def load_or_404(model, ident: int, *, options=()):
    """The row of `model` with id `ident`, loaded with `options`, or 404 (also for ids beyond
    what the column holds)."""
    if not 0 < ident <= MAX_DB_INT:
        abort(404)
    row = db.session.scalars(select(model).where(model.id == ident).options(*options)).first()
    if row is None:
        abort(404)
    return row


def require(row, can: str, *, visible: str | None = "can_view", message: str | None = None):
    """`row` if `row.<can>(current_user)`; else 403 for whoever passes `row.<visible>` (with
    `message`, as a NotAllowed the API words), 404 for everyone else."""
    if getattr(row, can)(current_user):
        return row
    if visible is not None and getattr(row, visible)(current_user):
        if message:
            raise NotAllowed(message)
        abort(403)
    abort(404)


def load(model, ident: int, can: str, *, options=(), visible: str | None = "can_view",
         message: str | None = None):
    """`load_or_404` then `require`: the object, if the current person may `can` it."""
    return require(load_or_404(model, ident, options=options), can, visible=visible,
                   message=message)
