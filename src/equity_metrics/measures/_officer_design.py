"""Design helpers for officer-level internal benchmarking: derived time features, sparse dummies, logistic fit.

Private to :mod:`equity_metrics.measures.internal_benchmark`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from ..errors import DataValidationError, closest_matches

#: Features derived from the event time when the table has no column of that name.
TIME_FEATURES = ("hour", "weekday", "month", "year", "shift", "quarter")


def missing_columns(missing: Sequence[str], found: Sequence[str], hint: str) -> DataValidationError:
    """A request naming columns the events table does not have (the CLI's exit 4), with the closest names."""
    near = {m: closest_matches(m, [str(f) for f in found]) for m in missing}
    desc = "; ".join(f"{m!r}" + (f" (closest: {', '.join(repr(c) for c in near[m])})" if near[m] else "")
                     for m in missing)
    return DataValidationError(f"the events table has no column {desc}. {hint}")


def _shift(hour: pd.Series) -> pd.Series:
    """Three eight-hour watches: 'night' 00-07, 'day' 08-15, 'evening' 16-23."""
    return pd.cut(hour, [-1, 7, 15, 23], labels=["night", "day", "evening"]).astype("object")


def _wall_clock(col: pd.Series) -> pd.Series:
    """Local wall-clock times: a zone-aware column keeps its own zone; text keeps its written local time.

    Text from a CSV holds offsets that change with daylight saving (``-06:00`` / ``-05:00``),
    which pandas refuses to mix; the offset is dropped so that the hour is the local hour.
    """
    if pd.api.types.is_datetime64_any_dtype(col):
        return col
    txt = col.astype("string").str.strip().str.replace(r"(?:[+-]\d{2}:?\d{2}|Z)$", "", regex=True)
    return pd.to_datetime(txt, errors="coerce", format="mixed")


def feature_frame(data: pd.DataFrame, columns: Sequence[str], *, datetime: str) -> pd.DataFrame:
    """Return the named features as text columns (missing as ``"(missing)"``), deriving time features.

    ``hour``, ``weekday``, ``month``, ``year``, ``shift`` and ``quarter`` come from the
    ``datetime`` column when the table has no column of that name; rows whose
    time of day is unknown (``time_known`` False) get ``"(missing)"`` for
    ``hour`` and ``shift``.
    """
    out = {}
    need_time = [c for c in columns if c not in data.columns and c in TIME_FEATURES]
    missing = [c for c in columns if c not in data.columns and c not in TIME_FEATURES]
    if missing:
        raise missing_columns(missing, list(data.columns),
                              "Name columns of the events table in match_on / adjust_for, or one of the derived time "
                              f"features {', '.join(TIME_FEATURES)}")
    if need_time:
        if datetime not in data.columns:
            raise missing_columns([datetime], list(data.columns),
                                  f"{', '.join(need_time)} are derived from the event time: pass datetime=")
        ts = _wall_clock(data[datetime])
        known = (data["time_known"].astype("string").str.lower().isin(["true", "1"]).to_numpy(bool)
                 if "time_known" in data.columns else np.ones(len(data), bool))
        derived = {
            "hour": ts.dt.hour.where(known),
            "weekday": ts.dt.day_of_week,
            "month": ts.dt.month,
            "year": ts.dt.year,
            "quarter": ts.dt.year.astype("Int64").astype(str) + "Q" + ts.dt.quarter.astype("Int64").astype(str),
        }
        derived["shift"] = _shift(derived["hour"])
    for c in columns:
        s = data[c] if c in data.columns else derived[c]
        codes, uniques = pd.factorize(pd.Series(s, index=data.index), use_na_sentinel=True)
        labels = np.array([str(v).removesuffix(".0").strip() or "(missing)" for v in uniques] + ["(missing)"],
                          dtype=object)
        out[c] = labels[np.where(codes < 0, len(uniques), codes)]  # one label per distinct value
    return pd.DataFrame(out, index=data.index)


def cell_codes(features: pd.DataFrame) -> np.ndarray:
    """Integer code of each row's cell (the combination of all feature values)."""
    if features.shape[1] == 0:
        return np.zeros(len(features), dtype=np.int64)
    codes = features.groupby(list(features.columns), sort=True, dropna=False).ngroup()
    return codes.to_numpy(dtype=np.int64)


def dummies(features: pd.DataFrame) -> sparse.csr_matrix:
    """Sparse design: intercept plus one column per non-reference level of each feature (most frequent = reference)."""
    n = len(features)
    blocks = [sparse.csr_matrix(np.ones((n, 1)))]
    for c in features.columns:
        codes, levels = pd.factorize(features[c], sort=True)
        if len(levels) < 2:
            continue
        counts = np.bincount(codes, minlength=len(levels))
        ref = int(np.argmax(counts))
        keep = codes != ref
        col = np.where(codes > ref, codes - 1, codes)[keep]
        m = sparse.csr_matrix((np.ones(int(keep.sum())), (np.flatnonzero(keep), col)), shape=(n, len(levels) - 1))
        blocks.append(m)
    return sparse.hstack(blocks, format="csr")


def ridge_logit(X: sparse.csr_matrix, y: np.ndarray, *, ridge: float = 1.0, maxit: int = 50,
                tol: float = 1e-8) -> np.ndarray:
    """Fitted probabilities of a logistic regression by Newton-Raphson with a small ridge penalty.

    The penalty ``ridge * ||beta||^2 / 2`` (intercept unpenalised) keeps levels with
    all-0 or all-1 outcomes (separation) finite; with thousands of encounters per
    level it changes nothing that matters.
    """
    p = X.shape[1]
    beta = np.zeros(p)
    ybar = float(np.clip(y.mean(), 1e-6, 1 - 1e-6))
    beta[0] = np.log(ybar / (1 - ybar))
    pen = np.full(p, ridge)
    pen[0] = 0.0
    XT = X.T.tocsr()
    for _ in range(maxit):
        eta = X @ beta
        mu = 1 / (1 + np.exp(-eta))
        w = mu * (1 - mu)
        grad = XT @ (y - mu) - pen * beta
        H = (XT @ X.multiply(w[:, None])).toarray() + np.diag(pen)
        try:
            step = np.linalg.solve(H, grad)
        except np.linalg.LinAlgError as exc:  # pragma: no cover - ridge keeps H positive definite
            raise DataValidationError("the outcome model could not be fitted (singular design)") from exc
        beta += step
        if np.max(np.abs(step)) < tol * (1 + np.max(np.abs(beta))):
            break
    return 1 / (1 + np.exp(-(X @ beta)))


def partner_sums(off_codes: np.ndarray, incident: np.ndarray, cells: np.ndarray, eligible: np.ndarray,
                 values: dict[str, np.ndarray], n_cells: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Sums of other officers' encounters that share an incident with an eligible officer, by (officer, cell).

    ``incident`` holds integer incident codes (-1: none). Returns the keys
    ``officer * n_cells + cell`` (sorted, unique) and the sums of each value
    (plus ``"n"``) over those partner encounters, so that they can be removed
    from the officer's comparison pool.
    """
    has = incident >= 0
    enc = pd.DataFrame({"inc": incident[has], "off": off_codes[has], "cell": cells[has],
                        **{k: v[has] for k, v in values.items()}})
    mine = enc.loc[eligible[enc["off"].to_numpy()], ["off", "inc"]].drop_duplicates().rename(columns={"off": "me"})
    pairs = mine.merge(enc, on="inc", how="inner")
    pairs = pairs[pairs["off"] != pairs["me"]]
    if pairs.empty:
        return np.zeros(0, np.int64), {k: np.zeros(0) for k in ("n", *values)}
    key = pairs["me"].to_numpy(np.int64) * n_cells + pairs["cell"].to_numpy(np.int64)
    uk, inv = np.unique(key, return_inverse=True)
    sums = {"n": np.bincount(inv, minlength=len(uk)).astype(float)}
    for k in values:
        sums[k] = np.bincount(inv, weights=pairs[k].to_numpy(float), minlength=len(uk))
    return uk, sums
