"""Chicago Police Department records (Invisible Institute FOIA releases) through the mapped reader.

Three readers, each a built-in TOML mapping (``io/mappings/chicago_*.toml``)
applied to the main file after the auxiliary files are joined to it:

* :func:`read_chicago_use_of_force`: tactical response reports (TRR) 2004-2016;
* :func:`read_chicago_complaints`: complaints 2000-2016;
* :func:`read_chicago_cit_roster`: officers certified in the 40-hour Crisis
  Intervention Team (CIT) course.

**Officer key.** ``officer_id`` is ``"star:<star number>|appt:<YYYY-MM-DD>"``
(star number plus appointment date, because star numbers are reissued), so the
use-of-force and complaint events join to the training roster. Profiles without
a star number fall back to a file-specific key (``"trr-profile:<id>"``,
``"complaints-profile:<id>"``) that joins only within that file. With
``link_to=<folder>`` the roster reader also links officers whose star changed,
by name and appointment date against the TRR officer profiles (names are used
internally only).

**Names.** The source files hold officers' names. They are never put in the
tables or in the rejects (whose raw records are name-free) unless
``keep_names=True`` is passed explicitly.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from .._options import check_option
from ..errors import MissingColumnsError, ReadError
from ..ledger import ReadResult
from ._sources import _not_a_path, iter_files, raw_json
from .mapped import RawTable, assemble, builtin_mapping, load_mapping, load_table, map_table

__all__ = [
    "read_chicago_use_of_force",
    "read_chicago_complaints",
    "read_chicago_cit_roster",
    "read_chicago_officers",
    "officer_keys",
    "CIT_COURSE",
]

CIT_COURSE = "CIT 40-hour"
TRR_MAIN = "TRR-main_2004-2016_2016-09.csv.gz"
TRR_OFFICERS = "TRR-officers_2004-2016_2016-09.csv.gz"
TRR_PROFILES = "TRR-officers_2004-2016_2016-09_profiles.csv.gz"
TRR_SUBJECTS = "TRR-subjects_2004-2016_2016-09.csv.gz"
TRR_ID = "TRR-officers_2004-2016_2016-09_ID"
CR_MAIN = "complaints-complaints_2000-2016_2016-11.csv.gz"
CR_ACCUSED = "complaints-accused_2000-2016_2016-11.csv.gz"
CR_PROFILES = "complaints-accused_2000-2016_2016-11_profiles.csv.gz"
CR_COMPLAINANTS = "complaints-complainants_2000-2016_2016-11.csv.gz"
CR_ID = "complaints-accused_2000-2016_2016-11_ID"
CIT_FILE = "FOIA_P050308_ActiveSworn_CIT_40HR_Certified.xlsx"
PROFILES = "final-profiles.csv.gz"
_NAME_COLS = ("first_name", "last_name", "first_name_NS", "last_name_NS", "middle_initial", "middle_initial2", "suffix_name")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


_PLAIN = {"columns": {"datetime": "-"}, "constants": {"event_type": "other"}}
_NEEDS = {
    TRR_MAIN: ("trr_id",), TRR_OFFICERS: ("trr_id", TRR_ID, "rank", "unit", "duty_status", "in_uniform", "injured"),
    TRR_PROFILES: (TRR_ID, "current_star", "appointed_date", "gender", "race", "first_name", "last_name"),
    TRR_SUBJECTS: ("trr_id", "gender", "race", "age", "armed", "injured", "alleged_injury"),
    CR_MAIN: ("cr_id", "beat"), CR_ACCUSED: ("cr_id", CR_ID, "complaint_category"),
    CR_PROFILES: (CR_ID, "current_star", "appointed_date"), CR_COMPLAINANTS: ("cr_id", "race", "gender", "age"),
    PROFILES: ("UID", "current_star", "appointed_date", "resignation_date", "gender", "race", "birth_year"),
}


def _load(folder: str | os.PathLike, filename: str, spec=None) -> RawTable:
    if not isinstance(folder, (str, os.PathLike)) or isinstance(os.fspath(folder), bytes):
        raise _not_a_path(folder)
    path = Path(folder) / filename
    if not path.is_file():
        raise ReadError(f"the Chicago file {filename!r} is not in this folder", file=str(folder),
                        hint="Pass the folder holding the Invisible Institute files (e.g. ../shared/data/chicago)")
    ((name, data),) = list(iter_files(path, suffixes=(".gz", ".csv", ".xlsx")))
    raw = load_table(name, data, spec=spec or load_mapping(_PLAIN))
    missing = [c for c in _NEEDS.get(filename, ()) if c not in raw.frame.columns]
    if missing:
        raise MissingColumnsError(file=name, missing=missing, found=list(raw.frame.columns),
                                  hint="This is not the expected Invisible Institute release (2016-09 TRR / 2016-11 complaints)")
    return raw


def _num(s: pd.Series) -> pd.Series:
    """'21565.0' -> '21565' (numeric ids written as floats upstream)."""
    return s.astype("str").str.strip().str.replace(r"\.0+$", "", regex=True)


def officer_keys(star: pd.Series, appointed: pd.Series, fallback: pd.Series | None = None) -> pd.Series:
    """The officer key ``"star:<star>|appt:<YYYY-MM-DD>"`` (blank, or ``fallback``, when either is missing).

    Examples
    --------
    >>> import pandas as pd
    >>> officer_keys(pd.Series(["21565.0", ""]), pd.Series(["1994-01-18", "2001-02-03 00:00:00"])).tolist()
    ['star:21565|appt:1994-01-18', '']
    """
    st, ap = _num(star).reset_index(drop=True), appointed.astype("str").str.strip().reset_index(drop=True)
    ok = st.str.fullmatch(r"\d+").fillna(False) & ap.str.match(_DATE).fillna(False)
    key = ("star:" + st + "|appt:" + ap.str[:10]).where(ok, "")
    if fallback is not None:
        key = key.where(ok, fallback.reset_index(drop=True).astype("str"))
    return key.astype("str")


def _name_key(last: pd.Series, first: pd.Series, appointed: pd.Series) -> pd.Series:
    """Internal linking key from names and appointment date (never output)."""
    clean = lambda s: s.astype("str").str.upper().str.replace(r"\s+(JR|SR|II|III|IV|V)\.?$", "", regex=True).str.replace(r"[^A-Z]", "", regex=True)  # noqa: E731
    return (clean(last) + "|" + clean(first) + "|" + appointed.astype("str").str.strip().str[:10]).reset_index(drop=True)


def _first_by(frame: pd.DataFrame, key: str, name: str, notes: list[str]) -> pd.DataFrame:
    k = frame[key].astype("str").str.strip()
    dup = int(k.duplicated().sum())
    if dup:
        notes.append(f"{name}: {dup:,} row(s) repeat a {key} already seen; the first row in file order is used")
    return frame.assign(**{key: k}).drop_duplicates(key, keep="first").set_index(key)


def _distinct(by: pd.Series, values: pd.Series) -> pd.Series:
    """Distinct non-blank values per key, sorted and ';'-joined (fast for many small groups)."""
    acc: dict[str, set] = {}
    for k, v in zip(by.to_numpy(dtype=object), values.astype("str").str.strip().to_numpy(dtype=object)):
        if v:
            acc.setdefault(k, set()).add(v)
    return pd.Series({k: ";".join(sorted(v)) for k, v in acc.items()}, dtype=object)


def _aux_note(raw: RawTable) -> str:
    bad = f", {len(raw.bad):,} malformed record(s) not used" if raw.bad else ""
    return f"auxiliary file {os.path.basename(raw.name)}: {len(raw.frame):,} rows (sha256 {raw.sha256[:12]}...){bad}"


def _trr_profiles(folder) -> tuple[pd.DataFrame, RawTable]:
    prof_raw = _load(folder, TRR_PROFILES)
    prof = prof_raw.frame.copy()
    prof["pid"] = _num(prof[TRR_ID])
    prof["officer_key"] = officer_keys(prof["current_star"], prof["appointed_date"], "trr-profile:" + prof["pid"]).to_numpy()
    return prof, prof_raw


def read_chicago_use_of_force(folder: str | os.PathLike, *, keep_names: bool = False) -> ReadResult:
    """Read the Chicago tactical response reports (use of force), 2004-2016.

    TRR-main (one row per report: date + time, beat, location) is joined to
    TRR-officers (``trr_id`` -> officer row), the officer profiles (officer row
    ``TRR-officers_2004-2016_2016-09_ID`` -> star number, appointment date,
    gender, race) and TRR-subjects (race -> ``ethnicity`` in the US scheme,
    gender, age). Reports without an officer row or profile are rejected with
    that reason; ``ledger.notes`` gives the officer link rate.

    Parameters
    ----------
    folder
        The folder holding the ``TRR-*`` files (e.g. ``../shared/data/chicago``).
    keep_names
        Keep the officer's first and last name as columns (off by default: names
        must not reach reader-facing outputs).

    Returns
    -------
    ReadResult
        Events (``event_type="use_of_force"``, times local to America/Chicago),
        ``officer_id`` as ``"star:<star>|appt:<YYYY-MM-DD>"``.

    Examples
    --------
    >>> res = read_chicago_use_of_force("../shared/data/chicago")  # doctest: +SKIP
    >>> res.ledger.rows_read  # doctest: +SKIP
    67019
    """
    spec = load_mapping(_with_names(builtin_mapping("chicago_trr"), keep_names, "officer_"), kind="events")
    notes: list[str] = []
    main = _load(folder, TRR_MAIN, spec)
    off_raw = _load(folder, TRR_OFFICERS)
    prof, prof_raw = _trr_profiles(folder)
    subj_raw = _load(folder, TRR_SUBJECTS)
    notes += [_aux_note(r) for r in (off_raw, prof_raw, subj_raw)]
    off = _first_by(off_raw.frame, "trr_id", "TRR-officers", notes)
    off["pid"] = _num(off[TRR_ID])
    profs = _first_by(prof, "pid", "TRR-officers profiles", notes)
    subj = _first_by(subj_raw.frame, "trr_id", "TRR-subjects", notes)
    df = main.frame.copy()
    tid = df["trr_id"].astype("str").str.strip()
    pid = tid.map(off["pid"])
    has_off, has_prof = pid.notna(), pid.map(profs["officer_key"]).notna()
    for src, dst in (("rank", "officer_rank"), ("unit", "officer_unit"), ("duty_status", "officer_duty_status"),
                     ("in_uniform", "officer_in_uniform"), ("injured", "officer_injured")):
        df[dst] = tid.map(off[src]).fillna("").astype("str")
    for src, dst in (("officer_key", "officer_key"), ("gender", "officer_gender"), ("race", "officer_race"),
                     ("appointed_date", "officer_appointed")) + ((("first_name", "officer_first_name"), ("last_name", "officer_last_name")) if keep_names else ()):
        df[dst] = pid.map(profs[src]).fillna("").astype("str")
    df["officer_link"] = np.where(~has_prof, "", np.where(df["officer_key"].str.startswith("star:"), "star+appointment", "profile id"))
    for src in ("gender", "race", "age", "armed", "injured", "alleged_injury"):
        df[f"subject_{src}"] = tid.map(subj[src]).fillna("").astype("str")
    nosubj = int((~tid.isin(subj.index)).sum())
    if nosubj:
        notes.append(f"{nosubj:,} report(s) have no TRR-subjects row: subject ethnicity, sex and age are blank")
    reason = pd.Series(np.where(~has_off, "no officer record in TRR-officers for this trr_id",
                                np.where(~has_prof, "officer id not found in the TRR officer profiles", None)), dtype=object)
    main.frame = df
    part = map_table(main, spec, pre_reject=reason)
    n, linked = len(df), int(has_prof.sum())
    by_star = int((has_prof & df["officer_key"].str.startswith("star:")).sum())
    notes.append(f"officer link rate: {linked:,} of {n:,} reports ({100 * linked / max(n, 1):.1f}%) link to an officer "
                 f"profile; {by_star:,} ({100 * by_star / max(n, 1):.1f}%) through a star number and appointment date "
                 f"(officer_id 'star:<star>|appt:<date>'), {linked - by_star:,} through the file-specific profile id "
                 "('trr-profile:<id>', no star number)")
    choices = {"officer_id": "star:<star>|appt:<YYYY-MM-DD> from the TRR officer profile (trr-profile:<id> without a star)",
               "officer_names": "kept (keep_names=True)" if keep_names else "dropped"}
    return assemble([part], spec, source="chicago", choices=choices, notes=notes)


def _with_names(mapping: dict, keep_names: bool, prefix: str) -> dict:
    if keep_names:
        mapping.setdefault("keep", {}).update({f"{prefix}first_name": f"{prefix}first_name", f"{prefix}last_name": f"{prefix}last_name"})
    return mapping


def read_chicago_complaints(folder: str | os.PathLike) -> ReadResult:
    """Read the Chicago complaints 2000-2016: one row per complaint.

    complaints-complaints (incident date + time, beat) is joined to
    complaints-accused (``cr_id`` -> accused officer) and the accused profiles
    (star number, appointment date), and to complaints-complainants (race ->
    ``ethnicity`` in the US scheme).

    Rules, documented and counted in ``ledger.notes``:

    * **Accused officers.** ``officer_id`` is set when exactly one officer is
      accused; ``accused_count`` and ``officer_ids`` (all accused keys, sorted,
      ``;``-separated) are always given, so officer-level analyses can explode
      ``officer_ids``. A complaint with no accused officer is kept (officer blank).
      No names are read into the table (officers are keys).
    * **Several complainants.** ``ethnicity``, ``sex`` and ``age`` describe the
      first complainant in file order whose race is recorded (else the first
      complainant); ``complainant_count`` and ``complainant_races`` (distinct raw
      races) are given so that another rule can be applied.
    * **Beat** ``1631.0`` is written ``1631``; beat ``0`` is read as blank.

    Parameters
    ----------
    folder
        The folder holding the ``complaints-*`` files.

    Examples
    --------
    >>> res = read_chicago_complaints("../shared/data/chicago")  # doctest: +SKIP
    >>> res.ledger.rows_read  # doctest: +SKIP
    109339
    """
    spec = load_mapping(builtin_mapping("chicago_complaints"), kind="events")
    notes: list[str] = []
    main = _load(folder, CR_MAIN, spec)
    acc_raw, prof_raw, comp_raw = (_load(folder, f) for f in (CR_ACCUSED, CR_PROFILES, CR_COMPLAINANTS))
    notes += [_aux_note(r) for r in (acc_raw, prof_raw, comp_raw)]
    prof = _first_by(prof_raw.frame.assign(pid=_num(prof_raw.frame[CR_ID])), "pid", "accused profiles", notes)
    prof["key"] = officer_keys(prof["current_star"], prof["appointed_date"], "complaints-profile:" + prof.index.to_series()).to_numpy()
    acc = acc_raw.frame.assign(cr=acc_raw.frame["cr_id"].astype("str").str.strip(), pid=_num(acc_raw.frame[CR_ID]))
    acc["key"] = acc["pid"].map(prof["key"]).fillna("complaints-accused:" + acc["pid"]).astype("str")
    keys, count = _distinct(acc["cr"], acc["key"]), acc.groupby("cr").size()
    cats = _distinct(acc["cr"], acc["complaint_category"])
    comp = comp_raw.frame.assign(cr=comp_raw.frame["cr_id"].astype("str").str.strip())
    comp["has_race"] = comp["race"].astype("str").str.strip() != ""
    chosen = comp.sort_values("has_race", ascending=False, kind="stable").drop_duplicates("cr").set_index("cr")
    ccount = comp.groupby("cr").size()
    races = _distinct(comp["cr"], comp["race"])
    df = main.frame.copy()
    cr = df["cr_id"].astype("str").str.strip()
    n_acc = cr.map(count).fillna(0).astype(int)
    df["accused_count"] = n_acc.astype("str")
    df["officer_ids"] = cr.map(keys).fillna("").astype("str")
    df["officer_key"] = df["officer_ids"].where(n_acc == 1, "")
    df["complaint_categories"] = cr.map(cats).fillna("").astype("str")
    n_c = cr.map(ccount).fillna(0).astype(int)
    df["complainant_count"] = n_c.astype("str")
    df["complainant_races"] = cr.map(races).fillna("").astype("str")
    for c in ("race", "gender", "age"):
        df[f"complainant_{c}"] = cr.map(chosen[c]).fillna("").astype("str")
    beat = _num(df["beat"])
    zero = beat == "0"
    df["beat_norm"] = beat.where(~zero, "")
    main.frame = df
    part = map_table(main, spec)
    mixed = int((df["complainant_races"].str.contains(";")).sum())
    notes += [
        f"accused officers: {int((n_acc == 0).sum()):,} complaint(s) with none, {int((n_acc == 1).sum()):,} with one "
        f"(officer_id set), {int((n_acc > 1).sum()):,} with several (officer_id blank; all keys in officer_ids)",
        f"complainants: {int((n_c == 0).sum()):,} complaint(s) with none (ethnicity Not stated), "
        f"{int((n_c > 1).sum()):,} with several, of which {mixed:,} with different recorded races: the first "
        "complainant (file order) with a recorded race is used",
        f"beat: {int(zero.sum()):,} complaint(s) with beat 0 read as blank",
    ]
    if "incident_time" in df.columns:
        notes.append(f"incident_time: {int((df['incident_time'].str.strip() == '00:00:00').sum()):,} complaint(s) at "
                     "exactly 00:00:00, which may stand for an unknown time (kept as midnight, time_known True)")
    choices = {"officer_id": "star:<star>|appt:<YYYY-MM-DD> of the single accused officer (blank when 0 or 2+ accused)",
               "complainant_rule": "first complainant with a recorded race (file order)"}
    return assemble([part], spec, source="chicago", choices=choices, notes=notes)


def read_chicago_cit_roster(
    path: str | os.PathLike,
    *,
    link_to: str | os.PathLike | None = None,
    repeats: Literal["flag", "first"] = "flag",
    keep_names: bool = False,
) -> ReadResult:
    """Read the Chicago 40-hour CIT certification roster (FOIA P050308).

    The workbook has five title rows (date run, module id, status filters), the
    header ``LAST NAME, FIRST NAME, STAR/BADGE, DATE OF APPOINTMENT, GENDER,
    SESSION END DATE`` and a blank row. The title rows go to ``ledger.notes`` and
    ``ledger.choices`` (``module_id``, ``date_run``).

    Star numbers are reissued, so the officer key is star + appointment date
    (``"star:<star>|appt:<YYYY-MM-DD>"``). Stars that repeat are reported in the
    ledger. When the same officer (same key) is listed more than once,
    ``completed`` is their earliest session end date on every row, ``session_end``
    keeps the row's own date, and later rows have ``repeat_completion=True``
    (``repeats="flag"``, all rows kept); with ``repeats="first"`` the later rows
    are rejected with that reason instead, leaving one row per officer.

    Parameters
    ----------
    path
        The ``.xlsx`` file.
    link_to
        Optional folder with the TRR files: officers whose star+appointment key is
        not among the TRR officer profiles are linked by name and appointment
        date (names used internally only) and take the TRR profile's key, so
        that ``officer_id`` joins to :func:`read_chicago_use_of_force`. The
        method is in column ``officer_link``; counts in ``ledger.notes``.
    repeats
        ``"flag"`` (default) or ``"first"``.
    keep_names
        Keep ``last_name`` and ``first_name`` columns (off by default).

    Examples
    --------
    >>> res = read_chicago_cit_roster("../shared/data/chicago/" + CIT_FILE)  # doctest: +SKIP
    >>> res.ledger.rows_read, res.data["course"].iloc[0]  # doctest: +SKIP
    (2236, 'CIT 40-hour')
    """
    check_option("repeats", repeats, Literal["flag", "first"])
    m = builtin_mapping("chicago_cit")
    if keep_names:
        m["keep"].update({"last_name": "LAST NAME", "first_name": "FIRST NAME"})
    spec = load_mapping(m, kind="training")
    ((name, data),) = list(iter_files(path, suffixes=(".xlsx",)))
    raw = load_table(name, data, spec=spec)
    df = raw.frame.copy()
    for c in ("STAR/BADGE", "DATE OF APPOINTMENT", "SESSION END DATE", "LAST NAME", "FIRST NAME"):
        if c not in df.columns:
            raise MissingColumnsError(file=name, missing=[c], found=list(df.columns))
    notes, choices = [], {"officer_id": "star:<star>|appt:<YYYY-MM-DD> (star numbers are reissued)", "course": CIT_COURSE}
    for t in raw.title:
        t = re.sub(r"\s+", " ", t).strip()
        if t.lower().startswith("module id"):
            choices["module_id"] = t.split("=", 1)[-1].strip()
        elif t.lower().startswith("date run"):
            choices["date_run"] = t.split(":", 1)[-1].strip()
    df["officer_key"] = officer_keys(df["STAR/BADGE"], df["DATE OF APPOINTMENT"]).to_numpy()
    names = _name_key(df["LAST NAME"], df["FIRST NAME"], df["DATE OF APPOINTMENT"])
    if link_to is not None:
        df["officer_link"], df["officer_key"], link_notes = _link(df["officer_key"], names, link_to)
        notes += link_notes
        spec = load_mapping({**m, "keep": {**m["keep"], "officer_link": "officer_link"}}, kind="training")
    # repeated stars and repeated officers
    star = _num(df["STAR/BADGE"])
    key = df["officer_key"]
    per_star = pd.DataFrame({"star": star, "key": key})[star != ""].groupby("star")["key"].agg(["size", "nunique"])
    rep = per_star[per_star["size"] > 1]
    end = pd.to_datetime(df["SESSION END DATE"].str.strip(), format="ISO8601", errors="coerce")
    order = pd.DataFrame({"key": key, "end": end, "i": np.arange(len(df))}).sort_values(["end", "i"], kind="stable")
    later = order[(order["key"] != "") & order["key"].duplicated()]["i"].to_numpy()
    is_later = np.zeros(len(df), bool)
    is_later[later] = True
    notes.append(f"{len(rep):,} star number(s) appear on more than one row ({int(rep['size'].sum()):,} rows): "
                 f"{int((rep['size'] > rep['nunique']).sum()):,} with the same officer (star + appointment date) listed "
                 f"again, {int((rep['nunique'] > 1).sum()):,} shared by different officers (reissued; kept as separate officers)")
    notes.append(f"{int(is_later.sum()):,} row(s) repeat an officer already listed: completed = the officer's earliest "
                 + ("session end date, later rows flagged repeat_completion" if repeats == "flag" else "session end date, later rows rejected"))
    choices["repeat_completions"] = "earliest completion kept as completed; " + ("later rows flagged" if repeats == "flag" else "later rows rejected")
    pre = pd.Series(np.where(is_later, "repeat completion of an officer already listed (earliest kept)", None), dtype=object) if repeats == "first" else None
    if not keep_names:
        df = df.drop(columns=["LAST NAME", "FIRST NAME"])
        notes.append("name columns dropped (also from the raw records of rejected rows); keep_names=True keeps them")
    raw.frame = df
    part = map_table(raw, spec, pre_reject=pre)
    d = part.data
    d["session_end"] = d["completed"]
    first = d.groupby("officer_id")["completed"].transform("min")
    d["completed"] = first.where(first.notna(), d["completed"])
    d["repeat_completion"] = pd.array(is_later[part.data.index.to_numpy()], dtype="boolean")
    return assemble([part], spec, source="chicago", choices=choices, notes=notes)


def _link(key: pd.Series, names: pd.Series, folder) -> tuple[np.ndarray, pd.Series, list[str]]:
    prof, _ = _trr_profiles(folder)
    trr_keys = set(prof["officer_key"])
    pn = _name_key(prof["last_name"], prof["first_name"], prof["appointed_date"])
    counts = pn.value_counts()
    unique = dict(zip(pn[pn.map(counts) == 1], prof["officer_key"][(pn.map(counts) == 1).to_numpy()]))
    by_star = key.isin(trr_keys).to_numpy() & (key != "").to_numpy()
    by_name = ~by_star & names.isin(unique.keys()).to_numpy()
    new_key = key.where(~by_name, names.map(unique)).astype("str")
    how = np.where(by_star, "star+appointment", np.where(by_name, "name+appointment", "unlinked"))
    officers = pd.DataFrame({"k": new_key, "how": how}).drop_duplicates("k")
    c = Counter(officers["how"])
    ambiguous = int((~by_star & names.isin(set(counts[counts > 1].index)).to_numpy()).sum())
    note = (f"link to the TRR officer profiles: {len(officers):,} officers; {c['star+appointment']:,} linked by star + "
            f"appointment date, {c['name+appointment']:,} by name + appointment date (star changed; names used internally "
            f"only), {c['unlinked']:,} not linked" + (f"; {ambiguous} row(s) with an ambiguous name match left unlinked" if ambiguous else ""))
    return how, new_key, [note]


def read_chicago_officers(
    folder: str | os.PathLike,
    *,
    in_service_on: str | None = None,
    keep_names: bool = False,
) -> ReadResult:
    """Read the Chicago officer master profiles (``final-profiles.csv.gz``): the officer population.

    Use-of-force and complaint files list only officers who had an event; an
    officer-month panel also needs the officers who had none, with their
    service dates (exposure). This reader gives one row per officer:
    ``officer_id`` (``"star:<star>|appt:<YYYY-MM-DD>"``, the key of the other
    Chicago readers), ``appointed``, ``resigned`` (NaT while in service),
    ``sex``, ``race``, ``birth_year``, ``force="chicago"``.

    Rows are rejected, with the reason, when the profile has no star number
    (it cannot join to the events or the roster: mostly officers who left
    before the 2000s), no valid appointment date, when the key repeats an
    earlier profile (the first is kept), or, with ``in_service_on``, when the
    officer had resigned by that date.

    Parameters
    ----------
    folder
        Folder holding ``final-profiles.csv.gz`` (e.g. ``../shared/data/chicago``).
    in_service_on
        Keep only officers appointed on or before and not resigned before this
        date (``"YYYY-MM-DD"``). The CIT roster lists officers *active* on its
        run date (2016-08-19), so a fair comparison group is the officers in
        service on that date.
    keep_names
        Keep ``first_name`` / ``last_name`` (off by default).

    Returns
    -------
    ReadResult
        ``kind="officers"``.

    Examples
    --------
    >>> res = read_chicago_officers("../shared/data/chicago", in_service_on="2016-08-19")  # doctest: +SKIP
    >>> res.data.columns.tolist()[:4]  # doctest: +SKIP
    ['officer_id', 'appointed', 'resigned', 'sex']
    """
    from ..ledger import FileRecord, Ledger, Rejects

    raw = _load(folder, PROFILES)
    f = raw.frame.reset_index(drop=True)
    n = len(f)
    key = officer_keys(f["current_star"], f["appointed_date"])
    appointed = pd.to_datetime(f["appointed_date"].astype("str").str.strip().str[:10], format="%Y-%m-%d", errors="coerce")
    resigned_txt = f["resignation_date"].astype("str").str.strip()
    resigned = pd.to_datetime(resigned_txt.str[:10], format="%Y-%m-%d", errors="coerce")
    bad_resign = (resigned_txt != "") & resigned.isna()
    reason = np.full(n, None, dtype=object)
    column = np.full(n, "", dtype=object)
    reason[appointed.isna().to_numpy()] = "no valid appointment date"
    column[appointed.isna().to_numpy()] = "appointed_date"
    nostar = (key == "").to_numpy() & (reason == None)  # noqa: E711
    reason[nostar] = "no star number: the profile cannot join to use-of-force, complaints or the CIT roster"
    column[nostar] = "current_star"
    br = bad_resign.to_numpy() & (reason == None)  # noqa: E711
    reason[br] = "resignation date is not a date (YYYY-MM-DD)"
    column[br] = "resignation_date"
    dup = key.duplicated().to_numpy() & (reason == None)  # noqa: E711
    reason[dup] = "repeats the star + appointment date of an earlier profile (first kept)"
    column[dup] = "current_star"
    notes = [f"{int(dup.sum()):,} profile(s) repeat an officer key; the first in file order is kept"]
    if in_service_on is not None:
        day = pd.Timestamp(in_service_on)
        out = ((appointed > day) | (resigned < day)).to_numpy() & (reason == None)  # noqa: E711
        reason[out] = f"not in service on {day.date()} (in_service_on)"
        column[out] = "resignation_date"
        notes.append(f"kept officers in service on {day.date()}: appointed on or before, not resigned before")
    keep = reason == None  # noqa: E711
    data = pd.DataFrame({
        "officer_id": key[keep].to_numpy(),
        "appointed": appointed[keep].to_numpy(),
        "resigned": resigned[keep].to_numpy(),
        "sex": f["gender"][keep].astype("str").str.strip().str.title().to_numpy(),
        "race": f["race"][keep].astype("str").str.strip().to_numpy(),
        "birth_year": pd.array(pd.to_numeric(f["birth_year"][keep], errors="coerce").round(), dtype="Int64"),
        "force": "chicago",
    })
    if keep_names:
        data["first_name"] = f["first_name"][keep].to_numpy()
        data["last_name"] = f["last_name"][keep].to_numpy()
    data = data.sort_values("officer_id", kind="stable").reset_index(drop=True)
    rej_mask = ~keep
    name_free = f.drop(columns=[c for c in _NAME_COLS if c in f.columns])
    rejects = pd.DataFrame({
        "file": raw.name,
        "line": raw.lines[rej_mask] if len(raw.lines) == n else np.arange(n)[rej_mask] + 2,
        "row": np.arange(n)[rej_mask] + 1,
        "column": column[rej_mask],
        "value": [str(name_free[c].iloc[i]) if c in name_free.columns else "" for i, c in zip(np.flatnonzero(rej_mask), column[rej_mask])],
        "reason": reason[rej_mask],
        "raw": raw_json(name_free, rej_mask),
    })
    led = Ledger(source="chicago")
    led.files = [FileRecord(raw.name, n, int(keep.sum()), int(rej_mask.sum()), raw.encoding, raw.sha256, list(raw.notes))]
    led.rejected_by_reason = {k: int(v) for k, v in sorted(Counter(reason[rej_mask]).items())}
    led.areas_covered = ["chicago"]
    led.choices = {"officer_id": "star:<star>|appt:<YYYY-MM-DD> (current star + appointment date)",
                   "in_service_on": in_service_on, "officer_names": "kept" if keep_names else "dropped"}
    led.notes = notes + ["name columns dropped (also from the raw records of rejected rows)" if not keep_names else "names kept (keep_names=True)"]
    if raw.bad:
        raise ReadError(f"{len(raw.bad)} malformed record(s) in the officer profiles", file=raw.name,
                        hint="The file looks damaged; re-download final-profiles.csv.gz")
    return ReadResult(data=data, ledger=led, rejects=Rejects(rejects), kind="officers")
