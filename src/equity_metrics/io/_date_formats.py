"""Checking and resolving strptime formats for the mapped reader.

strptime reads ``%m``, ``%d``, ``%H``, ``%M`` and ``%S`` as one *or* two digits, so
a format whose numeric fields touch with no separator (``%m%d%Y``, ``%H%M``) can
read one digit string in several ways: ``1012014`` is 1 January or 10 January
(pandas silently picks October 1) and ``30`` under ``%H%M`` becomes 03:00. This
module

* refuses formats up front that cannot be right (:func:`check_format`): an
  unknown directive (``%Q``), no year (``%B``, ``%d %B``: strptime would give
  1900), no month, ``%I`` without ``%p``, a time format without an hour;
* finds, for each distinct value of a format whose numeric fields touch
  (:func:`is_run_format`), every way strptime could read it
  (:func:`resolve_values`); a value read more than one way, or read only by
  shortening a field that is not the first of its run (``30`` = 03:00), is
  *ambiguous* and the reader rejects it with its raw text;
* left-pads digit strings that lost their leading zeros (``zero_pad``, and the
  named formats ``nypd_mddyyyy`` / ``nypd_hhmm``) to the format's full width, so
  ``1012014`` reads as ``01012014`` = 2014-01-01 and ``30`` as ``0030`` = 00:30.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import re

# named formats: name -> (strptime format, zero-pad). NYPD stop-and-frisk writes MMDDYYYY and HHMM
# through a numeric column, so the leading zero of the month (and of the hour) is lost.
NAMED_FORMATS = {"nypd_mddyyyy": ("%m%d%Y", True), "nypd_hhmm": ("%H%M", True)}

_KNOWN = set("aAwdbBmyYHIpMSfzjUWcxXGuVZ%")
_VAR = {"d": 2, "m": 2, "H": 2, "I": 2, "M": 2, "S": 2, "j": 3, "f": 6, "U": 2, "W": 2, "V": 2}
_FIXED = {"Y": 4, "y": 2, "G": 4, "u": 1, "w": 1}
_NUM_RE = {"d": r"3[01]|[12]\d|0[1-9]|[1-9]", "m": r"1[0-2]|0[1-9]|[1-9]", "H": r"2[0-3]|[01]\d|\d",
           "I": r"1[0-2]|0[1-9]|[1-9]", "M": r"[0-5]\d|\d", "S": r"6[01]|[0-5]\d|\d", "j": r"\d{1,3}",
           "f": r"\d{1,6}", "U": r"\d{1,2}", "W": r"\d{1,2}", "V": r"\d{1,2}"}
_OTHER_RE = {"a": r"[^\W\d_]+", "A": r"[^\W\d_]+", "b": r"[^\W\d_]+\.?", "B": r"[^\W\d_]+", "p": r"[^\W\d_]+",
             "Z": r"[^\W\d_]+", "z": r"Z|[+-]\d\d:?[0-5]\d(?::?[0-5]\d(?:\.\d{1,6})?)?", "%": "%",
             "c": r".+?", "x": r".+?", "X": r".+?"}


def tokens(fmt: str) -> list[tuple[str, str]]:
    """``[("dir", "Y"), ("lit", "-"), ...]``; an unknown directive or a lone ``%`` raises ``ValueError``."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(fmt):
        if fmt[i] == "%":
            if i + 1 >= len(fmt):
                raise ValueError("it ends with a lone '%'")
            c = fmt[i + 1]
            if c not in _KNOWN:
                hint = " (strptime has no '%-m'/'%-d': '%m' and '%d' already accept one or two digits)" if c == "-" else ""
                raise ValueError(f"'%{c}' is not a strptime directive{hint}")
            out.append(("dir", c))
            i += 2
        else:
            j = fmt.find("%", i)
            j = len(fmt) if j < 0 else j
            out.append(("lit", fmt[i:j]))
            i = j
    return out


