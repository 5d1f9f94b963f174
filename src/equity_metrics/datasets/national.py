"""A seeded, national-size police.uk bulk download (44 forces, up to 10+ years), for scale tests.

:func:`write_national_archive` writes ``YYYY-MM/YYYY-MM-<force>-stop-and-search.csv``
files for the 43 territorial forces of England and Wales plus British Transport
Police, about 600,000 searches a year (10 years: ~6 million rows in ~5,000 files),
with the field vocabularies and marginal shares measured on the real 44-force
archive (2019-01..2021-11) and its quirks (``shared/data/README.md``):

* ``Date`` is UTC with ``+00:00``; times are drawn in local (Europe/London) time and
  converted, so in British Summer Time months a file starts at 23:xx UTC on the last
  day of the previous month, and local midnight (a date with no time) is 23:00:00 UTC;
* Cumbria writes fractional seconds (``.830000+00:00``);
* officer-defined ethnicity mostly blank for Gwent (94.6%), West Midlands (73.6%) and
  Cambridgeshire (56.4%); self-defined blank for North Yorkshire (59%);
* coordinates blank for South Yorkshire (100%), Thames Valley (91%), Lancashire (83%);
* coverage gaps: Greater Manchester only the first 6 months, West Midlands ending 8
  months early, Metropolitan missing from its 3rd month for up to 26 months, one
  missing month for Gwent and Cumbria, and several forces without the last month;
* exact duplicate rows (1-12% of a force's rows, drawn per force);
* times of day (``time_quirks=True``, measured with ``read_policeuk`` on the same
  archive, ``time_known``): City of London writes a 12-hour clock without am/pm (of
  7,939 searches none after 12:59 local, hours 1..12) and always a time; Dyfed-Powys
  never a time (8,659 searches, all at local midnight); Sussex, Wiltshire and Dorset
  a time on only 10.77% (2,464 / 22,874), 26.97% (1,094 / 4,056) and 35.41%
  (2,099 / 5,928) of searches. These draws use their own seeded stream, so every
  other force's file is the same with or without them.

It is for measuring speed and memory (``benchmarks/bench_scale.py``), not for
statistics: the planted truths of the analysis generator are in
:mod:`equity_metrics.datasets.synthetic`, whose recording profiles
(:mod:`._recording`) this module mirrors for the real forces' blank shares.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from ..areas import FORCES
from ..errors import OptionError
from ._recording import NFA
from ._vocab import POLICEUK_HEADER, TZ

__all__ = ["write_national_archive", "NationalArchive", "NATIONAL_QUIRKS"]

ROWS_PER_YEAR = 630_000  # ~600,000 written once the coverage gaps are left out

_TYPE = {"Person search": 0.753, "Person and Vehicle search": 0.216, "Vehicle search": 0.031}
_SEX = {"Male": 0.806, "Female": 0.096, "": 0.095, "Other": 0.003}
_AGE = {"18-24": 0.30, "25-34": 0.211, "over 34": 0.194, "10-17": 0.171, "": 0.123, "under 10": 0.001}
_SELF = {
    "White - English/Welsh/Scottish/Northern Irish/British": 0.55, "Other ethnic group - Not stated": 0.134, "": 0.06,
    "White - Any other White background": 0.051, "Asian/Asian British - Pakistani": 0.035,
    "Black/African/Caribbean/Black British - Any other Black/African/Caribbean background": 0.031,
    "Black/African/Caribbean/Black British - African": 0.029, "Asian/Asian British - Any other Asian background": 0.025,
    "Black/African/Caribbean/Black British - Caribbean": 0.021,
    "Mixed/Multiple ethnic groups - Any other Mixed/Multiple ethnic background": 0.011,
    "Mixed/Multiple ethnic groups - White and Black Caribbean": 0.010, "Asian/Asian British - Indian": 0.009,
    "Other ethnic group - Any other ethnic group": 0.009, "Asian/Asian British - Bangladeshi": 0.008,
    "White - Irish": 0.0055, "Mixed/Multiple ethnic groups - White and Asian": 0.0036,
    "Mixed/Multiple ethnic groups - White and Black African": 0.0032, "White - Gypsy or Irish Traveller": 0.0031,
    "Asian/Asian British - Chinese": 0.0007, "Other ethnic group - Arab": 0.0003,
}  # fmt: skip
_OFFICER_OF = {"White": "White", "Black": "Black", "Asian": "Asian", "Mixed": "Other", "Other": "Other"}
_LEGISLATION = {
    "Misuse of Drugs Act 1971 (section 23)": 0.612, "Police and Criminal Evidence Act 1984 (section 1)": 0.296,
    "": 0.072, "Criminal Justice and Public Order Act 1994 (section 60)": 0.011, "Firearms Act 1968 (section 47)": 0.007,
    "Psychoactive Substances Act 2016 (s36(2))": 0.0013, "Criminal Justice Act 1988 (section 139B)": 0.0008,
}  # fmt: skip
_OBJECT = {
    "Controlled drugs": 0.541, "": 0.131, "Offensive weapons": 0.11, "Article for use in theft": 0.074,
    "Stolen goods": 0.069, "Articles for use in criminal damage": 0.025, "Anything to threaten or harm anyone": 0.017,
    "Evidence of offences under the Act": 0.011, "Firearms": 0.0085, "Psychoactive substances": 0.0073, "Fireworks": 0.0062,
}  # fmt: skip
_OUTCOME = {
    NFA: 0.723, "Arrest": 0.124, "Community resolution": 0.056, "": 0.031, "Khat or Cannabis warning": 0.029,
    "Summons / charged by post": 0.022, "Penalty Notice for Disorder": 0.009, "Caution (simple or conditional)": 0.006,
}  # fmt: skip

#: The real forces' quirks the generator plants (shares of rows, or coverage rules).
NATIONAL_QUIRKS: dict[str, dict[str, float]] = {
    "officer_blank": {"gwent": 0.946, "west-midlands": 0.736, "cambridgeshire": 0.564},
    "self_blank": {"north-yorkshire": 0.59},
    "latlon_blank": {"south-yorkshire": 1.0, "thames-valley": 0.91, "lancashire": 0.83},
    "fractional_seconds": {"cumbria": 1.0},
    # measured share of searches with a time of day (read_policeuk time_known, 2019-01..2021-11)
    "time_recorded": {"city-of-london": 1.0, "dyfed-powys": 0.0, "sussex": 0.1077, "wiltshire": 0.2697, "dorset": 0.3541},
    # local times on a 12-hour clock without am/pm (no City of London search after 12:59)
    "twelve_hour_clock": {"city-of-london": 1.0},
}
# relative search volume (the Metropolitan force searches ~10x an average force)
_WEIGHT = {"metropolitan": 10.0, "west-midlands": 2.5, "greater-manchester": 2.0, "merseyside": 2.5, "west-yorkshire": 2.0,
           "essex": 1.5, "kent": 1.3, "south-yorkshire": 1.3, "thames-valley": 1.2, "city-of-london": 0.3}  # fmt: skip


@dataclass
class NationalArchive:
    """What :func:`write_national_archive` wrote: the folder, files, rows and planted coverage gaps."""

    folder: Path
    files: int
    rows: int
    months: list[str]
    forces: list[str]
    missing: list[tuple[str, str]] = field(default_factory=list)  # (force, month) with no file
    duplicates: int = 0  # rows that repeat an earlier row of their file exactly


def _draw(rng: np.random.Generator, probs: dict[str, float], n: int) -> np.ndarray:
    p = np.array(list(probs.values()), dtype=float)
    return np.array(list(probs), dtype=object)[rng.choice(len(p), size=n, p=p / p.sum())]


def _coverage(forces: list[str], months: list[str]) -> set[tuple[str, str]]:
    """Force-months with no file, placed by position in the window like the real archive's gaps."""
    n, gone = len(months), set()
    for i, m in enumerate(months):
        if "greater-manchester" in forces and i >= min(6, n - 1):
            gone.add(("greater-manchester", m))
        if "west-midlands" in forces and i >= n - min(8, n - 1):
            gone.add(("west-midlands", m))
        if "metropolitan" in forces and 2 <= i < min(n - 6, 28):  # like 2019-03..2021-05: at most 26 months
            gone.add(("metropolitan", m))
    for slug, at in (("gwent", n // 5), ("cumbria", (4 * n) // 5)):
        if slug in forces and n > 2:
            gone.add((slug, months[at]))
    for slug in ("avon-and-somerset", "dorset", "kent", "wiltshire"):
        if slug in forces and n > 1:
            gone.add((slug, months[-1]))
    return gone


def write_national_archive(
    folder: str | os.PathLike,
    *,
    years: int = 10,
    start: str = "2012-01",
    rows_per_year: int = ROWS_PER_YEAR,
    forces: list[str] | None = None,
    seed: int = 20261202,
    time_quirks: bool = True,
) -> NationalArchive:
    """Write a seeded police.uk bulk download of national size into ``folder``.

    Parameters
    ----------
    folder
        Where ``YYYY-MM/YYYY-MM-<force>-stop-and-search.csv`` go (created if needed).
    years
        Number of years (12 months each) from ``start``.
    start
        First month, ``"YYYY-MM"``.
    rows_per_year
        Searches per year over all forces (police.uk: about 600,000).
    forces
        police.uk slugs (default: all 44 forces).
    seed
        Seed of the random draws: the same arguments write the same bytes.
    time_quirks
        Plant the real forces' time-of-day quirks (``NATIONAL_QUIRKS["time_recorded"]``
        and ``["twelve_hour_clock"]``: City of London's 12-hour clock, Dyfed-Powys
        with no times, Sussex, Wiltshire and Dorset mostly date-only). ``False``
        writes what the generator wrote before these quirks existed.

    Returns
    -------
    NationalArchive
        The folder, number of files and rows, months, forces, the force-months left
        without a file, and the number of exact duplicate rows planted.

    Examples
    --------
    >>> import tempfile
    >>> a = write_national_archive(tempfile.mkdtemp(), years=1, rows_per_year=4_000, forces=["cumbria", "gwent"])
    >>> a.files, a.rows > 3_000, a.missing
    (22, True, [('cumbria', '2012-10'), ('gwent', '2012-03')])
    """
    if not isinstance(years, int) or isinstance(years, bool) or years < 1:
        raise OptionError(f"years={years!r}: give a whole number of years, at least 1")
    if not isinstance(rows_per_year, int) or rows_per_year < 1:
        raise OptionError(f"rows_per_year={rows_per_year!r}: give a positive whole number")
    slugs = sorted(FORCES) if forces is None else list(forces)
    unknown = [f for f in slugs if f not in FORCES]
    if unknown or not slugs:
        raise OptionError(f"forces={unknown or slugs!r}: give police.uk slugs such as 'west-yorkshire' (see areas.FORCES)")
    try:
        first = np.datetime64(start, "M")
    except ValueError:
        raise OptionError(f"start={start!r} is not a month; give 'YYYY-MM'") from None
    months = [str(first + i) for i in range(12 * years)]
    out = Path(folder)
    rng = np.random.default_rng(seed)
    gone = _coverage(slugs, months)
    weights = np.array([_WEIGHT.get(f, 1.0) for f in slugs])
    per_force_month = rows_per_year / 12 * weights / weights.sum()
    dup_share = {f: rng.uniform(0.01, 0.12) for f in slugs}
    nfiles = nrows = ndup = 0
    for m in months:
        (out / m).mkdir(parents=True, exist_ok=True)
        counts = rng.poisson(per_force_month)
        for f, k in zip(slugs, counts):
            if (f, m) in gone:
                continue
            qrng = _quirk_rng(seed, f, m) if time_quirks and _has_time_quirk(f) else None
            frame, d = _force_month(rng, f, m, int(k), dup_share[f], qrng)
            frame.write_csv(out / m / f"{m}-{f}-stop-and-search.csv", quote_style="necessary")
            nfiles, nrows, ndup = nfiles + 1, nrows + frame.height, ndup + d
    return NationalArchive(out, nfiles, nrows, months, slugs, sorted(gone), ndup)


def _has_time_quirk(force: str) -> bool:
    return force in NATIONAL_QUIRKS["time_recorded"] or force in NATIONAL_QUIRKS["twelve_hour_clock"]


def _quirk_rng(seed: int, force: str, month: str) -> np.random.Generator:
    """A stream of its own for one force-month's time quirks (the main stream is not touched)."""
    return np.random.default_rng([int(seed), zlib.crc32(f"{force}|{month}".encode())])


def _time_quirks(qrng: np.random.Generator, force: str, minutes: np.ndarray, midnight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minutes into the month and the date-only mask under the force's measured time quirks."""
    n = len(minutes)
    day = minutes // 1440
    share = NATIONAL_QUIRKS["time_recorded"].get(force)
    if share is not None:
        timed = qrng.random(n) < share
        fresh = qrng.integers(1, 1440, size=n)  # a time for a row drawn date-only (never exactly midnight)
        minutes = np.where(timed, np.where(midnight, day * 1440 + fresh, minutes), day * 1440)
        midnight = ~timed
    if NATIONAL_QUIRKS["twelve_hour_clock"].get(force, 0.0) > 0:
        tod = minutes - day * 1440
        h = tod // 60
        h12 = np.where(h % 12 == 0, 12, h % 12)
        minutes = np.where(midnight, minutes, day * 1440 + h12 * 60 + tod % 60)
    return minutes, midnight


def _force_month(
    rng: np.random.Generator, force: str, month: str, n: int, dup_share: float, qrng: np.random.Generator | None = None
) -> tuple[pl.DataFrame, int]:
    """One force-month file: ``n`` searches (plus planted exact duplicates), sorted by date."""
    m0 = np.datetime64(month, "M")
    days = int(((m0 + 1).astype("datetime64[D]") - m0.astype("datetime64[D]")).astype(np.int64))
    minutes = rng.integers(0, days * 24 * 60, size=n)
    seconds = np.where(rng.random(n) < 0.5, 0, rng.integers(0, 60, size=n))
    midnight = rng.random(n) < 0.03  # a date given without a time: local midnight
    minutes = np.where(midnight, (minutes // 1440) * 1440, minutes)
    if qrng is not None:
        minutes, midnight = _time_quirks(qrng, force, minutes, midnight)
    seconds = np.where(midnight, 0, seconds)
    local = m0.astype("datetime64[s]") + minutes.astype("timedelta64[m]") + seconds.astype("timedelta64[s]")
    frac = NATIONAL_QUIRKS["fractional_seconds"].get(force, 0.0) > 0
    micro = rng.integers(0, 1_000_000, size=n) if frac else np.zeros(n, dtype=np.int64)
    stamp = pl.Series("t", local.astype("datetime64[us]")) + pl.Series(micro).cast(pl.Duration("us"))
    utc = stamp.dt.replace_time_zone(TZ, ambiguous="earliest", non_existent="null").dt.convert_time_zone("UTC")
    utc = utc.fill_null(strategy="forward").fill_null(strategy="backward")  # the skipped spring hour
    fmt = "%Y-%m-%dT%H:%M:%S%.6f+00:00" if frac else "%Y-%m-%dT%H:%M:%S+00:00"
    self_def = _draw(rng, _SELF, n)
    if force in NATIONAL_QUIRKS["self_blank"]:
        self_def[rng.random(n) < NATIONAL_QUIRKS["self_blank"][force]] = ""
    broad = np.array([s.split("/")[0].split(" ")[0] if s else "" for s in _SELF], dtype=object)
    broad_of = dict(zip(_SELF, broad))
    officer = np.array([_OFFICER_OF.get(broad_of[s], "") for s in self_def], dtype=object)
    unknown_self = (self_def == "") | (self_def == "Other ethnic group - Not stated")
    officer[unknown_self] = _draw(rng, {"White": 0.7, "Black": 0.12, "Asian": 0.12, "Other": 0.06}, int(unknown_self.sum()))
    officer[rng.random(n) < NATIONAL_QUIRKS["officer_blank"].get(force, 0.08)] = ""
    outcome = _draw(rng, _OUTCOME, n)
    linked = np.where(outcome == NFA, "False", np.where(rng.random(n) < 0.6, "True", "False")).astype(object)
    linked[rng.random(n) < 0.5] = ""
    lat = np.round(rng.normal(52.5, 1.0, n), 6).astype(str).astype(object)
    lon = np.round(rng.normal(-1.5, 1.0, n), 6).astype(str).astype(object)
    no_xy = rng.random(n) < NATIONAL_QUIRKS["latlon_blank"].get(force, 0.02)
    lat[no_xy], lon[no_xy] = "", ""
    operation = _draw(rng, {"": 0.49, "False": 0.47, "True": 0.04}, n)
    cols = {
        "Type": _draw(rng, _TYPE, n), "Date": None, "Part of a policing operation": operation,
        "Policing operation": np.full(n, "", dtype=object), "Latitude": lat, "Longitude": lon,
        "Gender": _draw(rng, _SEX, n), "Age range": _draw(rng, _AGE, n), "Self-defined ethnicity": self_def,
        "Officer-defined ethnicity": officer, "Legislation": _draw(rng, _LEGISLATION, n), "Object of search": _draw(rng, _OBJECT, n),
        "Outcome": outcome, "Outcome linked to object of search": linked,
        "Removal of more than just outer clothing": _draw(rng, {"False": 0.63, "": 0.345, "True": 0.025}, n),
    }  # fmt: skip
    frame = pl.DataFrame({c: (utc.dt.strftime(fmt) if c == "Date" else pl.Series(c, v, dtype=pl.String))
                          for c, v in cols.items()})  # fmt: skip
    frame = frame.rename({"t": "Date"}) if "t" in frame.columns else frame
    k = int(rng.binomial(n, dup_share)) if n else 0
    if k:  # exact repeats of earlier rows (police.uk coarsens time and place)
        frame = pl.concat([frame, frame[np.sort(rng.choice(n, size=k))]])
    blank = [pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in POLICEUK_HEADER]  # written unquoted, as police.uk does
    frame = frame.select(blank).sort("Date", maintain_order=True)
    return frame, k
