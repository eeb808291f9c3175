"""Pages of a list answer: `{"items", "page", "per_page", "total"}`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select

from app.extensions import db


def paginate(query: Select[Any], *, page: int, per_page: int) -> tuple[list[Any], int]:
    """The rows of one page of `query` (none past the last page) and how many it has in all."""
    result = db.paginate(query, page=page, per_page=per_page, error_out=False)
    total = result.total
    assert total is not None  # db.paginate counts unless told not to (count=False)
    return list(result.items), total


def page(items: list[Any], *, page: int, per_page: int, total: int) -> dict[str, Any]:
    """A list answer: the page's items (what the page schema's `items` dumps) and where it is."""
    return {"items": items, "page": page, "per_page": per_page, "total": total}