def check_format(fmt: str, *, time_only: bool = False) -> str | None:
    """Why ``fmt`` cannot be used (a sentence), or None when it is fine."""
    try:
        dirs = {c for k, c in tokens(fmt) if k == "dir"}
    except ValueError as exc:
        return str(exc)
    if time_only:
        if not dirs & {"H", "I", "X", "c"}:
            return "a time format needs an hour (%H, or %I with %p)"
    else:
        if not dirs & {"Y", "y", "G", "c", "x"}:
            return "it has no year (%Y or %y): strptime would silently give the year 1900"
        if not dirs & {"m", "b", "B", "j", "U", "W", "V", "c", "x"}:
            return "it has no month (%m, %b or %B) or day of the year (%j)"
    if "I" in dirs and "p" not in dirs:
        return "%I (12-hour clock) without %p (AM/PM) cannot tell morning from afternoon; use %H or add %p"
    return None


def runs(fmt: str) -> list[list[int]]:
    """Runs of >= 2 numeric directives that touch (token indexes), containing a variable-width one."""
    toks = tokens(fmt)
    out, cur = [], []
    for i, (k, c) in enumerate(toks):
        if k == "dir" and (c in _VAR or c in _FIXED):
            cur.append(i)
            continue
        out.append(cur)
        cur = []
    out.append(cur)
    return [r for r in out if len(r) >= 2 and any(toks[i][1] in _VAR for i in r)]


def is_run_format(fmt: str) -> bool:
    return bool(runs(fmt))


def full_width(fmt: str) -> int | None:
    """Width of a digits-only format at full width (``%m%d%Y`` -> 8), else None."""
    toks = tokens(fmt)
    if not toks or any(k != "dir" or (c not in _VAR and c not in _FIXED) for k, c in toks):
        return None
    return sum(_VAR.get(c, _FIXED.get(c, 0)) for _, c in toks)


def pad(value: str, width: int | None) -> str:
    """Left-pad a digit string to ``width`` (values with other characters, or longer, unchanged)."""
    if width is None or not value.isdigit() or len(value) >= width:
        return value
    return value.zfill(width)


def resolve_values(values, fmt: str) -> dict[str, object]:
    """For each distinct text value: a datetime (one admissible reading), ``"ambiguous"`` or None.

    Every combination of widths of the variable-width fields in touching runs is
    tried; a reading is admissible when strptime accepts it and only the first
    field of each run is shorter than its full width (a lost leading zero).
    """
    toks = tokens(fmt)
    in_run = {i for r in runs(fmt) for i in r}
    firsts = {r[0] for r in runs(fmt)}
    var = [i for i in sorted(in_run) if toks[i][1] in _VAR]
    combos = []
    for widths in itertools.product(*[range(1, _VAR[toks[i][1]] + 1) for i in var]):
        w = dict(zip(var, widths))
        parts, short_inner = [], False
        for i, (k, c) in enumerate(toks):
            if k == "lit":
                parts.append(r"\s+" if c.isspace() else re.escape(c))
            elif i in w:
                parts.append(rf"(\d{{{w[i]}}})")
                short_inner |= w[i] < _VAR[c] and i not in firsts
            elif c in _FIXED:
                parts.append(rf"(\d{{{_FIXED[c]}}})")
            else:
                parts.append(f"({_NUM_RE.get(c) or _OTHER_RE[c]})")
        combos.append((re.compile("".join(parts), re.IGNORECASE), short_inner))
    sep_fmt = "\x1f".join("%" + c for k, c in toks if k == "dir")
    out: dict[str, object] = {}
    for v in values:
        seen, fine = set(), set()
        for rx, short_inner in combos:
            m = rx.fullmatch(v)
            if m is None:
                continue
            try:
                d = _dt.datetime.strptime("\x1f".join(m.groups()), sep_fmt)
            except ValueError:
                continue
            seen.add(d)
            if not short_inner:
                fine.add(d)
        out[v] = None if not seen else next(iter(fine)) if len(seen) == 1 and len(fine) == 1 else "ambiguous"
    return out
