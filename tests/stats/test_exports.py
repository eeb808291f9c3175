"""Statistics exports (issue 7): CSV and XLSX files, suppression of small counts for open data,
the download routes and `flask stats export`."""

from __future__ import annotations

import csv
import io
import os
import zipfile
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from flask_babel import lazy_gettext as _l

from app.bookings import services
from app.extensions import db
from app.stats import exports, facts
from app.stats.queries import Filters, Scope, dashboard
from app.stats.tables import Column, Table
from tests.factories import VERIFIED


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


def test_a_district_with_one_small_count_hides_a_second_so_its_total_gives_nothing_away(app):
    table = Table(
        name="open_data_spaces", title="t",
        columns=[Column("space", "Space"), Column("district", "District"),
                 Column("n", "N", "int", count=True), Column("rate", "Rate", "percent")],
        rows=[{"space": "a", "district": "강북구", "n": 3, "rate": 0.1},
              {"space": "b", "district": "강북구", "n": 12, "rate": 0.2},
              {"space": "c", "district": "강북구", "n": 7, "rate": 0.3},
              {"space": "d", "district": "도봉구", "n": 2, "rate": 0.4},
              {"space": "e", "district": "도봉구", "n": 1, "rate": 0.5},
              {"space": "f", "district": "도봉구", "n": 40, "rate": 0.6},
              {"space": "g", "district": "종로구", "n": 9, "rate": 0.7}])
    out = exports.suppress(table, within="district")
    # 강북구 total 22 − 12 − 7 would give 3 back: the next smallest (7) is hidden too.
    assert [r["n"] for r in out.rows] == ["<5", 12, "x", "<5", "<5", 40, 9]
    assert [r["rate"] for r in out.rows] == [None, 0.2, None, None, None, 0.6, 0.7]
    # Without published totals, only the small counts go.
    assert [r["n"] for r in exports.suppress(table).rows] == ["<5", 12, 7, "<5", "<5", 40, 9]


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


# -- routes, open data and the command ----------------------------------------------------------

SEOUL = ZoneInfo("Asia/Seoul")
OCTOBER = date(2025, 10, 1)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SEOUL).astimezone(UTC)


class World:
    """A district with two spaces: three bookings in October 2025 in the hall (a small count),
    six in the room; residents with names and emails that must never appear in a file."""

    def __init__(self, factories):
        self.city = factories.jurisdiction(slug="seoul", name="서울특별시", kind="metropolitan")
        self.gangbuk = factories.jurisdiction(slug="gangbuk", name="강북구", parent=self.city)
        self.jongno = factories.jurisdiction(slug="jongno", name="종로구", parent=self.city)
        self.org = factories.org(name="번동초등학교")
        self.hall = factories.space(owner=self.org, name="강당", type="gym",
                                    jurisdictions=[self.gangbuk],
                                    hours={d: [(0, 24 * 60)] for d in range(7)})
        self.room = factories.space(owner=self.org, name="회의실",
                                    jurisdictions=[self.gangbuk],
                                    hours={d: [(0, 24 * 60)] for d in range(7)})
        self.manager = factories.manager(self.org, email="manager@example.kr")
        self.officer = factories.officer(self.gangbuk, email="officer@example.kr")
        self.other_officer = factories.officer(self.jongno, email="other@example.kr")
        self.admin = factories.user(email="admin@example.kr", is_admin=True)
        self.people = [
            factories.user(name=f"홍길동{i}", email=f"hong.gildong{i}@residents.example",
                           home_district_id=self.gangbuk.id,
                           home_district_verified_at=VERIFIED)
            for i in range(3)
        ]
        self.resident = self.people[0]
        made = datetime(2025, 9, 1, tzinfo=UTC)
        for i in range(3):
            self.approved(factories, self.hall, at(2025, 10, 6 + i, 10), self.people[i], made)
        for i in range(6):
            self.approved(factories, self.room, at(2025, 10, 13 + i, 14), self.people[i % 3],
                          made)
        facts.rebuild_open(date(2025, 9, 1), date(2025, 11, 30),
                           space_ids=[self.hall.id, self.room.id])
        db.session.commit()

    def approved(self, factories, space, start, user, made):
        booking = factories.booking(space, user, start=start, end=start + timedelta(hours=2),
                                    now=made)
        services.approve(booking, self.manager, now=made + timedelta(hours=1))


