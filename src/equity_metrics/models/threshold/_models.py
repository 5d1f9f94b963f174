"""The two threshold models as NumPyro programs (imported only when a model is fitted).

Both follow their published Stan programs statement by statement; the comments name the Stan lines.
Indices are 0-based here (Stan's are 1-based): the pinned area is index 0, the first area in the
input order.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from jax.scipy.special import expit, xlog1py, xlogy
from jax.scipy.stats import norm

from ._betainc import beta_upper_tail_and_density_term

__all__ = ["flat_model", "hierarchical_model", "flat_quantities", "hierarchical_quantities", "INIT_RANGES_2017"]

#: Initial values of ``run_mcmc`` in 5harad/openpolicing ``run_threshold_test.R`` (uniform ranges).
INIT_RANGES_2017 = {"sigma_t": (0.05, 0.25), "t_r": (-3.0, -1.0), "t_i_raw": (-0.75, 0.75),
                    "phi_r": (-3.75, -3.25), "lambda_r": (1.5, 2.5), "phi_d_raw": (-0.25, 0.25),
                    "lambda_d_raw": (-0.25, 0.25)}

_EPS = 1e-12


def _binomial_loglik(k, n, p):
    # the binomial log likelihood without its constant log C(n, k) (it does not depend on parameters)
    p = jnp.clip(p, _EPS, 1.0 - _EPS)
    return xlogy(k, p) + xlog1py(n - k, -p)


def flat_quantities(params, r, d):
    """Threshold ``t`` (probability scale), search and hit rates of the 2017 model (``model_flat.stan``)."""
    phi_d = jnp.concatenate([jnp.zeros(1), params["phi_d_raw"]])        # phi_d[1] = 0
    lambda_d = jnp.concatenate([jnp.zeros(1), params["lambda_d_raw"]])  # lambda_d[1] = 0
    t = expit(params["t_r"][r] + params["t_i_raw"] * params["sigma_t"][r])
    t = jnp.clip(t, _EPS, 1.0 - _EPS)
    phi = expit(params["phi_r"][r] + phi_d[d])
    lam = jnp.exp(params["lambda_r"][r] + lambda_d[d])
    a, b = lam * phi, lam * (1.0 - phi)
    tail, dens = beta_upper_tail_and_density_term(t, a, b)
    search_rate = tail                                     # beta_ccdf(t, a, b)
    hit_rate = a / (a + b) * (tail + dens) / tail          # beta_ccdf(t, a+1, b) / beta_ccdf(t, a, b) * a/(a+b)
    return t, search_rate, hit_rate


def flat_model(r, d, n, s, h, n_groups, n_areas):
    """Simoiu, Corbett-Davies & Goel (2017), ``model_flat.stan`` of 5harad/openpolicing."""
    n_cells = r.shape[0]
    params = {
        "sigma_t": numpyro.sample("sigma_t", dist.HalfNormal(0.25).expand([n_groups])),   # normal(0, 0.25), lower=0
        "t_r": numpyro.sample("t_r", dist.Normal(-2.0, 1.0).expand([n_groups])),
        "t_i_raw": numpyro.sample("t_i_raw", dist.Normal(0.0, 1.0).expand([n_cells])),
        "phi_r": numpyro.sample("phi_r", dist.Normal(-3.5, 0.25).expand([n_groups])),
        "phi_d_raw": numpyro.sample("phi_d_raw", dist.Normal(0.0, 0.25).expand([n_areas - 1])),
        "lambda_r": numpyro.sample("lambda_r", dist.Normal(2.0, 0.5).expand([n_groups])),
        "lambda_d_raw": numpyro.sample("lambda_d_raw", dist.Normal(0.0, 0.5).expand([n_areas - 1])),
    }
    _, search_rate, hit_rate = flat_quantities(params, r, d)
    numpyro.factor("searches", jnp.sum(_binomial_loglik(s, n, search_rate)))   # s ~ binomial(n, search_rate)
    numpyro.factor("hits", jnp.sum(_binomial_loglik(h, s, hit_rate)))          # h ~ binomial(s, hit_rate)


def hierarchical_quantities(params, r, sub, geo_race, prior_scaling_factor):
    """Threshold (probability scale), search and hit rates of OPP's identified hierarchical model."""
    psf = prior_scaling_factor
    mu_phi = params["mu_phi_raw"] * psf
    mu_delta = params["mu_delta_raw"] * psf
    phi_race = jnp.concatenate([jnp.zeros(1), params["phi_race_raw"] * 0.25 * psf])
    delta_race = jnp.concatenate([jnp.zeros(1), params["delta_race_raw"] * 0.1 * psf])
    phi_sub = jnp.concatenate([jnp.zeros(1), params["phi_subgeography_raw"] * 0.1 * psf])
    delta_sub = jnp.concatenate([jnp.zeros(1), params["delta_subgeography_raw"] * 0.1 * psf])
    threshold_race = params["threshold_race_raw"][r] * psf
    sigma_threshold = params["sigma_threshold_raw"] * psf
    threshold = threshold_race + params["threshold_raw"] * sigma_threshold
    phi = expit(mu_phi + phi_race[geo_race] + phi_sub[sub])
    delta = jnp.exp(mu_delta + delta_race[geo_race] + delta_sub[sub])
    found = phi * norm.sf(threshold, delta, 1.0)
    not_found = (1.0 - phi) * norm.sf(threshold, 0.0, 1.0)
    search_rate = found + not_found
    hit_rate = found / search_rate
    # OPP signal_to_percent: P(contraband | signal = threshold)
    w1 = phi * norm.pdf(threshold, delta, 1.0)
    prob = w1 / (w1 + (1.0 - phi) * norm.pdf(threshold, 0.0, 1.0))
    return prob, search_rate, hit_rate


