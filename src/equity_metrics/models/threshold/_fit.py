"""Fitting the threshold test by NUTS in NumPyro (JAX on the CPU), and summarising the posterior."""

from __future__ import annotations

import time
import warnings
from functools import partial
from typing import Literal

import numpy as np
import pandas as pd

from ..._options import check_option
from ...errors import EstimationError, OptionError
from ._data import prepare_counts
from ._diagnostics import summarise
from .result import ThresholdDiagnostics, ThresholdTestResult

__all__ = ["threshold_test"]

Model = Literal["flat", "hierarchical"]
Weights = Literal["area", "group"]
ChainMethod = Literal["sequential", "vectorized"]

#: adapt_delta of the published runs: run_threshold_test.R (0.9) and OPP's stan_threshold_test (1 - 0.05)
_TARGET_ACCEPT = {"flat": 0.9, "hierarchical": 0.95}
_DEFAULT_WEIGHTS = {"flat": "area", "hierarchical": "group"}
_PPC_DRAWS = 1000
_SMALL_SEARCHES = 20


def _numpyro():
    try:
        import jax
        with warnings.catch_warnings():
            # numpyro imports tqdm.auto, which warns in a Jupyter kernel without ipywidgets
            warnings.filterwarnings("ignore", message="IProgress not found")
            import numpyro
            import numpyro.infer  # noqa: F401
    except ImportError as exc:  # pragma: no cover - the bayes extra is installed in CI
        raise ImportError("the threshold test needs NumPyro and JAX: pip install 'equity_metrics[bayes]'") from exc
    numpyro.enable_x64()          # double precision: binomial likelihoods of large counts
    numpyro.set_platform("cpu")
    return jax, numpyro


