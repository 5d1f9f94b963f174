"""PDF output of the command report with WeasyPrint (optional dependency: ``pip install "equity_metrics[pdf]"``).

The PDF is rendered from the same HTML. It is deterministic: ``SOURCE_DATE_EPOCH`` is
set to a fixed value while rendering, no creation date is written (the HTML carries no
date metadata), and the PDF file identifier is derived from the HTML's SHA-256.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..errors import OptionError

__all__ = ["html_to_pdf", "weasyprint_available"]

#: Fixed SOURCE_DATE_EPOCH used while rendering (no timestamps in outputs).
SOURCE_DATE_EPOCH = "0"


def weasyprint_available() -> bool:
    """True when WeasyPrint can be imported."""
    try:
        import weasyprint  # noqa: F401
    except Exception:  # ImportError, or OSError when its system libraries are missing
        return False
    return True


def html_to_pdf(html: str, path: str | os.PathLike | None = None) -> bytes:
    """Render ``html`` to PDF bytes (and write them to ``path`` if given).

    Raises
    ------
    OptionError
        WeasyPrint is not installed; the message says how to install it.
    """
    try:
        from weasyprint import HTML
    except Exception as exc:  # ImportError or missing system libraries (pango)
        raise OptionError(
            f"PDF output needs WeasyPrint, which could not be loaded ({type(exc).__name__}: {exc}). "
            'Install it with: pip install "equity_metrics[pdf]" (and the Pango system library), '
            'or ask for HTML only: formats=("html",)'
        ) from None
    import logging

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    old = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = SOURCE_DATE_EPOCH
    try:
        ident = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode()
        data = HTML(string=html, base_url=None, url_fetcher=_no_fetch).write_pdf(pdf_identifier=ident)
    finally:
        if old is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = old
    if path is not None:
        from .._atomic import atomic_write_bytes

        atomic_write_bytes(path, data)
    return data


def _no_fetch(url: str, *args, **kwargs):
    """The report is self-contained: refuse every external fetch (no network at run time)."""
    raise OptionError(f"the report tried to load {url!r}; reports must be self-contained")
