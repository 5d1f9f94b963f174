"""Stanford Open Policing Project (OPP) standardized stop files.

The OPP publishes one CSV per city or state with a shared set of columns
(``raw_row_number, date, time, location, lat, lng, district, subject_age,
subject_race, subject_sex, officer_id_hash, type, outcome, arrest_made,
citation_issued, warning_issued, search_conducted, search_basis,
contraband_found, ...``); not every file has every column. This reader is the
generic mapped reader with the built-in mapping ``mappings/opp.toml``.

Conventions followed (see https://github.com/stanford-policylab/opp):

* ``subject_race`` is already coded with Hispanic overriding race. If a file
  also carries a ``subject_ethnicity`` or ``raw_*ethnicity*`` column whose value
  means Hispanic, the override is applied again here and recorded in
  ``ledger.choices["hispanic_override"]``.
* ``NA`` is missing; booleans are ``TRUE``/``FALSE``.
* ``hit`` is ``contraband_found`` and is only meaningful where a search was
  conducted: it is set to NA where ``search_conducted`` is FALSE (counted in
  the ledger notes), and kept where the search flag is unknown.
* Times are local wall-clock times with no zone in the file: pass the city's
  zone as ``tz`` (e.g. ``"America/Chicago"``). The default ``"UTC"`` only keeps
  the wall-clock values unchanged; it is recorded in ``ledger.choices``.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable

import pandas as pd

from ..errors import MappingError, OptionError
from ..ledger import ReadResult
from .mapped import _SUFFIXES, _check_read_args, assemble, builtin_mapping, load_mapping, load_table, map_table
from ._sources import iter_files

__all__ = ["read_opp", "OPP_BOOLEAN_EXTRAS"]

#: Extra OPP yes/no columns carried through as nullable booleans.
OPP_BOOLEAN_EXTRAS = ("citation_issued", "warning_issued", "frisk_performed", "contraband_drugs",
                      "contraband_weapons", "search_person", "search_vehicle")
_TRUE, _FALSE = {"true", "t", "1", "yes", "y"}, {"false", "f", "0", "no", "n"}


def read_opp(
    sources,
    *,
    tz: str = "UTC",
    force: str | None = None,
    hispanic_values: Iterable[str] | None = None,
    encoding: str = "auto",
) -> ReadResult:
    """Read Stanford Open Policing Project standardized stop files.

    Parameters
    ----------
    sources
        A file (``.csv`` or ``.csv.gz``), list, glob, folder or archive.
    tz
        Time zone the local dates and times are in (default ``"UTC"``: the wall
        clock is kept as is; pass e.g. ``"America/Chicago"``). DST gaps are shifted
        forward, repeated hours take the first (daylight) occurrence.
    force
        Optional area label written to the ``force`` column (e.g. ``"il-chicago"``).
    hispanic_values
        Values of a ``subject_ethnicity`` / ``raw_*ethnicity*`` column that mean
        Hispanic (default: hispanic, h, latino, latina, hispanic or latino, yes, y).
    encoding
        ``"auto"`` or a codec name.

    Returns
    -------
    ReadResult
        Events with ``event_type="stop"``, ``source="opp"``, ethnicity in the US
        scheme, ``arrest`` (arrest_made), ``search_conducted``, ``hit``
        (contraband_found where searched), plus the extra OPP columns kept.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "opp.csv"
    >>> _ = p.write_text("raw_row_number,date,time,subject_race,subject_sex,search_conducted,contraband_found\\n"
    ...                  "1,2017-03-01,14:05:00,black,male,TRUE,FALSE\\n2,2017-03-01,NA,hispanic,female,FALSE,NA\\n")
    >>> res = read_opp(p, tz="America/Chicago")
    >>> res.data["ethnicity"].astype(str).tolist(), res.data["time_known"].tolist()
    (['Black', 'Hispanic'], [True, False])
    """
    _check_read_args(sheet=None, header_row=None, encoding=encoding)
    if isinstance(hispanic_values, str) or (hispanic_values is not None and not isinstance(hispanic_values, Iterable)):
        raise OptionError(f"hispanic_values={hispanic_values!r}: give a list of values, e.g. ['H', 'Hispanic']")
    if not isinstance(tz, str):
        raise OptionError(f"tz={tz!r}: give a time zone name such as 'America/Chicago' or 'UTC'")
    m = builtin_mapping("opp")
    try:
        m["dates"]["datetime"]["tz"] = tz
    except (TypeError, KeyError):  # pragma: no cover - the built-in mapping is fixed
        raise MappingError("the built-in OPP mapping is damaged; reinstall equity_metrics") from None
    if force is not None:
        m["constants"]["force"] = str(force)
    if hispanic_values is not None:
        m["ethnicity"]["hispanic_values"] = [str(v) for v in hispanic_values]
    spec = load_mapping(m, kind="events")
    parts = [map_table(load_table(name, data, spec=spec, encoding=encoding), spec)
             for name, data in iter_files(sources, suffixes=_SUFFIXES)]
    notes, overrides = [], 0
    for p in parts:
        d = p.data
        if "hit" in d.columns:
            no_search = d["search_conducted"].eq(False).fillna(False) if "search_conducted" in d.columns else False
            stray = d["hit"].notna() & no_search
            if stray.any():
                notes.append(f"{os.path.basename(p.record.file)}: {int(stray.sum())} contraband_found value(s) on rows "
                             "without a search set to NA (hit is only meaningful where a search was conducted)")
                d.loc[stray, "hit"] = None
        for c in OPP_BOOLEAN_EXTRAS:
            if c in d.columns:
                low = d[c].astype("string").str.strip().str.lower()
                val = pd.Series(pd.NA, index=d.index, dtype="boolean")
                val[low.isin(_TRUE).fillna(False).to_numpy(bool)] = True
                val[low.isin(_FALSE).fillna(False).to_numpy(bool)] = False
                bad = low.notna() & val.isna()
                p.unknown[c] += int(bad.sum())
                if bad.any():
                    p.unmapped[c] = Counter(d.loc[bad, c].astype(str).tolist())
                d[c] = val
        overrides += sum(int(n.split()[2]) for n in p.notes if n.startswith("hispanic override"))
    choices = {"hispanic_override": f"Hispanic overrides race (OPP standard); {overrides} row(s) changed "
                                    "from a subject_ethnicity / raw_*ethnicity* column"}
    return assemble(parts, spec, source="opp", choices=choices, notes=notes)
