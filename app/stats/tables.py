"""The shape every statistic comes in: a titled table of plain rows, which the dashboard draws
(chart + accessible table) and the exports write (CSV, XLSX) without knowing what it holds."""

from __future__ import annotations

from dataclasses import dataclass, field

# Column kinds: how a value is shown and exported.
#   text, int, hours (float, hours), percent (float 0..1 or None), money (int, minor units of
#   KRW), date (ISO date string), minutes (int)
KINDS = ("text", "int", "hours", "percent", "money", "date", "minutes")


@dataclass(frozen=True)
class Column:
    key: str
    label: object  # lazy string
    kind: str = "text"
    # A column that counts people or bookings: counts below 5 are written "<5" in open data.
    count: bool = False


@dataclass
class Table:
    name: str  # stable identifier (URLs, file names): "by_district", "heatmap", ...
    title: object  # lazy string
    columns: list[Column]
    rows: list[dict] = field(default_factory=list)
    # For drill-down: the filter a row's key sets ("district", "owner", "space"), if any.
    drill: str | None = None
    # Personal data never appears; a table may still be left out of open data.
    public: bool = True

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)