@pytest.fixture
def w(factories):
    return World(factories)


def test_the_table_exports_need_a_login_and_a_scope(client, login, w):
    response = client.get("/stats/export/by_space.csv")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(w.resident)
    assert client.get("/stats/export/by_space.csv").status_code == 403
    assert client.get("/stats/export/all.xlsx").status_code == 403


def test_a_table_as_csv_and_xlsx_with_the_dashboards_filters(client, login, w):
    login(w.officer)
    args = "?from=2025-10-01&to=2025-10-31"
    response = client.get(f"/stats/export/by_space.csv{args}", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="gonggan-by_space-2025-10-01_2025-10-31.csv"')
    rows = read_csv(response.data)
    assert {"강당", "회의실"} <= {cell for row in rows for cell in row}

    response = client.get(f"/stats/export/by_space.xlsx{args}")
    assert response.status_code == 200
    assert "gonggan-by_space-2025-10-01_2025-10-31.xlsx" in response.headers[
        "Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert len(book.sheetnames) == 2
    about = [c.value for row in book.worksheets[0].iter_rows() for c in row if c.value]
    assert any("2025-10-01" in str(v) and "2025-10-31" in str(v) for v in about)

    response = client.get(f"/stats/export/all.xlsx{args}&district={w.gangbuk.id}")
    assert response.status_code == 200
    assert "gonggan-statistics-2025-10-01_2025-10-31.xlsx" in response.headers[
        "Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert len(book.sheetnames) == 1 + len(dashboard(Scope(everything=True), Filters(
        OCTOBER, date(2025, 10, 31))).tables)
    about = [c.value for row in book.worksheets[0].iter_rows() for c in row if c.value]
    assert "강북구" in about


def test_an_unknown_table_is_not_found(client, login, w):
    login(w.admin)
    for url in ("/stats/export/nothing.csv", "/stats/export/nothing.xlsx",
                "/stats/export/..csv", "/stats/export/by_space.pdf"):
        assert client.get(url).status_code == 404, url


