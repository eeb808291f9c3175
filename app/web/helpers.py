"""Small helpers shared by the pages."""

from __future__ import annotations

from flask import request

from app.db import db_int
from app.extensions import db


def paginate(query, *, per_page: int, count: bool = True):
    """`db.paginate` for the pages: the page number comes from the query string through
    `db_int`, so a number nobody means gives an empty page rather than a database error."""
    page = request.args.get("page", 1, type=db_int)
    return db.paginate(query, page=page, per_page=per_page, error_out=False, count=count)
