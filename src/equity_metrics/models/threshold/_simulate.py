"""Search and hit rates implied by the two threshold models, and counts simulated from them (numpy only).

Used by the state-sized example generator (:mod:`equity_metrics.datasets.opp_state`) and by the
recovery tests. The formulas are those of the Stan programs the models follow:

* flat (Simoiu, Corbett-Davies & Goel 2017, ``model_flat.stan``): signal ``p ~ Beta(a, b)`` with
  ``a = lambda * phi`` and ``b = lambda * (1 - phi)``; search if ``p > t``; search rate
  ``1 - BetaCDF(t; a, b)``; hit rate ``E[p | p > t] = a / (a + b) * (1 - BetaCDF(t; a + 1, b)) /
  (1 - BetaCDF(t; a, b))``;
* hierarchical (Pierson et al. 2020, OPP ``threshold_test_hierarchical_identified.stan``): with
  probability ``phi`` the stopped person carries contraband and the officer's signal is ``N(delta, 1)``,
  else ``N(0, 1)``; search if the signal exceeds ``threshold``; the threshold on the probability
  scale is the posterior probability of contraband at the threshold signal.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betainc, expit
from scipy.stats import norm

__all__ = ["flat_rates", "mixture_rates", "mixture_threshold_probability", "simulate_counts"]


def flat_rates(t, phi, lam):
    """Search and hit rates of the 2017 (Beta signal) model."""
    t, phi, lam = (np.asarray(v, float) for v in (t, phi, lam))
    a, b = lam * phi, lam * (1 - phi)
    tail = betainc(b, a, 1 - t)
    tail_next = betainc(b, a + 1, 1 - t)
    return tail, a / (a + b) * tail_next / tail


def mixture_rates(threshold, phi, delta):
    """Search and hit rates of the 2020 (two-normal mixture signal) model."""
    threshold, phi, delta = (np.asarray(v, float) for v in (threshold, phi, delta))
    found = phi * norm.sf(threshold - delta)
    not_found = (1 - phi) * norm.sf(threshold)
    search = found + not_found
    return search, found / search


def mixture_threshold_probability(threshold, phi, delta):
    """Probability of contraband at the threshold signal (OPP's ``signal_to_percent``)."""
    threshold, phi, delta = (np.asarray(v, float) for v in (threshold, phi, delta))
    a = phi * norm.pdf(threshold, delta, 1)
    return a / (a + (1 - phi) * norm.pdf(threshold, 0, 1))


def simulate_counts(stops, *, model: str, seed: int, group_params: dict | None = None,
                    prior_scaling_factor: float = 1.0):
    """Simulate searches and hits for a stops matrix (areas x groups) with planted parameters.

    Area effects are drawn from the model's priors (the first area pinned at zero, as in the Stan
    programs); group-level parameters are planted (``group_params``, defaults below) and each
    area x group threshold deviates from its group's by the model's threshold spread.

    Returns a dict of arrays (areas x groups): ``searches``, ``hits``, ``threshold`` (probability
    scale, the truth to recover), ``search_rate`` and ``hit_rate``.
    """
    rng = np.random.default_rng(seed)
    stops = np.asarray(stops, dtype=np.int64)
    n_area, n_group = stops.shape
    if model == "flat":
        gp = {"t_r": np.linspace(-1.7, -2.1, n_group), "sigma_t": np.full(n_group, 0.15),
              "phi_r": np.full(n_group, -3.2), "lambda_r": np.full(n_group, 2.3)}
        gp.update(group_params or {})
        phi_d = np.r_[0.0, rng.normal(0, 0.25, n_area - 1)]
        lambda_d = np.r_[0.0, rng.normal(0, 0.5, n_area - 1)]
        t = expit(np.asarray(gp["t_r"])[None, :] + rng.normal(0, 1, (n_area, n_group)) * np.asarray(gp["sigma_t"])[None, :])
        phi = expit(np.asarray(gp["phi_r"])[None, :] + phi_d[:, None])
        lam = np.exp(np.asarray(gp["lambda_r"])[None, :] + lambda_d[:, None])
        search_rate, hit_rate = flat_rates(t, phi, lam)
        threshold = t
    elif model == "hierarchical":
        s = prior_scaling_factor
        gp = {"threshold_race": np.linspace(1.9, 1.6, n_group), "sigma_threshold": 0.15,
              "mu_phi": -2.9, "mu_delta": 0.5,
              "phi_race": np.r_[0.0, rng.normal(0, 0.25 * s, n_group - 1)],
              "delta_race": np.r_[0.0, rng.normal(0, 0.1 * s, n_group - 1)]}
        gp.update(group_params or {})
        phi_sub = np.r_[0.0, rng.normal(0, 0.1 * s, n_area - 1)]
        delta_sub = np.r_[0.0, rng.normal(0, 0.1 * s, n_area - 1)]
        thr = np.asarray(gp["threshold_race"])[None, :] + rng.normal(0, 1, (n_area, n_group)) * gp["sigma_threshold"]
        phi = expit(gp["mu_phi"] + np.asarray(gp["phi_race"])[None, :] + phi_sub[:, None])
        delta = np.exp(gp["mu_delta"] + np.asarray(gp["delta_race"])[None, :] + delta_sub[:, None])
        search_rate, hit_rate = mixture_rates(thr, phi, delta)
        threshold = mixture_threshold_probability(thr, phi, delta)
    else:  # pragma: no cover - internal callers pass a checked option
        raise ValueError(model)
    searches = rng.binomial(stops, search_rate)
    hits = rng.binomial(searches, hit_rate)
    return {"searches": searches, "hits": hits, "threshold": threshold,
            "search_rate": search_rate, "hit_rate": hit_rate}