def hierarchical_model(r, sub, geo_race, n, s, h, n_groups, n_subgeographies, n_geo_race, prior_scaling_factor):
    """Pierson et al. (2020), OPP ``stan/threshold_test_hierarchical_identified.stan``."""
    n_cells = r.shape[0]
    params = {
        "sigma_threshold_raw": numpyro.sample("sigma_threshold_raw", dist.HalfNormal(1.0)),
        "threshold_race_raw": numpyro.sample("threshold_race_raw", dist.Normal(0.0, 1.0).expand([n_groups])),
        "threshold_raw": numpyro.sample("threshold_raw", dist.Normal(0.0, 1.0).expand([n_cells])),
        "phi_race_raw": numpyro.sample("phi_race_raw", dist.Normal(0.0, 1.0).expand([n_geo_race - 1])),
        "phi_subgeography_raw": numpyro.sample("phi_subgeography_raw", dist.Normal(0.0, 1.0).expand([n_subgeographies - 1])),
        "mu_phi_raw": numpyro.sample("mu_phi_raw", dist.Normal(0.0, 1.0)),
        "delta_race_raw": numpyro.sample("delta_race_raw", dist.Normal(0.0, 1.0).expand([n_geo_race - 1])),
        "delta_subgeography_raw": numpyro.sample("delta_subgeography_raw",
                                                 dist.Normal(0.0, 1.0).expand([n_subgeographies - 1])),
        "mu_delta_raw": numpyro.sample("mu_delta_raw", dist.Normal(0.0, 1.0)),
    }
    _, search_rate, hit_rate = hierarchical_quantities(params, r, sub, geo_race, prior_scaling_factor)
    numpyro.factor("searches", jnp.sum(_binomial_loglik(s, n, search_rate)))
    numpyro.factor("hits", jnp.sum(_binomial_loglik(h, s, hit_rate)))


def init_2017(site=None):
    """NumPyro init strategy drawing the 2017 initial values (``INIT_RANGES_2017``) per chain."""
    if site is None:
        return init_2017
    if site["type"] == "sample" and not site["is_observed"] and site["name"] in INIT_RANGES_2017:
        lo, hi = INIT_RANGES_2017[site["name"]]
        shape = site["kwargs"].get("sample_shape", ()) + tuple(site["fn"].shape())
        return jax.random.uniform(site["kwargs"]["rng_key"], shape, minval=lo, maxval=hi)
    return None
