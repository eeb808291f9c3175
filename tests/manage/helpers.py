"""Small helpers for reading pages in tests."""

from __future__ import annotations

import re
from html import unescape


def text_of(response) -> str:
    """The visible text of a page, tags removed and whitespace collapsed."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def calendar_cell(response, local_start: str) -> tuple[str, str]:
    """(classes, inner HTML) of the calendar cell whose local start is `local_start`
    ("2026-03-02T10:00")."""
    html = response.get_data(as_text=True)
    match = re.search(
        r'<td class="([^"]*)" data-start="' + re.escape(local_start) + r'">(.*?)</td>', html, re.S
    )
    assert match, f"no calendar cell starting {local_start}"
    return match.group(1), match.group(2)
