"""The command report's configuration: a TOML file read into :class:`ReportConfig`.

A config names the input files (relative paths are relative to the config file's
folder), the area the report is about, the groups, the benchmark and the options.
Every value is checked on load; a bad value raises :class:`~equity_metrics.errors.OptionError`
or :class:`~equity_metrics.errors.DataValidationError` naming the key, the allowed
values and the fix. See ``docs/report.md`` for every key.

Layout of the file::

    title = "Stop and search in Northshire"
    area = "northshire"            # the force the headline is about (police.uk slug)
    period = "FY"                  # FY, rolling12, year, quarter, month
    suppress_below = 10
    output = "output/sample"

    [inputs]
    stops = ["../data/samples/policeuk"]
    population = "../data/samples/population.csv"
    training = "../data/samples/training.csv"          # optional

    [impact]
    outcomes = ["use_of_force", "searches_of:Black"]
    training_date = "2020-06"                           # optional force-wide date
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .._options import check_option
from ..errors import DataValidationError, OptionError, closest_matches

__all__ = ["ReportConfig", "load_report_config", "retitle", "area_display_name", "report_config", "sample_config", "ReportPeriod", "StopsFormat", "Format"]

ReportPeriod = Literal["FY", "rolling12", "year", "quarter", "month"]
StopsFormat = Literal["policeuk"]
Format = Literal["html", "pdf"]
TreatedFrom = Literal["next", "completion"]

#: TOML keys of each section -> ReportConfig field names.
_SECTIONS: dict[str, dict[str, str]] = {
    "": {
        "title": "title", "area": "area", "areas": "areas", "groups": "groups", "reference": "reference",
        "benchmark": "benchmark", "period": "period", "suppress_below": "suppress_below", "alpha": "alpha",
        "output": "output", "formats": "formats", "include_pdf": "include_pdf",
    },
    "inputs": {
        "stops": "stops", "stops_format": "stops_format", "expected_months": "expected_months",
        "population": "population", "population_vintage": "population_vintage",
        "published_counts": "published_counts",
        "training": "training", "training_mapping": "training_mapping", "officers": "officers",
        "officer_events": "officer_events", "officer_events_mapping": "officer_events_mapping",
    },
    "impact": {
        "training_date": "training_date", "training_label": "training_label", "outcomes": "impact_outcomes",
        "treated_from": "treated_from", "event_window": "event_window",
        "meaningful_change": "meaningful_change", "power": "power",
    },
    "trust": {
        "survey": "trust_survey", "format": "trust_format", "measure": "trust_measure", "group": "trust_group",
        "reference": "trust_reference", "area_type": "trust_area_type", "rollout": "trust_rollout",
        "rollout_source": "trust_rollout_source", "label": "trust_label",
    },
    "benchmark_free": {
        "veil_of_darkness": "veil_of_darkness", "minority": "veil_minority", "majority": "veil_majority",
        "threshold_counts": "threshold_counts", "threshold_model": "threshold_model",
        "threshold_chains": "threshold_chains", "threshold_draws": "threshold_draws",
    },
    "officers": {
        "benchmark": "officer_benchmark", "min_encounters": "officer_min_encounters",
    },
}
_OPTIONAL = ("area", "areas", "expected_months", "population_vintage", "published_counts", "training", "training_mapping", "officers",
             "officer_events", "officer_events_mapping", "training_date", "training_label", "trust_survey", "trust_rollout",
             "trust_rollout_source", "trust_label", "threshold_counts")
_PATH_FIELDS = ("population", "published_counts", "training", "training_mapping", "officers", "officer_events", "officer_events_mapping",
                "trust_survey", "trust_rollout", "threshold_counts")
TrustFormat = Literal["chicago_sentiment", "london_pas"]


@dataclass(frozen=True)
class ReportConfig:
    """Everything the command report needs: inputs, the area, the groups and the options.

    Build one with :func:`load_report_config` (from TOML) or :func:`sample_config`;
    change fields with :meth:`replace`. Paths are absolute after loading.

    Attributes
    ----------
    title
        Report title.
    stops, stops_format, expected_months
        Stop-and-search sources (files, folders, globs or ``.tar.gz`` archives) in the
        police.uk format; the months every force should have (``"2019-01..2021-12"``;
        default: first to last month read).
    population, population_vintage
        Population (benchmark) table read by :func:`equity_metrics.read_population`, and
        which vintage to use when it holds several.
    published_counts
        Optional Home Office published counts (a path or glob of the ``ho_opendata_*.csv``
        files): the report then compares its police.uk counts with them (report/_published.py).
    training, training_mapping, officers, officer_events, officer_events_mapping
        Optional officer-level training roster (+ mapping TOML), officer table, and
        officer-level events (+ mapping TOML, read by :func:`equity_metrics.read_mapped`)
        for the officer-level impact analysis.
    area, areas
        The force the headline and trend are about (police.uk slug; ``None``: all
        areas pooled), and the forces to read (``None``: every force in the files).
    groups, reference, benchmark
        Groups compared with ``reference`` (``"White"`` by Home Office practice); the
        benchmark's plain name (e.g. ``"2011 census residential population"``).
    period
        The headline period: ``"FY"`` (year to March), ``"year"``, ``"rolling12"`` (the
        latest 12 months), or ``"quarter"`` / ``"month"`` (the trend is then by quarter /
        month; the headline stays the latest 12 months).
    training_date, training_label
        A force-wide training date (``"YYYY-MM"``) for an interrupted time series when no
        officer roster is given, and how to label it (e.g. ``"illustrative date"``).
    impact_outcomes, treated_from, event_window
        Officer-level outcomes (``build_panel`` outcome names; empty, the default: the
        disparity measure ``share_of:<headline group>`` first, then the counts
        ``use_of_force`` and ``searches_of:<headline group>``), when an officer counts as
        trained (``"next"`` month after completion, or the month of ``"completion"``) and
        the event-study window ``(leads, lags)`` in periods.
    trust_survey, trust_format, trust_measure, trust_group, trust_reference, trust_area_type, trust_rollout, trust_rollout_source, trust_label
        Optional "trust and confidence" section (``[trust]``): a published survey series read by
        :func:`~equity_metrics.read_chicago_sentiment` (``format = "chicago_sentiment"``) or
        :func:`~equity_metrics.read_london_pas` (``"london_pas"``), the measure, the group
        compared with the reference (``reference = "All"``: the area's overall value; London's
        dashboard has no ethnicity breakdown), the area level, and optionally a programme rollout
        CSV (``area,start[,in_programme]``) with a sentence naming where its dates come from
        (required with a rollout: the dates are the user's responsibility).
    veil_of_darkness, veil_minority, veil_majority, threshold_counts, threshold_model, threshold_chains, threshold_draws
        Optional "tests that need no population benchmark" section (``[benchmark_free]``): the
        veil-of-darkness test on the report's own searches (``veil_of_darkness = true``), and the
        threshold test on a CSV of stops, searches and hits by area x group (``threshold_counts``).
    officer_benchmark, officer_min_encounters
        ``[officers] benchmark = true``: the officer-level internal benchmark on the officer
        events (needs ``officer_events``); the report shows only how many officers were examined
        and flagged and the distribution, never identifiers.
    meaningful_change, power
        The smallest training effect that matters, as a fraction of the untrained level
        (default ``0.10``: 10%), and the power of the minimum detectable effect the training
        verdict states (default ``0.80``); see docs/real-data-rules.md, "Training verdict".
    suppress_below, alpha
        Counts from 1 to ``suppress_below - 1`` are hidden (``[c]``); ``1 - alpha`` is the
        confidence level.
    output, formats, include_pdf
        Output folder; ``("html",)`` or ``("html", "pdf")``; ``include_pdf=True`` adds PDF.
    base_dir
        Folder relative paths were resolved against (the config file's folder).
    """

    title: str = "Stop and search: disproportionality and training"
    stops: tuple[str, ...] = ()
    stops_format: str = "policeuk"
    expected_months: str | None = None
    population: str | None = None
    population_vintage: str | None = None
    published_counts: str | None = None
    training: str | None = None
    training_mapping: str | None = None
    officers: str | None = None
    officer_events: str | None = None
    officer_events_mapping: str | None = None
    area: str | None = None
    areas: tuple[str, ...] | None = None
    groups: tuple[str, ...] = ("Asian", "Black", "Mixed", "Other")
    reference: str = "White"
    benchmark: str = "residential population"
    period: str = "FY"
    training_date: str | None = None
    training_label: str | None = None
    impact_outcomes: tuple[str, ...] = ()
    treated_from: str = "next"
    event_window: tuple[int, int] = (6, 12)
    meaningful_change: float = 0.10
    power: float = 0.80
    trust_survey: str | None = None
    trust_format: str = "chicago_sentiment"
    trust_measure: str = "trust"
    trust_group: str = "Black"
    trust_reference: str = "White"
    trust_area_type: str = "district"
    trust_rollout: str | None = None
    trust_rollout_source: str | None = None
    trust_label: str | None = None
    veil_of_darkness: bool = False
    veil_minority: str = "Black"
    veil_majority: str = "White"
    threshold_counts: str | None = None
    threshold_model: str = "hierarchical"
    threshold_chains: int = 5
    threshold_draws: int = 2500
    officer_benchmark: bool = False
    officer_min_encounters: int = 50
    suppress_below: int = 10
    alpha: float = 0.05
    output: str = "output/report"
    formats: tuple[str, ...] = ("html",)
    include_pdf: bool = False
    base_dir: str = field(default=".", compare=False)

    def __post_init__(self) -> None:
        _validate(self)

    def replace(self, **changes: Any) -> "ReportConfig":
        """A copy with some fields changed (``None`` keeps the current value, ``""`` clears an optional one).

        Relative paths are resolved against the current folder.
        """
        cfg = _apply_unchecked(self, changes, base=Path.cwd())
        _validate(cfg)
        return cfg

    @property
    def all_formats(self) -> tuple[str, ...]:
        """``formats`` plus ``"pdf"`` when ``include_pdf`` is set (order kept, no repeats)."""
        f = list(self.formats) + (["pdf"] if self.include_pdf else [])
        return tuple(dict.fromkeys(f))

    @property
    def has_roster(self) -> bool:
        """True when an officer-level impact analysis is possible (roster and officer events)."""
        return bool(self.training and self.officer_events)

    def to_dict(self) -> dict[str, Any]:
        """The parameters as a JSON-ready dict (paths as given, sorted keys; no base_dir)."""
        d = dataclasses.asdict(self)
        d.pop("base_dir")
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in sorted(d.items())}


# ----------------------------------------------------------------------------- validation
def _fail(key: str, msg: str, cls=DataValidationError):
    raise cls(f"report config key {key!r}: {msg}")


def _validate(c: ReportConfig) -> None:
    check_option("period", c.period, ReportPeriod)
    check_option("stops_format", c.stops_format, StopsFormat)
    check_option("treated_from", c.treated_from, TreatedFrom)
    for f in c.formats:
        check_option("formats", f, Format)
    if not isinstance(c.title, str) or not c.title.strip():
        _fail("title", "give a non-empty title")
    if not c.stops:
        _fail("stops", "no stop-and-search sources given; set [inputs] stops = [\"folder or file\", ...]")
    if not c.population:
        _fail("population", "no population (benchmark) file given; set [inputs] population = \"file.csv\"")
    if isinstance(c.suppress_below, bool) or not isinstance(c.suppress_below, int) or c.suppress_below < 0:
        _fail("suppress_below", f"must be a whole number >= 0 (10 is the usual rule), got {c.suppress_below!r}", OptionError)
    if isinstance(c.alpha, bool) or not isinstance(c.alpha, (int, float)) or not 0 < float(c.alpha) < 0.5:
        _fail("alpha", f"must be a number between 0 and 0.5 (0.05 gives 95% intervals), got {c.alpha!r}", OptionError)
    if not c.reference or not isinstance(c.reference, str):
        _fail("reference", "name the reference group, e.g. \"White\"", OptionError)
    if c.reference in c.groups:
        _fail("groups", f"the reference group {c.reference!r} cannot also be a compared group")
    if not c.groups:
        _fail("groups", "list at least one group to compare, e.g. [\"Black\", \"Asian\"]")
    if c.training_date is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", str(c.training_date)):
        _fail("training_date", f"must be a month written YYYY-MM (e.g. \"2020-06\"), got {c.training_date!r}", OptionError)
    if c.training and not c.officer_events:
        _fail("officer_events", "a training roster was given without officer_events: the officer-level analysis "
              "needs both (or remove 'training' and give a force-wide training_date)")
    if (len(c.event_window) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in c.event_window)):
        _fail("event_window", f"must be two whole numbers [leads, lags] >= 1, got {list(c.event_window)!r}", OptionError)
    for key in ("meaningful_change", "power"):
        v = getattr(c, key)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < float(v) < 1:
            _fail(key, f"must be a number between 0 and 1 (default {0.1 if key == 'meaningful_change' else 0.8}), "
                  f"got {v!r}", OptionError)
    check_option("trust_format", c.trust_format, TrustFormat)
    if c.trust_rollout and not c.trust_survey:
        _fail("rollout", "a [trust] rollout was given without a survey; set [trust] survey = \"file.csv\"")
    if c.trust_rollout and not (c.trust_rollout_source or "").strip():
        _fail("rollout_source", "say where the rollout dates come from ([trust] rollout_source = \"...\"): the dates are "
              "the user's responsibility and the report names their source")
    check_option("threshold_model", c.threshold_model, Literal["flat", "hierarchical"])
    for key in ("threshold_chains", "threshold_draws"):
        v = getattr(c, key)
        if isinstance(v, bool) or not isinstance(v, int) or v < (2 if key == "threshold_chains" else 100):
            _fail(key, f"must be a whole number (at least {2 if key == 'threshold_chains' else 100}; the published "
                  f"runs use 5 chains of 2,500 warm-up and 2,500 draws), got {v!r}", OptionError)
    for key in ("veil_of_darkness", "officer_benchmark"):
        if not isinstance(getattr(c, key), bool):
            _fail(key, f"must be true or false, got {getattr(c, key)!r}", OptionError)
    if c.officer_benchmark and not c.officer_events:
        _fail("benchmark", "[officers] benchmark = true needs [inputs] officer_events")
    if isinstance(c.officer_min_encounters, bool) or not isinstance(c.officer_min_encounters, int) or c.officer_min_encounters < 1:
        _fail("min_encounters", f"must be a whole number >= 1, got {c.officer_min_encounters!r}", OptionError)
    if c.area is not None and c.areas is not None and c.area not in c.areas:
        _fail("area", f"{c.area!r} is not among areas {list(c.areas)}; add it or remove 'areas'")


def _coerce(key: str, value: Any) -> Any:
    """Turn TOML/keyword values into the field's type (lists -> tuples), checking simple types."""
    if key in ("stops", "groups", "areas", "impact_outcomes", "formats", "event_window"):
        if isinstance(value, (str, os.PathLike)):
            value = [value]
        if not isinstance(value, (list, tuple)):
            _fail(key, f"must be a list, got {type(value).__name__}", OptionError)
        return tuple(str(v) if key != "event_window" else v for v in value)
    if key in ("title", "area", "reference", "benchmark", "period", "stops_format", "expected_months",
               "population_vintage", "training_label", "treated_from", "training_date", "output", "trust_format",
               "trust_measure", "trust_group", "trust_reference", "trust_area_type", "trust_rollout_source", "trust_label",
               "veil_minority", "veil_majority", "threshold_model") + _PATH_FIELDS:
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        if not isinstance(value, str):
            _fail(key, f"must be text, got {value!r}", OptionError)
    if key == "include_pdf" and not isinstance(value, bool):
        _fail(key, f"must be true or false, got {value!r}", OptionError)
    return value


def _resolve(base: Path, p: str) -> str:
    q = Path(os.path.expanduser(p))
    return os.path.normpath(str(q if q.is_absolute() else (base / q)))




def _flatten(doc: dict[str, Any], path: Path) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for k, v in doc.items():
        if isinstance(v, dict):
            if k not in _SECTIONS or not k:
                near = closest_matches(k, [s for s in _SECTIONS if s])
                raise OptionError(f"{path}: unknown section [{k}]" + (f"; did you mean [{near[0]}]?" if near else "")
                                  + f" Sections: {', '.join('[' + s + ']' for s in _SECTIONS if s)}")
            sec = _SECTIONS[k]
            for kk, vv in v.items():
                if kk not in sec:
                    near = closest_matches(kk, list(sec))
                    raise OptionError(f"{path}: unknown key {kk!r} in [{k}]" + (f"; did you mean {near[0]!r}?" if near else "")
                                      + f" Allowed: {', '.join(sec)}")
                flat[sec[kk]] = vv
        else:
            if k not in _SECTIONS[""]:
                where = [s for s, keys in _SECTIONS.items() if k in keys]
                hint = f" (it belongs in the [{where[0]}] section)" if where else ""
                near = closest_matches(k, list(_SECTIONS[""]))
                raise OptionError(f"{path}: unknown top-level key {k!r}{hint}"
                                  + (f"; did you mean {near[0]!r}?" if near and not where else "")
                                  + f" Allowed: {', '.join(_SECTIONS[''])}")
            flat[_SECTIONS[""][k]] = v
    return flat


def load_report_config(path: str | os.PathLike, **overrides: Any) -> ReportConfig:
    """Read a report config (TOML) and apply keyword overrides.

    Parameters
    ----------
    path
        The TOML file. Relative paths inside it are relative to its folder.
    **overrides
        :class:`ReportConfig` field names and values (``None`` keeps the file's value);
        relative paths given here are relative to the current folder.

    Returns
    -------
    ReportConfig

    Raises
    ------
    OptionError, DataValidationError
        An unknown key or a bad value; the message names the key and the fix.

    Examples
    --------
    >>> cfg = load_report_config("reports/sample.toml", area="northshire")  # doctest: +SKIP
    >>> cfg.period                                                           # doctest: +SKIP
    'FY'
    """
    p = Path(path)
    if not p.is_file():
        raise DataValidationError(f"report config {str(p)!r} not found; pass the path of a .toml file "
                                  "(see reports/sample.toml and docs/report.md)")
    try:
        doc = tomllib.loads(_config_text(p))
    except tomllib.TOMLDecodeError as exc:
        raise DataValidationError(f"{p}: not valid TOML ({exc}); fix the syntax (see docs/report.md)") from None
    base = p.resolve().parent
    flat = _flatten(doc, p)
    # build without validation first (defaults lack inputs), then validate once
    cfg = _unchecked(base_dir=str(base))
    cfg = _apply_unchecked(cfg, flat, base=base)
    cfg = _apply_unchecked(cfg, {k: v for k, v in overrides.items()}, base=Path.cwd())
    _validate(cfg)
    return cfg


def _config_text(p: Path) -> str:
    """The config's text: UTF-8 (a byte-order mark is dropped) or UTF-16 with its byte-order mark."""
    from ..errors import ReadError

    raw = p.read_bytes()
    try:
        if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return raw.decode("utf-16")
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReadError(f"the config is not UTF-8 text ({exc.reason} at byte {exc.start})", file=str(p),
                        hint="Save it as UTF-8 (see reports/sample.toml)") from None


def _unchecked(**kw: Any) -> ReportConfig:
    obj = object.__new__(ReportConfig)
    for f in dataclasses.fields(ReportConfig):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        object.__setattr__(obj, f.name, kw.get(f.name, default))
    return obj


def area_display_name(slug: str) -> str:
    """Display name of an area: the police.uk force name, or a plain slug title-cased (other text as given)."""
    from ..areas import force_name, is_known_force

    s = str(slug)
    if is_known_force(s):
        return force_name(s)
    return s.replace("-", " ").title() if re.fullmatch(r"[a-z0-9-]+", s) else s


def retitle(title: str, old_area: str | None, new_area: str | None) -> str:
    """The title for a report whose area changed from ``old_area`` to ``new_area`` (rule in docs/report.md).

    A ``{area}`` placeholder is kept (filled with the area's name when the report is
    built). Otherwise the old area's name (its display name, or its slug title-cased)
    is replaced by the new area's (``"all areas"`` when ``new_area`` is ``None``: all areas
    pooled); a title that names neither is area-neutral and is kept.

    Examples
    --------
    >>> retitle("Stop and search in Northshire (synthetic)", "northshire", "southvale")
    'Stop and search in Southvale (synthetic)'
    >>> retitle("Stop and search in West Yorkshire", "west-yorkshire", "metropolitan")
    'Stop and search in Metropolitan Police'
    >>> retitle("Stop and search: disproportionality", "northshire", "southvale")
    'Stop and search: disproportionality'
    """
    if not old_area or old_area == new_area or "{area}" in title:
        return title
    old_names = dict.fromkeys([area_display_name(old_area), old_area.replace("-", " ").title(), old_area])
    new = area_display_name(new_area) if new_area else "all areas"
    for name in sorted(old_names, key=len, reverse=True):
        if name and re.search(rf"\b{re.escape(name)}\b", title):
            return re.sub(rf"\b{re.escape(name)}\b", lambda _: new, title)
    return title


def _apply_unchecked(cfg: ReportConfig, changes: dict[str, Any], *, base: Path) -> ReportConfig:
    fields = {f.name for f in dataclasses.fields(ReportConfig)} - {"base_dir"}
    vals = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(ReportConfig)}
    if changes.get("area") is not None and changes.get("title") is None and (changes["area"] or None) != cfg.area:
        vals["title"] = retitle(cfg.title, cfg.area, str(changes["area"]) or None)  # "" = all areas pooled
    for k, v in changes.items():
        if k not in fields:
            near = closest_matches(k, sorted(fields))
            raise OptionError(f"unknown report config key {k!r}" + (f"; did you mean {near[0]!r}?" if near else "")
                              + f" Allowed keys: {', '.join(sorted(fields))}")
        if v is None:
            continue
        if v == "" and k in _OPTIONAL:
            vals[k] = None  # "" clears an optional key (e.g. training="" to drop the roster)
            continue
        v = _coerce(k, v)
        if k in _PATH_FIELDS or k == "output":
            v = _resolve(base, v)
        elif k == "stops":
            v = tuple(_resolve(base, s) for s in v)
        vals[k] = v
    return _unchecked(**vals)


def report_config(**values: Any) -> ReportConfig:
    """A report config from keyword values alone (no TOML file), validated.

    The keys are those of :class:`ReportConfig` (the TOML keys, flattened);
    relative paths are relative to the current folder. This is what
    ``equity-metrics report --stops ... --population ...`` uses without a
    config file.

    Examples
    --------
    >>> cfg = report_config(stops=["data/samples/policeuk"], population="data/samples/population.csv",
    ...                     area="northshire")  # doctest: +SKIP
    """
    cfg = _apply_unchecked(_unchecked(base_dir=str(Path.cwd())), values, base=Path.cwd())
    _validate(cfg)
    return cfg


def sample_config(**overrides: Any) -> ReportConfig:
    """The config of the bundled synthetic samples (what ``equity-metrics demo`` reports on).

    The same settings as ``reports/sample.toml``, built from
    :func:`equity_metrics.datasets.sample_path` (so ``EQUITY_METRICS_SAMPLES`` works on an
    installed copy). Output goes to ``reports/output/sample`` of a source checkout, else to
    ``./equity_metrics_report``.

    Examples
    --------
    >>> cfg = sample_config()
    >>> cfg.area, cfg.period
    ('northshire', 'FY')
    """
    from ..datasets import sample_path

    s = sample_path()
    repo_reports = s.parent.parent / "reports"
    out = repo_reports / "output" / "sample" if repo_reports.is_dir() else Path.cwd() / "equity_metrics_report"
    values: dict[str, Any] = dict(
        title="Stop and search in Northshire: disproportionality and training (synthetic sample data)",
        area="northshire",
        groups=["Asian", "Black", "Mixed", "Other"],
        reference="White",
        benchmark="synthetic residential population",
        period="FY",
        suppress_below=10,
        alpha=0.05,
        output=str(out),
        formats=["html"],
        stops=[str(s / "policeuk")],
        stops_format="policeuk",
        expected_months="2019-01..2021-12",
        population=str(s / "population.csv"),
        population_vintage="synthetic",
        training=str(s / "training.csv"),
        training_mapping=str(s / "training_mapping.toml"),
        officers=str(s / "officers.csv"),
        officer_events=str(s / "officer_events.csv"),
        officer_events_mapping=str(s / "officer_events_mapping.toml"),
        impact_outcomes=["share_of:Black", "use_of_force", "searches_of:Black"],
        treated_from="completion",
        event_window=[6, 12],
    )
    cfg = _apply_unchecked(_unchecked(base_dir=str(s.parent.parent)), values, base=Path("/"))
    cfg = _apply_unchecked(cfg, overrides, base=Path.cwd())
    _validate(cfg)
    return cfg
