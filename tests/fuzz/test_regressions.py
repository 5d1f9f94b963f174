"""Minimal cases found by the fuzz campaign (issue 10), one explicit test each.

Each is the smallest input the campaign shrank to. A known failure is first recorded
with ``xfail(strict=True)`` and its input class left out of the campaign's strategy;
once fixed, the xfail and the exclusion are removed together and the test stays as a
regression. Both findings so far are fixed (a trailing lone CR counted as a row; the
Chicago readers given a folder as bytes).
"""

from __future__ import annotations

import gzip
import os

import pytest

from equity_metrics.errors import EquityMetricsError
from equity_metrics.io import read_chicago_complaints, read_chicago_officers, read_chicago_use_of_force

from .campaign import check_result
from .seeds import SEEDS

def _one_row_file(tmp_path, key: str, tail: bytes, *, repeat_row: bool = False):
    import csv
    import io

    seed = SEEDS[key]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(seed.header)
    w.writerow(seed.rows[0])
    data = buf.getvalue().encode() + tail
    if repeat_row:  # the blank CR line between two records, not at the end
        data += buf.getvalue().splitlines(keepends=True)[1].encode()
    folder = tmp_path / "in"
    folder.mkdir()
    p = folder / seed.name
    p.write_bytes(gzip.compress(data, mtime=0) if seed.gzip else data)
    for other, text in seed.companions.items():
        (folder / other).write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
    return seed.reader(folder if seed.folder else p, **seed.kwargs)


# Finding 1, fixed (campaign, read_homeoffice_stop_search first; every CSV reader shares it): a blank
# line ended by a lone CR after an LF ("...\n\r") is read as a data row of blank fields and
# rejected ("blank 'financial_year': the row cannot be placed"), so rows_read is one more than
# the records in the file. The fast (pyarrow) path in io/_sources.parse_csv_text only looks for
# "\n\n" / "\n\r\n" blank lines.
@pytest.mark.parametrize("key", sorted(SEEDS))
def test_lone_cr_blank_line_at_end_is_not_a_row(tmp_path, key):
    res = _one_row_file(tmp_path, key, b"\r")
    check_result(res, expected=1)


@pytest.mark.parametrize("key", sorted(SEEDS))
def test_lone_cr_blank_line_between_rows_is_not_a_row(tmp_path, key):
    res = _one_row_file(tmp_path, key, b"\r", repeat_row=True)
    check_result(res, expected=2)


# Finding 2, fixed (campaign, read_chicago_officers): a folder given as bytes
# (read_chicago_officers(os.fsencode(folder))) raises a foreign TypeError from pathlib
# ("argument should be a str object or an os.PathLike object returning str, not <class 'bytes'>")
# instead of the ReadError the other readers raise ("got bytes where a path was expected").
# The same holds for read_chicago_use_of_force and read_chicago_complaints.
@pytest.mark.parametrize("reader", [read_chicago_officers, read_chicago_use_of_force, read_chicago_complaints],
                         ids=lambda f: f.__name__)
def test_chicago_folder_as_bytes_is_a_library_error(tmp_path, reader):
    try:
        reader(os.fsencode(tmp_path))
    except EquityMetricsError:
        return
