"""CSV for people who open it in a spreadsheet: the one writer every download uses.

UTF-8 with a byte-order mark (so Excel reads Korean), CRLF line ends, and no cell a spreadsheet
would run as a formula: names of spaces and organisations are typed by their managers, so a
text starting with =, +, -, @, a tab or a carriage return gets a leading apostrophe (OWASP's
advice for CSV injection). Numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

BOM = "\ufeff"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert(value):
    """`value`, with an apostrophe in front when it is text a spreadsheet would evaluate."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(header: Sequence, rows: Iterable[Sequence]) -> bytes:
    """The header and the rows as CSV bytes, every text cell made inert."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([inert(str(cell)) for cell in header])
    for row in rows:
        writer.writerow([inert(cell) for cell in row])
    return (BOM + out.getvalue()).encode("utf-8")
