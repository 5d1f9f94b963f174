"""JSON values of police.uk API records as text: CSV cell text, and the raw text kept for rejects.

Safe for any record: text that is not valid Unicode is escaped, and containers
nested deeper than 100 levels (no police.uk record is) are detected without
recursion and cut in the raw text, so no RecursionError can escape.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

def _text(value: Any) -> str:
    """The CSV text of one JSON value: null -> '', booleans as True/False, containers as JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


_MAX_DEPTH = 100  # JSON nesting kept in the rejects' raw text; deeper containers are cut


_MAX_NODES = 10_000  # values kept in the raw text of one cut record (a self-referencing record never ends)


def _cut(value: Any, depth: int = 0, budget: list[int] | None = None) -> Any:
    """``value`` with containers nested deeper than ``_MAX_DEPTH`` (or past ``_MAX_NODES`` values) replaced by a marker.

    Examples
    --------
    >>> deep = []
    >>> for _ in range(150):
    ...     deep = [deep]
    >>> "<nested deeper than 100 levels: cut>" in str(_cut(deep))
    True
    """
    budget = [_MAX_NODES] if budget is None else budget
    budget[0] -= 1
    if isinstance(value, (Mapping, list, tuple)):
        if depth >= _MAX_DEPTH or budget[0] < 0:
            return f"<nested deeper than {_MAX_DEPTH} levels: cut>" if depth >= _MAX_DEPTH else "<too large: cut>"
        if isinstance(value, Mapping):
            return {str(k): _cut(v, depth + 1, budget) for k, v in value.items()}
        return [_cut(v, depth + 1, budget) for v in value]
    return value


def _depth_over(value: Any, limit: int = _MAX_DEPTH) -> bool:
    """True when ``value`` nests containers more than ``limit`` deep (checked without recursion)."""
    stack = [(value, 0)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, (Mapping, list, tuple)):
            if d >= limit:
                return True
            stack.extend((x, d + 1) for x in (v.values() if isinstance(v, Mapping) else v))
    return False


def _raw(record: Any) -> str:
    """The whole record as JSON text (escaped to ASCII when it holds text that is not valid Unicode;
    containers nested deeper than 100 levels cut)."""
    if _depth_over(record):
        record = _cut(record)
    try:
        text = json.dumps(record, ensure_ascii=False, default=str, sort_keys=isinstance(record, dict))
        text.encode("utf-8")
        return text
    except (UnicodeEncodeError, TypeError, ValueError, RecursionError):
        return json.dumps(record, ensure_ascii=True, default=str)


def _safe_text(value: Any) -> str | None:
    if value is None:
        return None
    if _depth_over(value):
        value = _cut(value)
    text = _text(value)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return _raw(value)
