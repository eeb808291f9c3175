"""Statistics exports (issue 7): CSV and XLSX files, suppression of small counts for open data,
the download routes and `flask stats export`."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import openpyxl
import pytest
from flask_babel import lazy_gettext as _l

from app.stats import exports
from app.stats.tables import Column, Table


def sample() -> Table:
    return Table(
        name="by_space",
        title=_l("By space"),
        columns=[
            Column("space", _l("Space")),
            Column("bookings", _l("Bookings"), "int", count=True),
            Column("hours", _l("Hours booked"), "hours"),
            Column("occupancy", _l("Occupancy"), "percent"),
            Column("revenue", _l("Revenue"), "money"),
            Column("first", _l("First booking"), "date"),
            Column("lead", _l("Lead time"), "minutes"),
        ],
        rows=[
            {"space": "번동초 강당", "bookings": 12, "hours": 30.25, "occupancy": 0.4567,
             "revenue": 150_000, "first": "2026-10-01", "lead": 1440},
            {"space": "Room, \"A\"", "bookings": 3, "hours": 4.0, "occupancy": 0.125,
             "revenue": 0, "first": "2026-10-30", "lead": 60},
            {"space": "빈 방", "bookings": 0, "hours": 0.0, "occupancy": None,
             "revenue": 0, "first": None, "lead": 0},
        ],
        drill="space",
    )


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte order mark"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


# -- CSV ---------------------------------------------------------------------------------------


def test_csv_round_trips_with_labels_in_the_language_asked(app):
    table = sample()
    for locale, first in (("ko", None), ("en", "Space")):
        rows = read_csv(exports.to_csv(table, locale=locale))
        header, body = rows[0], rows[1:]
        if first:
            assert header[0] == first
            assert header[3] == "Occupancy (%)"
        assert len(header) == len(table.columns)
        assert body == [
            ["번동초 강당", "12", "30.2", "45.7", "150000", "2026-10-01", "1440"],
            ["Room, \"A\"", "3", "4.0", "12.5", "0", "2026-10-30", "60"],
            ["빈 방", "0", "0.0", "", "0", "", "0"],
        ]


def test_csv_of_an_empty_table_is_its_header(app):
    table = Table(name="idle", title="x", columns=[Column("a", "A"), Column("b", "B", "int")])
    assert read_csv(exports.to_csv(table, locale="en")) == [["A", "B"]]


# -- suppression -------------------------------------------------------------------------------


def test_suppression_writes_1_to_4_as_less_than_5_and_keeps_0_and_5(app):
    table = Table(
        name="t", title="t",
        columns=[Column("k", "K"), Column("n", "N", "int", count=True),
                 Column("rate", "Rate", "percent"), Column("hours", "H", "hours"),
                 Column("open", "Open", "int")],
        rows=[{"k": str(n), "n": n, "rate": 0.5, "hours": 2.0, "open": n} for n in range(7)]
        + [{"k": "none", "n": None, "rate": None, "hours": 0.0, "open": 1}],
    )
    out = exports.suppress(table)
    assert [r["n"] for r in out.rows] == [0, "<5", "<5", "<5", "<5", 5, 6, None]
    # A rate in a row whose count is hidden could give it back: emptied.
    assert [r["rate"] for r in out.rows] == [0.5, None, None, None, None, 0.5, 0.5, None]
    # Columns that are not counts stay as they are.
    assert [r["open"] for r in out.rows] == [0, 1, 2, 3, 4, 5, 6, 1]
    assert all(r["hours"] == 2.0 for r in out.rows[:7])
    # The table given is not changed.
    assert [r["n"] for r in table.rows][:3] == [0, 1, 2]
    # Suppressed cells are written as the text "<5", in CSV and XLSX alike.
    body = read_csv(exports.to_csv(out, locale="en"))[1:]
    assert [r[1] for r in body] == ["0", "<5", "<5", "<5", "<5", "5", "6", ""]
    sheet = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx([out])))["t"]
    assert [sheet.cell(r, 2).value for r in range(2, 10)] == [0, "<5", "<5", "<5", "<5", 5, 6,
                                                               None]


# -- XLSX --------------------------------------------------------------------------------------


def test_xlsx_has_an_about_sheet_and_one_typed_sheet_per_table(app, english):
    other = Table(name="other", title="By space", columns=[Column("a", "A", "int")],
                  rows=[{"a": 1}])
    data = exports.to_xlsx([sample(), other], about=[("Period", "2026-10-01 – 2026-10-31")])
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["About", "By space", "By space (2)"]
    about = book["About"]
    values = [c.value for row in about.iter_rows() for c in row if c.value]
    assert "Period" in values and "2026-10-01 – 2026-10-31" in values and "Generated" in values
    sheet = book["By space"]
    assert [c.value for c in sheet[1]] == ["Space", "Bookings", "Hours booked", "Occupancy",
                                          "Revenue", "First booking", "Lead time"]
    assert sheet["A1"].font.b
    row = [c for c in sheet[2]]
    assert row[0].value == "번동초 강당"
    assert row[1].value == 12 and isinstance(row[1].value, int)
    assert row[2].value == 30.25
    assert row[3].value == pytest.approx(0.4567) and "%" in row[3].number_format
    assert row[4].value == 150_000 and "₩" in row[4].number_format
    assert row[5].value == datetime(2026, 10, 1) and row[5].is_date
    assert row[6].value == 1440
    assert sheet.column_dimensions["A"].width > 10
    assert sheet["D4"].value is None  # no occupancy


def test_sheet_names_are_valid_and_unique(app):
    taken: set[str] = set()
    names = [exports.sheet_name(t, taken) for t in
             ["a/b[c]:d*e?f\\g", "x" * 40, "x" * 40, "X" * 40, "'quoted'", "", "History"]]
    for name in names:
        assert 0 < len(name) <= 31
        assert not set(name) & set("[]:*?/\\")
        assert not name.startswith("'") and not name.endswith("'")
    assert len({n.lower() for n in names}) == len(names)
    assert names[0] == "a b c  d e f g"


def test_dates_accept_date_objects(app):
    table = Table(name="d", title="d", columns=[Column("day", "Day", "date")],
                  rows=[{"day": date(2026, 1, 2)}, {"day": "not a date"}])
    assert read_csv(exports.to_csv(table, locale="en"))[1:] == [["2026-01-02"], ["not a date"]]
    sheet = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx([table])))["d"]
    assert sheet["A2"].value == datetime(2026, 1, 2)
    assert sheet["A3"].value == "not a date"
