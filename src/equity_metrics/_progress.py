"""Progress bars for long loops: on stderr, only for a person watching a terminal.

:func:`progress` wraps :mod:`tqdm`. A bar is shown only when it is enabled:
by default (``enabled=None``) when standard error is a terminal. Bars go to
standard error, never to standard output (which may be piped into a file), and
with ``enabled=False`` (``--quiet``) or a non-terminal stderr nothing at all is
printed: the iterable is returned unchanged.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

__all__ = ["progress", "stderr_is_tty"]

T = TypeVar("T")


def stderr_is_tty() -> bool:
    """Whether standard error is an interactive terminal (False if it cannot be told)."""
    try:
        return bool(sys.stderr is not None and sys.stderr.isatty())
    except (AttributeError, ValueError, OSError):  # closed or replaced streams
        return False


def progress(
    iterable: Iterable[T],
    *,
    total: int | None = None,
    desc: str = "",
    enabled: bool | None = None,
) -> Iterable[T] | Iterator[T]:
    """Iterate over ``iterable`` with a progress bar on stderr when wanted.

    Parameters
    ----------
    iterable
        What to iterate over.
    total
        Number of items, when ``len(iterable)`` is not available (optional).
    desc
        Short label shown before the bar.
    enabled
        ``None`` (default): show the bar only if stderr is a terminal;
        ``False``: never (e.g. ``--quiet``); ``True``: always (still on stderr).

    Returns
    -------
    iterable
        ``iterable`` itself when no bar is shown, else a tqdm iterator over it.

    Examples
    --------
    >>> list(progress(range(3), desc="files", enabled=False))
    [0, 1, 2]
    """
    if enabled is None:
        enabled = stderr_is_tty()
    if not enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc or None, file=sys.stderr, leave=False, dynamic_ncols=True)