def threshold_test(
    counts: pd.DataFrame,
    *,
    model: Model = "flat",
    area: str = "area",
    group: str = "group",
    stops: str = "stops",
    searches: str = "searches",
    hits: str = "hits",
    geography: str | None = None,
    reference_group: str = "White",
    chains: int = 5,
    warmup: int = 2500,
    draws: int = 2500,
    seed: int = 0,
    target_accept: float | None = None,
    max_tree_depth: int = 12,
    prior_scaling_factor: float = 1.0,
    weights: Weights | None = None,
    chain_method: ChainMethod = "sequential",
    progress: bool = False,
) -> ThresholdTestResult:
    """Infer search thresholds by group with the threshold test (no population benchmark needed).

    Officers search a stopped person when their estimated probability of finding contraband exceeds
    a threshold; a group held to a lower threshold is searched on less evidence. The test infers
    each area x group threshold jointly from search rates and hit rates (Simoiu, Corbett-Davies &
    Goel 2017, "The problem of infra-marginality in outcome tests for discrimination", Annals of
    Applied Statistics 11(3); Pierson et al. 2020, "A large-scale analysis of racial disparities in
    police stops across the United States", Nature Human Behaviour 4). Posterior by NUTS in NumPyro.

    Parameters
    ----------
    counts
        One row per area x group with counts of stops, searches and hits (build it from stop
        records with :func:`threshold_counts`).
    model
        ``"flat"``: the 2017 model (``model_flat.stan`` of 5harad/openpolicing: Beta signal, area
        effects pinned at the first area in input order, its priors). ``"hierarchical"``: OPP's 2020
        model (``threshold_test_hierarchical_identified.stan``: two-normal mixture signal,
        geography x group and area effects, priors scaled by ``prior_scaling_factor``).
    area, group, stops, searches, hits
        Column names in ``counts``.
    geography
        Optional column grouping areas (e.g. city when areas are districts of several cities); used
        by the hierarchical model's geography x group effects. Default: one geography.
    reference_group
        Group the others are compared with (default ``"White"``).
    chains, warmup, draws
        NUTS chains and iterations per chain (the published runs: 5 chains, 2,500 warm-up and 2,500
        draws each; fewer give a faster but noisier answer that the diagnostics may flag).
    seed
        Random seed: the same data and seed give identical posteriors.
    target_accept
        NUTS target acceptance (Stan's ``adapt_delta``); default 0.9 (flat) or 0.95 (hierarchical),
        as the published runs.
    max_tree_depth
        NUTS maximum tree depth (12, as the published runs).
    prior_scaling_factor
        Scale of the hierarchical model's priors (1 = the Stan program's unit-scale priors).
    weights
        Aggregate thresholds per group are averages of area thresholds weighted by ``"area"`` stops
        (all groups; ``model_flat.stan``'s generated quantities) or the ``"group"``'s own stops in the
        area (OPP's R code). Default: the published choice of the model.
    chain_method
        ``"sequential"`` (default, reproducible) or ``"vectorized"`` (chains evaluated together).
    progress
        Show NumPyro's progress bar.

    Returns
    -------
    ThresholdTestResult
        Thresholds per area x group and per group with 95% credible intervals, differences from the
        reference group (computed per draw), diagnostics (R-hat, bulk/tail ESS, divergences,
        posterior predictive checks).

    Examples
    --------
    >>> import pandas as pd
    >>> from equity_metrics.models import threshold_test
    >>> counts = pd.DataFrame({"area": ["a", "a", "b", "b", "c", "c"], "group": ["White", "Black"] * 3,
    ...                        "stops": [900, 300, 700, 500, 800, 200], "searches": [30, 25, 20, 40, 28, 18],
    ...                        "hits": [9, 6, 7, 9, 8, 5]})
    >>> res = threshold_test(counts, model="hierarchical", chains=1, warmup=50, draws=50, seed=1)  # tiny, for speed
    >>> res.table()["group"].tolist(), res.weights, bool(res.tidy()["threshold"].between(0, 1).all())
    (['White', 'Black'], 'group', True)
    """
    check_option("model", model, Model)
    check_option("chain_method", chain_method, ChainMethod)
    if weights is not None:
        check_option("weights", weights, Weights)
    for name, v, lo in (("chains", chains, 1), ("warmup", warmup, 1), ("draws", draws, 4), ("max_tree_depth", max_tree_depth, 1)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < lo:
            raise OptionError(f"{name}={v!r}: give a whole number >= {lo}")
    if target_accept is not None and not (0 < float(target_accept) < 1):
        raise OptionError(f"target_accept={target_accept!r}: give a probability between 0 and 1, e.g. 0.95")
    if not (float(prior_scaling_factor) > 0):
        raise OptionError(f"prior_scaling_factor={prior_scaling_factor!r}: give a positive number (1 = the published priors)")
    prep = prepare_counts(counts, area=area, group=group, stops=stops, searches=searches, hits=hits,
                          geography=geography, reference_group=reference_group)
    weights = weights or _DEFAULT_WEIGHTS[model]
    target_accept = float(target_accept) if target_accept is not None else _TARGET_ACCEPT[model]
    jax, numpyro = _numpyro()
    import jax.numpy as jnp
    from numpyro.infer import MCMC, NUTS, init_to_uniform

    from . import _models

    tab = prep.table
    n = jnp.asarray(tab["stops"].to_numpy(np.float64))
    s = jnp.asarray(tab["searches"].to_numpy(np.float64))
    h = jnp.asarray(tab["hits"].to_numpy(np.float64))
    r = jnp.asarray(prep.group_idx)
    d = jnp.asarray(prep.area_idx)
    if model == "flat":
        fn, init = _models.flat_model, partial(_models.init_2017)   # NumPyro wants a partial
        args = (r, d, n, s, h, len(prep.groups), len(prep.areas))

        def quantities(p):
            return _models.flat_quantities(p, r, d)
    else:
        gr = jnp.asarray(prep.geo_group_idx)
        psf = float(prior_scaling_factor)
        fn, init = _models.hierarchical_model, init_to_uniform(radius=2.0)   # Stan's init = "random"
        args = (r, d, gr, n, s, h, len(prep.groups), len(prep.areas), prep.n_geo_group, psf)

        def quantities(p):
            return _models.hierarchical_quantities(p, r, d, gr, psf)

    kernel = NUTS(fn, target_accept_prob=target_accept, max_tree_depth=max_tree_depth, init_strategy=init)
    mcmc = MCMC(kernel, num_warmup=warmup, num_samples=draws, num_chains=chains, chain_method=chain_method,
                progress_bar=progress)
    t0 = time.perf_counter()
    try:
        mcmc.run(jax.random.PRNGKey(seed), *args, extra_fields=("diverging", "num_steps"))
    except (FloatingPointError, RuntimeError) as exc:  # pragma: no cover - defensive
        raise EstimationError(f"NUTS sampling failed ({exc}); check the counts or lower target_accept") from exc
    seconds = time.perf_counter() - t0
    post = {k: np.asarray(v) for k, v in mcmc.get_samples(group_by_chain=True).items()}
    extra = mcmc.get_extra_fields(group_by_chain=True)
    divergences = int(np.asarray(extra["diverging"]).sum())
    steps = np.asarray(extra["num_steps"])

    q_fn = jax.jit(jax.vmap(quantities))
    flat_post = {k: v.reshape((chains * draws,) + v.shape[2:]) for k, v in post.items()}
    thr_draws = np.concatenate([np.asarray(q_fn({k: v[i:i + 2000] for k, v in flat_post.items()})[0])
                                for i in range(0, chains * draws, 2000)])        # (draws, cells)
    # posterior predictive: a thinned set of draws
    take = np.unique(np.linspace(0, chains * draws - 1, min(_PPC_DRAWS, chains * draws)).astype(int))
    _, sr, hr = (np.asarray(x) for x in q_fn({k: v[take] for k, v in flat_post.items()}))
    return _summarise(prep, model=model, weights=weights, thr_draws=thr_draws, post=post, chains=chains,
                      draws=draws, warmup=warmup, divergences=divergences, steps=steps, sr=sr, hr=hr, seed=seed,
                      seconds=seconds, settings={"target_accept": target_accept, "max_tree_depth": max_tree_depth,
                                                 "prior_scaling_factor": float(prior_scaling_factor),
                                                 "chain_method": chain_method, "seed": seed,
                                                 "backend": f"numpyro {numpyro.__version__} (jax {jax.__version__}, CPU, float64)"})


def _aggregate(prep, thr_draws: np.ndarray, weights: str) -> np.ndarray:
    tab = prep.table
    if weights == "area":
        w = tab.groupby("area", sort=False)["stops"].transform("sum").to_numpy(float)
    else:
        w = tab["stops"].to_numpy(float)
    out = np.empty((len(prep.groups), thr_draws.shape[0]))
    for g in range(len(prep.groups)):
        m = prep.group_idx == g
        out[g] = thr_draws[:, m] @ (w[m] / w[m].sum())
    return out


def _summarise(prep, *, model, weights, thr_draws, post, chains, draws, warmup, divergences, steps, sr, hr, seed,
               seconds, settings) -> ThresholdTestResult:
    tab = prep.table.copy()
    agg = _aggregate(prep, thr_draws, weights)                       # (groups, draws)
    diff = agg - agg[0]
    groups = prep.groups
    aggregate = pd.DataFrame({
        "group": groups,
        "threshold": agg.mean(1), "ci_low": np.quantile(agg, 0.025, axis=1), "ci_high": np.quantile(agg, 0.975, axis=1),
        "diff_vs_reference": diff.mean(1), "diff_ci_low": np.quantile(diff, 0.025, axis=1),
        "diff_ci_high": np.quantile(diff, 0.975, axis=1),
        "prob_below_reference": (diff < 0).mean(1),
        "stops": [int(tab.loc[prep.group_idx == g, "stops"].sum()) for g in range(len(groups))],
        "searches": [int(tab.loc[prep.group_idx == g, "searches"].sum()) for g in range(len(groups))],
        "hits": [int(tab.loc[prep.group_idx == g, "hits"].sum()) for g in range(len(groups))],
    })
    aggregate.loc[0, ["diff_vs_reference", "diff_ci_low", "diff_ci_high", "prob_below_reference"]] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        tab["search_rate"] = tab["searches"] / tab["stops"]
        tab["hit_rate"] = np.where(tab["searches"] > 0, tab["hits"] / tab["searches"].where(tab["searches"] > 0), np.nan)
    tab["threshold"] = thr_draws.mean(0)
    tab["ci_low"] = np.quantile(thr_draws, 0.025, axis=0)
    tab["ci_high"] = np.quantile(thr_draws, 0.975, axis=0)
    # posterior predictive checks per cell: replicated searches given stops, hits given the observed searches
    rng = np.random.default_rng(seed)
    nn = tab["stops"].to_numpy(np.int64)
    ss = tab["searches"].to_numpy(np.int64)
    s_rep = rng.binomial(nn[None, :], np.clip(sr, 0, 1)) / nn[None, :]
    h_rep = rng.binomial(ss[None, :], np.clip(hr, 0, 1)) / np.maximum(ss, 1)[None, :]
    tab["pred_search_rate"] = sr.mean(0)
    tab["pred_hit_rate"] = hr.mean(0)
    tab["search_rate_pi_low"], tab["search_rate_pi_high"] = np.quantile(s_rep, [0.025, 0.975], axis=0)
    tab["hit_rate_pi_low"], tab["hit_rate_pi_high"] = np.quantile(h_rep, [0.025, 0.975], axis=0)
    in_s = tab["search_rate"].between(tab["search_rate_pi_low"], tab["search_rate_pi_high"])
    has_s = tab["searches"] > 0
    in_h = tab["hit_rate"].between(tab["hit_rate_pi_low"], tab["hit_rate_pi_high"]) | ~has_s
    tab["ppc_ok"] = in_s & in_h
    tab["small_count"] = tab["searches"] < _SMALL_SEARCHES
    # convergence diagnostics over every sampled parameter, the cell thresholds and the aggregates
    blocks = [v.reshape(chains, draws, -1).transpose(2, 0, 1) for v in post.values()]
    blocks.append(thr_draws.reshape(chains, draws, -1).transpose(2, 0, 1))
    blocks.append(agg.reshape(len(groups), chains, draws))
    stats = {"rhat": [], "ess_bulk": [], "ess_tail": []}
    if chains * draws >= 8:
        for blk in blocks:
            for i in range(0, blk.shape[0], 256):
                st = summarise(blk[i:i + 256])
                for k in stats:
                    stats[k].append(st[k])
    cat = {k: np.concatenate(v) if v else np.array([np.nan]) for k, v in stats.items()}
    w_s = tab["stops"].to_numpy(float)
    w_h = tab["searches"].to_numpy(float)
    diag = ThresholdDiagnostics(
        chains=chains, warmup=warmup, draws=draws,
        rhat_max=float(np.nanmax(cat["rhat"])) if chains > 1 else float("nan"),
        ess_bulk_min=float(np.nanmin(cat["ess_bulk"])), ess_tail_min=float(np.nanmin(cat["ess_tail"])),
        divergences=divergences, mean_leapfrog_steps=float(steps.mean()),
        ppc_search_coverage=float(in_s.mean()), ppc_hit_coverage=float(in_h[has_s].mean()) if has_s.any() else float("nan"),
        search_rate_rmse=float(np.sqrt(np.average((tab["pred_search_rate"] - tab["search_rate"]) ** 2, weights=w_s))),
        hit_rate_rmse=float(np.sqrt(np.average((tab["pred_hit_rate"] - tab["hit_rate"].fillna(0)) ** 2,
                                               weights=np.where(w_h > 0, w_h, 0) if w_h.sum() else None))),
        seconds=seconds)
    return ThresholdTestResult(model=model, cells=tab, aggregate=aggregate, diagnostics=diag,
                               reference_group=groups[0], weights=weights, settings=settings,
                               aggregate_draws=agg)
