"""Statistics as files: CSV (one table) and XLSX (several tables, one sheet each), and the
suppression of small counts for open data.

The tables come from the query layer (app.stats.queries) and hold no personal data; these
functions only write what they are given, by column kind (app.stats.tables.KINDS):

- CSV: UTF-8 with a byte order mark (Excel then reads Korean correctly), the header is the
  column labels in the current language, numbers unformatted: hours with 1 decimal, percent as
  percent points with 1 decimal (0.125 → 12.5, the label says "(%)"), money in whole won,
  dates ISO, an empty cell for no value; a text that a spreadsheet would take for a formula
  (=, +, -, @) gets a leading apostrophe.
- XLSX: a first sheet "About" (what, which filters, which period, when generated), then one
  sheet per table with a bold header, typed cells (numbers as numbers, percent as a fraction
  with a % format, money with a ₩ format, dates as dates) and column widths.

Suppression (`suppress`, for open data): in every column marked `count=True`, a value from 1
to 4 becomes the text "<5"; 0 and 5 or more stay. In a row where a count was suppressed, every
percent column is emptied too, since a rate of a known total can give the small count back
(1 of 3 no-shows = 33.3 %). With `within` (the per-space table, whose district totals are
published beside it), a column in which a district has exactly one suppressed count gets a
second cell of that district hidden as well — its smallest other count, written "x" — so the
district's total minus the counts shown never gives the small one back (complementary
suppression).
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import gettext as _

from app import csvfile
from app.stats.tables import Column, Table

ZONE = ZoneInfo("Asia/Seoul")  # the generation time is written in the platform's zone
SMALL = 5  # counts from 1 to SMALL - 1 are suppressed
SUPPRESSED = "<5"
HIDDEN = "x"  # hidden so that a suppressed count cannot be worked out from a total


# -- suppression -------------------------------------------------------------------------------


def is_small(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < SMALL


def suppress(table: Table, within: str | None = None) -> Table:
    """A copy of the table for open data: counts from 1 to 4 written "<5", and the percent
    columns of such a row emptied (None) so a rate cannot give the count back. `within`: the
    column whose groups have published totals (complementary suppression, see above)."""
    counts = [c.key for c in table.columns if c.count]
    rates = [c.key for c in table.columns if c.kind == "percent" and not c.count]
    rows = [dict(row) for row in table.rows]
    for row in rows:
        for key in counts:
            if is_small(row.get(key)):
                row[key] = SUPPRESSED
    if within is not None:
        groups: dict = {}
        for i, row in enumerate(rows):
            groups.setdefault(row.get(within), []).append(i)
        for members in groups.values():
            for key in counts:
                hidden = [i for i in members if isinstance(rows[i].get(key), str)]
                shown = [i for i in members if isinstance(rows[i].get(key), int)]
                if len(hidden) == 1 and shown:
                    smallest = min(shown, key=lambda i: (rows[i][key], i))
                    rows[smallest][key] = HIDDEN
    for row in rows:
        if any(isinstance(row.get(key), str) for key in counts):
            for key in rates:
                row[key] = None
    return replace(table, rows=rows)


# -- CSV ---------------------------------------------------------------------------------------


def label(column: Column) -> str:
    text = str(column.label)
    if column.kind == "percent":
        return f"{text} (%)"
    return text


def csv_value(column: Column, value) -> str | int | float:
    """A cell as CSV writes it: unformatted numbers, ISO dates, "" for no value."""
    if value is None:
        return ""
    if isinstance(value, str) and column.kind not in ("text", "date"):
        return value  # "<5" after suppression
    kind = column.kind
    if kind == "percent":
        return round(float(value) * 100, 1)
    if kind == "hours":
        return round(float(value), 1)
    if kind in ("int", "money", "minutes"):
        return int(value)
    if kind == "date":
        return value.isoformat() if isinstance(value, date) else str(value)
    return str(value)  # made inert by csvfile (XLSX cells are written as strings anyway)


def to_csv(table: Table, *, locale: str | None = None) -> bytes:
    """One table as CSV bytes (see app.csvfile), header in `locale` (default: the current
    language)."""
    if locale:
        with force_locale(locale):
            header = [label(c) for c in table.columns]
    else:
        header = [label(c) for c in table.columns]
    rows = ([csv_value(c, row.get(c.key)) for c in table.columns] for row in table.rows)
    return csvfile.to_csv(header, rows)


# -- XLSX --------------------------------------------------------------------------------------

_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def sheet_name(title: str, taken: set[str]) -> str:
    """A valid, unique Excel sheet name: no []:*?/\\, not starting or ending with an apostrophe,
    at most 31 characters, unique ignoring case (Excel's rule), never "History" (reserved)."""
    name = _FORBIDDEN.sub(" ", title).strip().strip("'").strip() or "Sheet"
    name = name[:31].rstrip()
    if name.lower() == "history":
        name = "History "
    base, n = name, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name = base[: 31 - len(suffix)].rstrip() + suffix
        n += 1
    taken.add(name.lower())
    return name


def _width(text: str) -> int:
    """Display width: Korean (wide) characters count twice."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _as_date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def to_xlsx(tables: list[Table], *, about: list[tuple[str, str]] | None = None) -> bytes:
    """Tables as an XLSX workbook: "About" first (the `about` pairs: filters, period, …, and the
    generation time), then one sheet per table."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False,
                                        "strings_to_formulas": False, "strings_to_urls": False})
    bold = book.add_format({"bold": True})
    header = book.add_format({"bold": True, "bottom": 1, "text_wrap": True, "valign": "top"})
    formats = {
        "int": book.add_format({"num_format": "#,##0"}),
        "minutes": book.add_format({"num_format": "#,##0"}),
        "hours": book.add_format({"num_format": "#,##0.0"}),
        "percent": book.add_format({"num_format": "0.0%"}),
        "money": book.add_format({"num_format": "[$₩-412]#,##0"}),
        "date": book.add_format({"num_format": "yyyy-mm-dd"}),
        "suppressed": book.add_format({"align": "right"}),
    }

    taken: set[str] = set()
    info = book.add_worksheet(sheet_name(_("About"), taken))
    info.set_column(0, 0, 24)
    info.set_column(1, 1, 60)
    info.write_string(0, 0, _("District office statistics"), bold)
    pairs = list(about or [])
    pairs.append((_("Generated"), datetime.now(ZONE).strftime("%Y-%m-%d %H:%M (%Z)")))
    for i, (key, value) in enumerate(pairs, start=2):
        info.write_string(i, 0, str(key), bold)
        info.write_string(i, 1, str(value))
    row = len(pairs) + 3
    info.write_string(row, 0, _("Sheets"), bold)
    names = []
    for i, table in enumerate(tables, start=1):
        names.append(sheet_name(str(table.title), taken))
        info.write_string(row + i, 0, names[-1])
        info.write_string(row + i, 1, table.name)

    for table, name in zip(tables, names, strict=True):
        sheet = book.add_worksheet(name)
        widths = []
        for col, column in enumerate(table.columns):
            text = str(column.label)
            sheet.write_string(0, col, text, header)
            widths.append(min(max(_width(text), 6), 40))
        for r, values in enumerate(table.rows, start=1):
            for col, column in enumerate(table.columns):
                shown = _write(sheet, r, col, column, values.get(column.key), formats)
                widths[col] = min(max(widths[col], shown), 60)
        for col, width in enumerate(widths):
            sheet.set_column(col, col, width + 2)
        sheet.freeze_panes(1, 0)
        if table.columns:
            sheet.autofilter(0, 0, max(len(table.rows), 1), len(table.columns) - 1)
    book.close()
    return buffer.getvalue()


def _write(sheet, r: int, col: int, column: Column, value, formats) -> int:
    """Write one typed cell; returns about how wide it shows."""
    kind = column.kind
    if value is None:
        sheet.write_blank(r, col, None)
        return 0
    if isinstance(value, str) and kind not in ("text", "date"):
        sheet.write_string(r, col, value, formats["suppressed"])
        return _width(value)
    if kind in ("int", "minutes", "money"):
        sheet.write_number(r, col, int(value), formats[kind])
        return len(f"{int(value):,}") + (2 if kind == "money" else 0)
    if kind == "hours":
        sheet.write_number(r, col, float(value), formats["hours"])
        return len(f"{float(value):,.1f}")
    if kind == "percent":
        sheet.write_number(r, col, float(value), formats["percent"])
        return 7
    if kind == "date":
        day = _as_date(value)
        if day is None:
            sheet.write_string(r, col, str(value))
            return _width(str(value))
        sheet.write_datetime(r, col, datetime(day.year, day.month, day.day), formats["date"])
        return 10
    text = str(value)
    sheet.write_string(r, col, text)
    return _width(text)
