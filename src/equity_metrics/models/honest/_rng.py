"""R-compatible normal draws (Mersenne-Twister, ``set.seed``, inversion).

R ``HonestDiD`` draws simulation critical values with ``set.seed(seed)`` and
``rnorm`` / ``mvtnorm::rmvnorm``; reproducing R's stream lets the Python results
match R's printed digits rather than only agree within Monte Carlo error. The
generator is numpy's ``MT19937`` (the same algorithm as R's default) seeded
with R's initial scrambling; normals use R's default ``INVERSION`` method.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

__all__ = ["r_rnorm", "r_rmvnorm"]

_BIG = 134217728.0  # 2^27, R's INVERSION
_I2_32M1 = 2.3283064365386963e-10  # 1 / (2^32 - 1), R's MT_genrand scale


def _r_mt_state(seed: int) -> np.random.Generator:
    """A numpy MT19937 generator in the state R's ``set.seed(seed)`` leaves."""
    s = np.uint32(seed & 0xFFFFFFFF)
    with np.errstate(over="ignore"):
        for _ in range(50):  # initial scrambling (R's RNG_Init)
            s = np.uint32(np.uint32(69069) * s + np.uint32(1))
        key = np.empty(625, dtype=np.uint32)
        for j in range(625):
            s = np.uint32(np.uint32(69069) * s + np.uint32(1))
            key[j] = s
    bg = np.random.MT19937(0)
    # key[0] is R's ``mti`` slot (reset to 624 by FixupSeeds); the table is key[1:]
    bg.state = {"bit_generator": "MT19937", "state": {"key": key[1:].copy(), "pos": 624}}
    return bg


def _unif(bg, n: int) -> np.ndarray:
    u = bg.random_raw(n).astype(np.float64) * _I2_32M1
    # R's fixup: keep strictly inside (0, 1)
    u = np.where(u <= 0.0, 0.5 * _I2_32M1, u)
    return np.where(1.0 - u <= 0.0, 1.0 - 0.5 * _I2_32M1, u)


def r_rnorm(n: int, seed: int = 0) -> np.ndarray:
    """``set.seed(seed); rnorm(n)`` exactly as R (>= 3.6) computes it.

    >>> np.round(r_rnorm(3, seed=0), 7).tolist()
    [1.2629543, -0.3262334, 1.3297993]
    """
    bg = _r_mt_state(seed)
    u = _unif(bg, 2 * n).reshape(n, 2)
    # INVERSION: u = (int)(BIG * u1) + u2, then qnorm(u / BIG)
    v = (np.floor(_BIG * u[:, 0]) + u[:, 1]) / _BIG
    return ndtri(v)


def r_rmvnorm(n: int, sigma: np.ndarray, seed: int = 0) -> np.ndarray:
    """``set.seed(seed); mvtnorm::rmvnorm(n, sigma = sigma)`` (method ``"eigen"``).

    The draws are ``Z %*% R`` with ``Z`` filled by row and ``R`` the symmetric
    square root of ``sigma`` (independent of eigenvector signs).
    """
    sigma = np.asarray(sigma, dtype=float)
    k = sigma.shape[0]
    vals, vecs = np.linalg.eigh(sigma)
    root = (vecs * np.sqrt(np.maximum(vals, 0.0))) @ vecs.T
    z = r_rnorm(n * k, seed).reshape(n, k)
    return z @ root
