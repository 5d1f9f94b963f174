"""Reading a built report back the way a reader (or an attacker) would: its CSV tables and HTML text.

Only the standard library: the CSV files the report wrote are parsed with :mod:`csv`; hidden
cells (``[c]``) are kept distinct from blanks; text cells defused against spreadsheet formulas
(a leading ``'``) are undone.
"""

from __future__ import annotations

import csv
import html as _html
import re
from dataclasses import dataclass, field
from pathlib import Path

HIDDEN = "[c]"

#: The report's tables whose counts the suite checks (file stem -> (category column or None, count column)).
COUNT_TABLES = {
    "headline": (None, "events"),
    "ratios_by_area": ("area_name", "events"),
    "ratios_by_legal_power": ("legal_power", "events"),
    "ratios_by_object_of_search": ("object_of_search", "events"),
    "outcomes": (None, "searches"),
    "trend_searches": (None, "events"),
    "trend_ratio": (None, "events"),
}


class Hidden:
    """A suppressed cell (``[c]``)."""

    def __repr__(self) -> str:
        return "[c]"

    def __copy__(self):  # one marker: identity checks (``v is HID``) survive copies
        return self

    def __deepcopy__(self, memo):
        return self


HID = Hidden()


def cell(v: str | None):
    """``"[c]"`` -> :data:`HID`, ``""`` -> ``None``, ``"'-0.3"`` -> -0.3, numbers -> float, else the text."""
    if v is None:
        return None
    s = v.strip()
    if s == HIDDEN:
        return HID
    if s == "":
        return None
    if s.startswith("'"):
        s = s[1:]
    try:
        return float(s)
    except ValueError:
        return s


def read_table(path: Path) -> list[dict[str, object]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [{k: (cell(v) if k not in ("group", "period", "area", "area_name", "legal_power", "object_of_search",
                                          "flags") else (v or "").lstrip("'"))
                 for k, v in rec.items()} for rec in csv.DictReader(fh)]


def html_text(h: str) -> str:
    """The visible text of the report (no SVG, CSS or tags), whitespace collapsed."""
    body = h[h.find("<body"):] if "<body" in h else h
    t = re.sub(r"<svg.*?</svg>", " ", body, flags=re.S)
    t = re.sub(r"<style.*?</style>", " ", t, flags=re.S)
    t = re.sub(r"<[^>]+>", " ", t)
    return re.sub(r"\s+", " ", _html.unescape(t)).strip()


def section(text: str, number: int) -> str:
    """Text of the numbered section ``"<n>. ..."`` up to the next one."""
    m = re.search(rf"(?<![\d.]){number}\. [A-Z]", text)
    if not m:
        return ""
    n = re.search(rf"(?<![\d.]){number + 1}\. [A-Z]", text[m.end():])
    return text[m.start(): m.end() + n.start()] if n else text[m.start():]


@dataclass
class Published:
    """One force's built report: where it was written, its CSV tables, its HTML and its text."""

    force: str
    folder: Path
    tables: dict[str, list[dict[str, object]]] = field(default_factory=dict)
    html: str = ""
    text: str = ""
    report: object = None
    seconds: float = 0.0

    @classmethod
    def load(cls, force: str, folder: Path, report=None, seconds: float = 0.0) -> "Published":
        tabs = {p.stem: read_table(p) for p in sorted(folder.glob("*.csv"))}
        h = (folder / "report.html").read_text(encoding="utf-8")
        return cls(force, folder, tabs, h, html_text(h), report, seconds)

    @property
    def headline_text(self) -> str:
        return section(self.text, 1)


def is_hidden(v) -> bool:
    return v is HID


def months_of_label(label: str) -> list[str]:
    """The months a published period label covers: ``2020/21`` (financial year), ``2021-06..2021-10``
    (window), ``2021-06`` (month), ``2020`` (calendar year), ``2020Q3`` / ``2020-Q3`` (quarter)."""
    s = label.strip()
    if m := re.fullmatch(r"(\d{4})/(\d{2})", s):
        y = int(m.group(1))
        assert (y + 1) % 100 == int(m.group(2)), s
        return [f"{y}-{k:02d}" for k in range(4, 13)] + [f"{y + 1}-{k:02d}" for k in range(1, 4)]
    if m := re.fullmatch(r"(\d{4}-\d{2})\.\.(\d{4}-\d{2})", s):
        from ._raw import window_months

        return window_months(s)
    if re.fullmatch(r"\d{4}-\d{2}", s):
        return [s]
    if re.fullmatch(r"\d{4}", s):
        return [f"{s}-{k:02d}" for k in range(1, 13)]
    if m := re.fullmatch(r"(\d{4})-?Q([1-4])", s):
        q = int(m.group(2))
        return [f"{m.group(1)}-{k:02d}" for k in range(3 * q - 2, 3 * q + 1)]
    raise ValueError(f"unknown period label {label!r}")
