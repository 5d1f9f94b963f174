"""``equity-metrics disparity``: rates per 1,000, ratios, and the tables to publish them.

Reads the events (any ``--format`` of ``ingest``) and a population file, runs
:func:`equity_metrics.disparity` (and, on request,
:func:`equity_metrics.standardised_disparity` and
:func:`equity_metrics.outcome_test`) and writes, in ``--out``:

``disparity.<ext>``, ``standardised.<ext>``, ``outcomes.<ext>`` (find rate), ``outcomes_arrest.<ext>``, ``outcomes_any.<ext>`` (any outcome other than no further action), each with ``*_pooled.<ext>``
    The tidy tables (``<ext>`` from ``--table-format``), plus a
    ``publication_flag`` column (and ``suppressed`` with ``--suppress-below``).
``ledger.json``, ``rejects.csv``, ``population_ledger.json``, ``population_rejects.csv``
    What was read and what was rejected, for the events and the population.
``summary.txt``
    The text printed on screen.
``manifest.json``
    Inputs with their SHA-256, parameters, outputs with their SHA-256.

Small counts (``--suppress-below N``)
    ``0`` (the default) writes analyst tables: every count is kept, because
    analysts need exact counts to check and combine figures, and each row gets a
    ``publication_flag`` with the GSS symbols of
    :func:`equity_metrics.flag_small_counts`: ``[x]`` (fewer than 3 events: do
    not publish a rate) and ``[u]`` (fewer than 20: low reliability). With
    ``N > 0`` the tables are for readers: :func:`equity_metrics.suppress` hides
    every count from 1 to ``N - 1`` of the cell x group table of events (with the
    not-stated counts as one more column) plus complementary cells so none can be
    worked out from the totals; every figure derived from a hidden count (rates,
    intervals, ratios, bounds) is blanked, and ``publication_flag`` is ``[c]``
    (confidential). ONS's rule of thumb for outputs is ``N = 10``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..errors import OptionError
from ..measures.suppression import flag_small_counts, suppress
from ._common import Outputs, file_input, ledger_inputs, read_events, say

__all__ = ["run", "publish_disparity", "publish_standardised", "publish_outcomes"]

_NS = "__not_stated"


# ----------------------------------------------------------------------------- small counts
def _keys_before(table: pd.DataFrame, col: str = "group") -> list[str]:
    cols = list(table.columns)
    return cols[: cols.index(col)]


def _cell_kinds(table: pd.DataFrame, *, keys: list[str], count: str, threshold: float, notes: list[str],
                extra: dict[str, pd.Series] | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """Suppress the cell x group table of ``count``; return the kind of every (cell, column) and each row's cell.

    Kinds are ``"suppressed"`` or ``""``: one marker, so a published table does not say which
    hidden cells are small and which are complements. ``extra`` adds columns of
    per-cell counts (constant within a cell, e.g. the not-stated events).
    """
    if keys:
        cell = table.groupby(keys, dropna=False, sort=False, observed=True).ngroup().to_numpy()
    else:
        cell = np.zeros(len(table), dtype=np.int64)
    long = pd.DataFrame({"cell": cell, "g": table["group"].astype(str).to_numpy(),
                         "n": pd.to_numeric(table[count], errors="coerce").fillna(0).to_numpy(float)})
    wide = long.pivot_table(index="cell", columns="g", values="n", aggfunc="sum", fill_value=0.0)
    wide.columns = [str(c) for c in wide.columns]
    for name, s in (extra or {}).items():
        per = pd.Series(pd.to_numeric(s, errors="coerce").fillna(0).to_numpy(float)).groupby(cell).first()
        wide[name] = per.reindex(wide.index).fillna(0).to_numpy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = suppress(wide, threshold=threshold, value_cols=list(wide.columns))
    for w in caught:
        notes.append(f"suppression of {count}: {w.message}")
    kinds = pd.DataFrame(np.where(res.mask.to_numpy(), "suppressed", ""), index=wide.index, columns=wide.columns)
    return kinds, cell


def _lookup(kinds: pd.DataFrame, cell: np.ndarray, column) -> np.ndarray:
    """Kind for each row: ``column`` is one name or a per-row array of names."""
    cols = np.broadcast_to(np.asarray(column, dtype=object), cell.shape)
    ci = kinds.columns.get_indexer(cols.astype(str))
    ri = kinds.index.get_indexer(cell)
    vals = kinds.to_numpy()
    return np.where((ci >= 0) & (ri >= 0), vals[np.maximum(ri, 0), np.maximum(ci, 0)], "")


def _blank(t: pd.DataFrame, cols: list[str], hide: np.ndarray) -> None:
    for c in cols:
        if c not in t.columns or not hide.any():
            continue
        s = t[c]
        if pd.api.types.is_integer_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
            s = s.astype("Int64") if pd.api.types.is_integer_dtype(s.dtype) else s.astype("boolean")
        elif pd.api.types.is_float_dtype(s.dtype):
            s = s.astype("float64")
        else:
            s = s.astype(object)
        t[c] = s.mask(hide)


def _drop_small_flags(flags: pd.Series, hide: np.ndarray, tokens: tuple[str, ...]) -> pd.Series:
    def clean(v):
        return ";".join(x for x in str(v).split(";") if x and x not in tokens)

    out = flags.astype(object).copy()
    out[hide] = [clean(v) for v in out[hide]]
    return out


def _flag_column(counts: pd.Series) -> np.ndarray:
    return flag_small_counts(pd.to_numeric(counts, errors="coerce").to_numpy(float))["flag"].to_numpy(object)


def publish_disparity(table: pd.DataFrame, *, threshold: float, reference: str, notes: list[str]) -> pd.DataFrame:
    """The disparity table to write: ``publication_flag`` added; with ``threshold > 0``, small counts suppressed.

    Parameters
    ----------
    table
        :meth:`DisparityResult.tidy`.
    threshold
        ``0``: keep every count (flag only); ``N``: suppress counts 1..N-1 and complements.
    reference
        The reference group of the ratios (its hidden counts hide the ratios too).
    notes
        Warnings of the suppression are appended here.

    Examples
    --------
    >>> t = pd.DataFrame({"period": ["all"] * 2, "group": ["Black", "White"], "events": [2, 300],
    ...                   "not_stated_events": [0, 0]})
    >>> publish_disparity(t, threshold=0, reference="White", notes=[])["publication_flag"].tolist()
    ['[x]', '']
    """
    t = table.copy().reset_index(drop=True)
    t["publication_flag"] = _flag_column(t["events"])
    if threshold <= 0:
        return t
    keys = _keys_before(t)
    extra = {_NS: t["not_stated_events"]} if "not_stated_events" in t.columns else {}
    kinds, cell = _cell_kinds(t, keys=keys, count="events", threshold=threshold, notes=notes, extra=extra)
    own = _lookup(kinds, cell, t["group"].astype(str).to_numpy())
    ref = _lookup(kinds, cell, reference) if reference != "all" else np.full(len(t), "", dtype=object)
    ns = _lookup(kinds, cell, _NS) if extra else np.full(len(t), "", dtype=object)
    h_own, h_ref, h_ns = own != "", ref != "", ns != ""
    _blank(t, ["events", "rate_per_1000", "rate_ci_low", "rate_ci_high"], h_own)
    _blank(t, ["reference_events"], h_ref)
    _blank(t, ["ratio", "ci_low", "ci_high", "p_value", "ci_method"], h_own | h_ref)  # ci_method: exact means < 20
    _blank(t, ["ratio_bound_low", "ratio_bound_high"], h_own | h_ref | h_ns)
    _blank(t, ["not_stated_events", "not_stated_share", "mostly_not_stated"], h_ns)
    if "flags" in t.columns:
        t["flags"] = _drop_small_flags(t["flags"], h_own, ("small_count",))
        t["flags"] = _drop_small_flags(t["flags"], h_ref, ("reference_small_count",))
    t["publication_flag"] = np.where(h_own, "[c]", t["publication_flag"])
    t["suppressed"] = own
    return t


def publish_standardised(table: pd.DataFrame, *, threshold: float, reference: str, notes: list[str]) -> pd.DataFrame:
    """The standardised table to write (see :func:`publish_disparity`)."""
    t = table.copy().reset_index(drop=True)
    t["publication_flag"] = _flag_column(t["events"])
    if threshold <= 0:
        return t
    kinds, cell = _cell_kinds(t, keys=_keys_before(t), count="events", threshold=threshold, notes=notes)
    own = _lookup(kinds, cell, t["group"].astype(str).to_numpy())
    ref = _lookup(kinds, cell, reference) if reference != "all" else np.full(len(t), "", dtype=object)
    h_own, h_ref = own != "", ref != ""
    _blank(t, ["events", "crude_rate_per_1000", "std_rate_per_1000", "std_ci_low", "std_ci_high"], h_own)
    _blank(t, ["crude_ratio", "std_ratio", "ci_low", "ci_high", "p_value"], h_own | h_ref)
    if "events_unknown_strata" in t.columns:
        u = pd.to_numeric(t["events_unknown_strata"], errors="coerce").fillna(0).to_numpy(float)
        _blank(t, ["events_unknown_strata"], h_own | ((u > 0) & (u < threshold)))
    if "flags" in t.columns:
        t["flags"] = _drop_small_flags(t["flags"], h_own, ("small_count",))
    t["publication_flag"] = np.where(h_own, "[c]", t["publication_flag"])
    t["suppressed"] = own
    return t


def publish_outcomes(table: pd.DataFrame, *, threshold: float, reference: str, notes: list[str]) -> pd.DataFrame:
    """The outcome-test table to write: searches and hits suppressed separately (see :func:`publish_disparity`).

    A row's hits (and hit rate) are also hidden when its misses (searches minus
    hits) are small, or its searches are hidden.
    """
    t = table.copy().reset_index(drop=True)
    t["publication_flag"] = _flag_column(t["searches"])
    if threshold <= 0:
        return t
    keys = _keys_before(t)
    ks, cell = _cell_kinds(t, keys=keys, count="searches", threshold=threshold, notes=notes)
    kh, _ = _cell_kinds(t, keys=keys, count="hits", threshold=threshold, notes=notes)
    grp = t["group"].astype(str).to_numpy()
    s_own = _lookup(ks, cell, grp) != ""
    misses = pd.to_numeric(t["searches"], errors="coerce").to_numpy(float) - pd.to_numeric(t["hits"], errors="coerce").to_numpy(float)
    h_own = (_lookup(kh, cell, grp) != "") | s_own | ((misses > 0) & (misses < threshold))
    h_ref = _hide_reference_hits(t, cell, grp, h_own, reference)
    _blank(t, ["searches"], s_own)
    _blank(t, ["hits", "hit_rate", "ci_low", "ci_high"], h_own)
    _blank(t, ["difference_from_reference"], h_own | h_ref)
    if "flags" in t.columns:
        t["flags"] = _drop_small_flags(t["flags"], s_own, ("small_count",))
    t["publication_flag"] = np.where(s_own, "[c]", t["publication_flag"])
    t["suppressed"] = np.where(s_own, "searches", np.where(h_own, "hits", ""))
    return t


def _hide_reference_hits(t, cell, grp, h_own, reference) -> np.ndarray:
    ref_hidden = pd.Series(h_own & (grp == reference)).groupby(cell).any()
    return pd.Series(cell).map(ref_hidden).fillna(False).to_numpy(bool)


# ----------------------------------------------------------------------------- command
def _by(values: list[str] | None) -> list[str] | None:
    items = [p.strip() for v in (values or []) for p in str(v).split(",") if p.strip()]
    if not items or items == ["none"]:
        return None
    if "none" in items:
        raise OptionError("--by none cannot be combined with columns; give either none or the columns")
    return items


def run(args) -> int:
    """Run ``equity-metrics disparity`` (see the module docstring)."""
    from ..io.population import read_population
    from ..measures.disparity import disparity

    if args.suppress_below < 0:
        raise OptionError(f"--suppress-below must be 0 (off) or a positive count, got {args.suppress_below}")
    by = _by(args.by)
    res = read_events(args)
    pop = read_population(args.population, vintage=args.vintage, area_type=args.area_type)
    notes: list[str] = []
    d = disparity(res, pop, by=by, area=args.area, period=args.period, reference=args.reference, method=args.method)
    thr = float(args.suppress_below)
    tables = {"disparity": publish_disparity(d.tidy(), threshold=thr, reference=args.reference, notes=notes)}
    texts = [res.ledger.summary(), d.summary()]
    if args.standardise:
        from ..measures.standardise import standardised_disparity

        s = standardised_disparity(res, pop, by=by, area=args.area, reference=args.reference)
        tables["standardised"] = publish_standardised(s.tidy(), threshold=thr, reference=args.reference, notes=notes)
        texts.append(s.summary())
    if args.outcomes:
        from ..measures.outcomes import outcome_test

        pooled_over = args.area if args.area in res.data.columns else None
        # the find rate (Home Office definition; "not recorded" where the linked field is not kept), the arrest
        # rate and the share with any outcome other than no further action, each with its own outcome test
        for name, measure in (("outcomes", "find"), ("outcomes_arrest", "arrest"), ("outcomes_any", "any_outcome")):
            o = outcome_test(res, by=by, reference=args.reference, pooled_over=pooled_over, outcome=measure)
            tables[name] = publish_outcomes(o.tidy(), threshold=thr, reference=args.reference, notes=notes)
            tables[f"{name}_pooled"] = o.pooled_tidy()
            texts.append(o.summary())
    if thr > 0:
        # the library summaries show the unsuppressed counts: show the published tables instead
        texts = [res.ledger.summary()] + [
            f"{name} (counts 1 to {thr:g} - 1 suppressed, with complements; [c] = confidential)\n"
            + t.to_string(index=False, max_rows=60) for name, t in tables.items()
        ]
    texts += [f"note: {n}" for n in notes]
    out = Outputs(args.out, args.table_format)
    for name, t in tables.items():
        out.table(name, t)
    for prefix, r in (("", res), ("population_", pop)):
        out.write(f"{prefix}ledger.json", r.ledger.to_json)
        out.write(f"{prefix}rejects.csv", r.rejects.to_csv)
    text = "\n\n".join(texts)
    out.text("summary.txt", text)
    inputs = ledger_inputs(res.ledger, "events") + ledger_inputs(pop.ledger, "population")
    if args.mapping:
        inputs.append(file_input(args.mapping, "mapping"))
    out.manifest(
        command="disparity",
        inputs=inputs,
        parameters={
            "format": args.format, "mapping": args.mapping, "forces": args.forces,
            "ethnicity_field": args.ethnicity_field, "population": args.population, "vintage": args.vintage,
            "area_type": args.area_type, "by": by, "area": args.area, "period": args.period,
            "reference": args.reference, "method": args.method, "standardise": bool(args.standardise),
            "outcomes": bool(args.outcomes), "suppress_below": args.suppress_below, "table_format": args.table_format,
        },
    )
    say(args, text)
    say(args, f"\nwrote {len(out.paths) + 1} files to {out.out}")
    return 0