def test_the_open_data_page_lists_months_and_explains_suppression(client, login, w):
    login(w.officer)
    response = client.get("/stats/open-data", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "/stats/open-data/2025-10.csv" in page and "/stats/open-data/2025-10.xlsx" in page
    assert "&lt;5" in page


def test_open_data_of_a_month_suppresses_three_bookings(client, login, w):
    login(w.officer)
    response = client.get("/stats/open-data/2025-10.csv")
    assert response.status_code == 200
    assert "gonggan-open-data-2025-10-" in response.headers["Content-Disposition"]
    rows = read_csv(response.data)
    hall = next(row for row in rows if "강당" in row)
    room = next(row for row in rows if "회의실" in row)
    # month, space, owner, district, type, requests, bookings, booked h, open h, utilisation
    assert hall[5:7] == ["0", "<5"] and hall[9] == ""  # asked for in September
    # The district's total (9) minus the room's 6 would give the hall's 3: the room's counts
    # are hidden as well.
    assert room[5:7] == ["0", "x"] and room[7] == "12.0" and room[9] == ""

    response = client.get("/stats/open-data/2025-10.xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    cells = [c.value for ws in book.worksheets[1:] for row in ws.iter_rows() for c in row]
    assert "<5" in cells


def test_open_data_is_public_and_covers_every_space(client, login, w):
    page = client.get("/stats/open-data")
    assert page.status_code == 200 and "/stats/open-data/2025-10.csv" in page.get_data(
        as_text=True)
    assert "/stats/?" not in page.get_data(as_text=True)  # no dashboard link for the public
    response = client.get("/stats/open-data/2025-10.csv")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    text = response.data.decode("utf-8-sig")
    assert "강당" in text and "회의실" in text
    login(w.other_officer)  # another district's officer gets the same file
    assert client.get("/stats/open-data/2025-10.csv").data == response.data


@pytest.mark.parametrize("month", ["2025-13", "1999-01", "2025-00", "text", "2025-1",
                                   "99999-01", "2100-01"])
def test_a_bad_month_is_not_found_with_a_message(client, login, w, month):
    login(w.admin)
    for ext in ("csv", "xlsx"):
        response = client.get(f"/stats/open-data/{month}.{ext}")
        assert response.status_code == 404, month
        page = response.get_data(as_text=True)
        # Korean first: "there is no month …" or "no statistics for the month … yet"
        assert "달은 없습니다" in page or "통계는 아직 없습니다" in page


def _texts(data: bytes) -> str:
    """Every text in a file: a CSV's, or every part of an XLSX (a zip of XML)."""
    if data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    return data.decode("utf-8-sig")


def test_no_export_holds_a_residents_name_or_email(client, login, w):
    login(w.admin)
    args = "?from=2025-10-01&to=2025-10-31"
    names = dashboard(Scope(everything=True), Filters(OCTOBER, date(2025, 10, 31))).tables
    urls = [f"/stats/export/all.xlsx{args}", "/stats/open-data/2025-10.csv",
            "/stats/open-data/2025-10.xlsx"]
    urls += [f"/stats/export/{name}.csv{args}" for name in names]
    secrets = [p.name for p in w.people] + [p.email for p in w.people]
    secrets += ["hong.gildong", "residents.example", "manager@example.kr", "officer@example.kr"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        text = _texts(response.data)
        for secret in secrets:
            assert secret not in text, (url, secret)


def test_the_command_writes_a_months_open_data(runner, w, tmp_path):
    result = runner.invoke(args=["stats", "export", "--month", "2025-10", "--out",
                                 str(tmp_path)])
    assert result.exit_code == 0, result.output
    paths = result.output.split()
    assert len(paths) == 2 and all(os.path.exists(p) for p in paths)
    csv_path = next(p for p in paths if p.endswith(".csv"))
    xlsx_path = next(p for p in paths if p.endswith(".xlsx"))
    assert os.path.basename(xlsx_path) == "gonggan-open-data-2025-10.xlsx"
    with open(csv_path, "rb") as fh:
        rows = read_csv(fh.read())
    assert "<5" in next(row for row in rows if "강당" in row)
    openpyxl.load_workbook(xlsx_path)

    result = runner.invoke(args=["stats", "export", "--month", "2025-10", "--format", "csv",
                                 "--out", str(tmp_path), "--jurisdiction", "jongno"])
    assert result.exit_code == 0, result.output
    (path,) = result.output.split()
    assert "jongno" in path and path.endswith(".csv")
    with open(path, "rb") as fh:
        assert "강당" not in fh.read().decode("utf-8-sig")


@pytest.mark.parametrize("args", [["--month", "2025-13"], ["--month", "oct"],
                                  ["--format", "pdf"], ["--jurisdiction", "nowhere"]])
def test_the_command_refuses_bad_input(runner, w, tmp_path, args):
    result = runner.invoke(args=["stats", "export", "--out", str(tmp_path), *args])
    assert result.exit_code != 0
    assert "Error" in result.output
    assert list(tmp_path.iterdir()) == []


def test_the_command_defaults_to_last_month(runner, tmp_path, monkeypatch):
    asked = []
    monkeypatch.setattr("app.stats.open_data.open_tables",
                        lambda month, scope: asked.append(month) or [exports.suppress(sample())])
    result = runner.invoke(args=["stats", "export", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    today = datetime.now(SEOUL).date()
    last = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    assert asked == [last]
    assert last.strftime("%Y-%m") in result.output


def test_a_text_that_looks_like_a_formula_is_written_inert(app):
    table = Table(name="f", title="f", columns=[Column("name", "Name"), Column("n", "N", "int")],
                  rows=[{"name": "=HYPERLINK(\"http://x\")", "n": -1}, {"name": "@SUM(A1)", "n": 2},
                        {"name": "강당 - 2층", "n": 3}])
    body = read_csv(exports.to_csv(table, locale="en"))[1:]
    assert body == [["'=HYPERLINK(\"http://x\")", "-1"], ["'@SUM(A1)", "2"], ["강당 - 2층", "3"]]
    sheet = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx([table])))["f"]
    assert sheet["A2"].value == "=HYPERLINK(\"http://x\")" and sheet["A2"].data_type == "s"
