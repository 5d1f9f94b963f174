"""Generated encounters with planted "biased officers", for checking :func:`internal_benchmark`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataValidationError

__all__ = ["simulate_officer_encounters"]


def simulate_officer_encounters(
    *,
    n_officers: int = 1000,
    n_biased: int = 50,
    effect: float = 1.0,
    officer_sd: float = 0.1,
    mean_encounters: float = 80.0,
    min_per_officer: int = 40,
    n_districts: int = 20,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Encounters of officers deployed unevenly across places and shifts, some of them biased.

    Each officer works mostly (85%) in a home district and (80%) on a main shift;
    districts, beats and shifts differ strongly in the share of Black subjects,
    so a naive comparison with the force-wide share is confounded by deployment.
    The probability that an encounter's subject is Black is
    ``logit^-1(district + beat + shift + u_officer + effect * biased)``, with
    ``u_officer ~ N(0, officer_sd^2)`` (a little real over-dispersion that the
    empirical null should absorb) and ``effect`` (log-odds) added for the
    ``n_biased`` planted officers.

    Parameters
    ----------
    n_officers, n_biased
        Officers, and how many of them are biased (the first ``n_biased`` after a shuffle).
    effect
        Log-odds added to a biased officer's encounters.
    officer_sd
        Standard deviation of the officers' small idiosyncratic log-odds.
    mean_encounters, min_per_officer
        Encounters per officer: ``min_per_officer + Poisson(mean_encounters - min_per_officer)``.
    n_districts
        Districts (five beats each).
    seed
        Random seed (deterministic output).

    Returns
    -------
    (events, truth)
        ``events``: ``officer_id``, ``ethnicity`` (``"Black"``, ``"White"``,
        ``"Hispanic"``), ``datetime``, ``district``, ``beat``, ``event_type``;
        ``truth``: ``officer_id``, ``biased``, ``effect`` (log-odds).

    Examples
    --------
    >>> ev, truth = simulate_officer_encounters(n_officers=50, n_biased=5, seed=1)
    >>> int(truth["biased"].sum()), ev["officer_id"].nunique()
    (5, 50)
    """
    if n_biased > n_officers or n_officers < 1 or n_biased < 0:
        raise DataValidationError("need 0 <= n_biased <= n_officers and n_officers >= 1")
    rng = np.random.default_rng(seed)
    d_eff = rng.normal(0.0, 1.2, n_districts)
    beat_eff = rng.normal(0.0, 0.5, (n_districts, 5))
    shift_eff = np.array([0.4, -0.3, 0.0])  # night, day, evening
    n_enc = min_per_officer + rng.poisson(max(mean_encounters - min_per_officer, 0), n_officers)
    home = rng.integers(0, n_districts, n_officers)
    main_shift = rng.integers(0, 3, n_officers)
    u = rng.normal(0.0, officer_sd, n_officers)
    biased = np.zeros(n_officers, bool)
    biased[rng.permutation(n_officers)[:n_biased]] = True
    off = np.repeat(np.arange(n_officers), n_enc)
    n = len(off)
    district = np.where(rng.random(n) < 0.85, home[off], rng.integers(0, n_districts, n))
    beat = rng.integers(0, 5, n)
    shift = np.where(rng.random(n) < 0.8, main_shift[off], rng.integers(0, 3, n))
    hour = shift * 8 + rng.integers(0, 8, n)
    day = rng.integers(0, 3 * 365, n)
    eta = -0.3 + d_eff[district] + beat_eff[district, beat] + shift_eff[shift] + u[off] + effect * biased[off]
    black = rng.random(n) < 1 / (1 + np.exp(-eta))
    other = np.where(rng.random(n) < 0.6, "White", "Hispanic")
    ts = pd.Timestamp("2019-01-01") + pd.to_timedelta(day, unit="D") + pd.to_timedelta(hour, unit="h") \
        + pd.to_timedelta(rng.integers(0, 60, n), unit="m")
    ids = np.array([f"sim-{i:05d}" for i in range(n_officers)])
    events = pd.DataFrame({
        "officer_id": ids[off],
        "ethnicity": np.where(black, "Black", other),
        "datetime": ts,
        "district": np.char.add("D", district.astype(str)),
        "beat": np.char.add(np.char.add("D", district.astype(str)), np.char.add("-", beat.astype(str))),
        "event_type": "stop",
    })
    truth = pd.DataFrame({"officer_id": ids, "biased": biased, "effect": np.where(biased, effect, 0.0)})
    return events, truth
