"""MCMC convergence diagnostics (numpy only): rank-normalised split R-hat, bulk and tail ESS.

As defined by Vehtari, Gelman, Simpson, Carpenter & Buerkner (2021), "Rank-normalization, folding,
and localization: an improved R-hat for assessing convergence of MCMC" (the definitions of Stan,
``posterior`` and ArviZ). The effective sample size uses Geyer's initial monotone sequence on the
autocorrelations combined across chains, as Stan does; on raw draws it equals
``numpyro.diagnostics.effective_sample_size`` (checked in tests/test_threshold_core.py).

Arrays are ``(parameters, chains, draws)``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri
from scipy.stats import rankdata

__all__ = ["split_chains", "rhat", "rank_rhat", "ess", "ess_bulk", "ess_tail", "summarise"]


def split_chains(x: np.ndarray) -> np.ndarray:
    """Split each chain in two halves (an odd middle draw is dropped)."""
    n = x.shape[-1] // 2
    return np.concatenate([x[..., :n], x[..., x.shape[-1] - n:]], axis=-2)


def rhat(x: np.ndarray) -> np.ndarray:
    """Classic (non-split) potential scale reduction factor over the given chains."""
    n = x.shape[-1]
    chain_mean = x.mean(-1)
    chain_var = x.var(-1, ddof=1)
    between = n * chain_mean.var(-1, ddof=1)
    within = chain_var.mean(-1)
    var_plus = (n - 1) / n * within + between / n
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt(var_plus / within)


def _rank_normal(x: np.ndarray) -> np.ndarray:
    p, c, n = x.shape
    flat = x.reshape(p, c * n)
    r = rankdata(flat, axis=1, method="average")
    return ndtri((r - 0.375) / (c * n + 0.25)).reshape(p, c, n)


def rank_rhat(x: np.ndarray) -> np.ndarray:
    """Rank-normalised split R-hat: the larger of the bulk and the folded (tail) versions."""
    s = split_chains(x)
    bulk = rhat(_rank_normal(s))
    folded = rhat(_rank_normal(np.abs(s - np.median(s, axis=(-2, -1), keepdims=True))))
    return np.fmax(bulk, folded)


def ess(x: np.ndarray) -> np.ndarray:
    """Effective sample size of draws ``(parameters, chains, draws)`` (Geyer's initial monotone sequence)."""
    p, c, n = x.shape
    centred = x - x.mean(-1, keepdims=True)
    size = 1 << int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(centred, n=size, axis=-1)
    acov = np.fft.irfft(f * np.conj(f), n=size, axis=-1)[..., :n] / n     # biased autocovariance per chain
    chain_var = acov[..., 0] * n / (n - 1.0)
    within = chain_var.mean(-1)
    var_plus = within * (n - 1.0) / n
    if c > 1:
        var_plus = var_plus + x.mean(-1).var(-1, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = 1.0 - (within[:, None] - acov.mean(-2)) / var_plus[:, None]    # (p, n)
    rho[:, 0] = 1.0
    m = n // 2
    pairs = rho[:, 0:2 * m:2] + rho[:, 1:2 * m:2]                         # P_t = rho_2t + rho_2t+1
    positive = np.cumprod(pairs > 0, axis=1).astype(bool)                 # initial positive sequence
    pairs = np.where(positive, pairs, 0.0)
    pairs = np.where(positive, np.minimum.accumulate(np.where(positive, pairs, np.inf), axis=1), 0.0)
    tau = -1.0 + 2.0 * pairs.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = c * n / np.maximum(tau, 1.0 / np.log10(c * n))
    constant = ~np.isfinite(var_plus) | (var_plus <= 0)
    out[constant] = np.nan
    return out


def ess_bulk(x: np.ndarray) -> np.ndarray:
    """Bulk effective sample size: ESS of the rank-normalised split chains."""
    return ess(_rank_normal(split_chains(x)))


def ess_tail(x: np.ndarray) -> np.ndarray:
    """Tail effective sample size: the smaller ESS of the 5% and 95% quantile indicators."""
    s = split_chains(x)
    lo = np.quantile(s, 0.05, axis=(-2, -1), keepdims=True)
    hi = np.quantile(s, 0.95, axis=(-2, -1), keepdims=True)
    return np.fmin(ess((s <= lo).astype(float)), ess((s <= hi).astype(float)))


def summarise(x: np.ndarray) -> dict[str, np.ndarray]:
    """R-hat, bulk ESS and tail ESS of each parameter."""
    return {"rhat": rank_rhat(x), "ess_bulk": ess_bulk(x), "ess_tail": ess_tail(x)}
