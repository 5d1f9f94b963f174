"""Fisher randomization test of :func:`~equity_metrics.models.efficient.efficient_staggered`, vectorised.

Each permutation reassigns the cohorts (treatment timings) to the units and
recomputes the studentised estimates of every row ``j`` of the estimand.  With
``pa = y_i . A_jg`` and ``pc = y_i . C_jg`` (the projections of unit ``i``'s
outcomes on the estimand and pre-period-term weights of row ``j`` for cohort
``g``), a permutation needs, per cohort:

* the means of ``pa`` and ``pc`` -- from the cohort sums of the outcomes (a
  0/1 matrix times ``y``) and the weights;
* their sums of squares and cross-products -- a table of ``pa^2, pc^2, pa pc``
  for every (cohort, unit) pair, built once, times 0/1 matrices picking the
  units assigned to each cohort; the 0/1 matrices are stored by columns, so
  the table streams through once while the batch's sums stay in cache.  With
  the permutations kept from the first pass, one cohort's table at a time (in
  one reused buffer) for all of them; cohort ``g`` has columns only for the
  rows that involve it;
* for the refined variance, the covariance of the periods before the
  earliest cohort ``m`` of a row with ``pa`` and the pre-period covariance:
  gathered ``[1 | pre-periods | ...]`` rows of a few permutations times their
  first columns (the ones give the column sums), centred while in cache.
  ``cov(pre, pa) = S_pp A_pre' + cov(pre, y_post A_post')``: only the rows
  weighting a cohort's later periods are gathered as projections (for the
  ``cohort`` estimand, a cohort is mostly a comparison in its own
  pre-periods).  Every leading block ``S[:m, :m]`` of a cohort's pre-period
  covariance is solved with one Cholesky factor (``L^-1[:m, :m]`` is the
  inverse factor of the block; rows in up to four groups by pre-period count
  use only the leading block their longest row needs), and rows are visited
  by earliest cohort from the last so that the sums over cohorts ``>= m`` are
  suffix sums.
  Ill-conditioned covariances (cohorts with fewer units than pre-periods)
  fall back to ``pinvh``'s eigenvalue cutoff, as the estimator.

Nothing depending on the assignment is recomputed from scratch; the cost per
permutation is about ``units x (3 x rows + pre_periods x (pre_periods + a
few))`` operations (``pre_periods x periods`` when most rows weight later
periods) plus small factorisations, instead of ``units x periods**2`` plus a
pseudo-inverse per cohort and row group.  The permutations are drawn once
(each one's units sorted by cohort kept, as int16, for the second pass when
they fit in ``_DRAWS_MEMORY``; else drawn again).  Batches of permutations
run on up to two threads (one when the machine is busy); results do not
depend on it.

The permutations are the same (same generator, same order) as the one-at-a-time
loop kept as :func:`fisher_counts_reference`, and the statistics agree with it
to rounding (``tests/test_efficient.py``).  Designs with ``comparisons="all"``
(a shared vector beta re-estimated in each permutation) use the reference loop.
"""

from __future__ import annotations

import os

import numpy as np

from scipy.linalg.lapack import dtrtri as _dtrtri

from .did._linear import single_thread_blas

__all__ = ["fisher_counts", "fisher_counts_reference", "fisher_statistics", "fisher_statistics_reference"]

_EPS = np.finfo(float).eps
_MEMORY = 64 * 2**20  # bytes of per-batch work arrays
_CACHE = 2**20  # bytes of a gathered block of outcomes (stays in cache for its product)
_DRAWS_MEMORY = 256 * 2**20  # bytes of the permutations' sorted units kept for the second pass
_HALF = 16  # cohorts with at least this many pre-periods solve their rows in groups by pre-period count
_SOLVE_PARTS = 4  # at most this many groups (by quarters of the pre-periods)
_THREADS = 2  # at most this many threads process batches of permutations (see _default_threads)
_PROJ_MEMORY = 768 * 2**20  # bytes of (cohort, unit) tables: squares of a chunk of rows; half for refinement columns


def _compare(stat: np.ndarray, obs: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.abs(stat) >= np.abs(obs) - 1e-12 * np.abs(obs)


def fisher_statistics_reference(y, gi, n_g, des, mode, beta_value, times, glist, n_fisher, seed):
    """Studentised statistics ``(n_fisher, rows)`` (refined, Neyman), one permutation at a time (reference)."""
    from .efficient import _estimate, _stats

    rng = np.random.default_rng(seed)
    st_r, st_n = np.empty((n_fisher, des.a.shape[0])), np.empty((n_fisher, des.a.shape[0]))
    for b in range(n_fisher):
        gp = gi[rng.permutation(gi.size)]
        yb, sp = _stats(y, gp, glist.size)
        e_, s_, sn_, *_ = _estimate(yb, sp, n_g, des, mode, beta_value, times, glist)
        with np.errstate(divide="ignore", invalid="ignore"):
            st_r[b], st_n[b] = e_ / s_, e_ / sn_
    return st_r, st_n


def fisher_counts_reference(y, gi, n_g, des, mode, beta_value, times, glist, t_obs, t_obs_n, n_fisher, seed):
    """Counts of ``|t*| >= |t|`` over ``n_fisher`` permutations, one permutation at a time (reference)."""
    st_r, st_n = fisher_statistics_reference(y, gi, n_g, des, mode, beta_value, times, glist, n_fisher, seed)
    return _compare(st_r, t_obs).sum(axis=0).astype(float), _compare(st_n, t_obs_n).sum(axis=0).astype(float)


def _pinvh_apply(sub: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """``pinvh(sub) @ rhs`` for stacks of symmetric PSD matrices, with scipy ``pinvh(atol=0)``'s cutoff.

    Well-conditioned matrices (1-norm condition below 1e8, so that no
    eigenvalue is near the cutoff ``size * eps * max eigenvalue``) are solved
    directly; the others go through the eigendecomposition, as ``pinvh``.
    """
    m = sub.shape[-1]
    flat = sub.reshape(-1, m, m)
    rflat = rhs.reshape(-1, m, rhs.shape[-1])
    out = np.empty_like(rflat)
    bad = np.ones(flat.shape[0], dtype=bool)
    with np.errstate(all="ignore"):
        try:
            inv = np.linalg.inv(flat)
        except np.linalg.LinAlgError:
            inv = None
        if inv is not None:
            cond = np.abs(flat).sum(axis=-2).max(axis=-1) * np.abs(inv).sum(axis=-2).max(axis=-1)
            bad = ~(np.isfinite(cond) & (cond < 1e8))
            good = ~bad
            out[good] = inv[good] @ rflat[good]
    if bad.any():
        w, u = np.linalg.eigh(flat[bad])
        cutoff = m * _EPS * np.abs(w).max(axis=-1, keepdims=True)
        keep = np.abs(w) > cutoff
        with np.errstate(divide="ignore"):
            iw = np.where(keep, 1.0 / np.where(keep, w, 1.0), 0.0)
        out[bad] = u @ (iw[..., None] * (np.swapaxes(u, -1, -2) @ rflat[bad]))
    return out.reshape(rhs.shape)


def fisher_counts(y, gi, n_g, des, mode, beta_value, times, glist, t_obs, t_obs_n, n_fisher, seed,
                  *, memory: int = _MEMORY):
    """Counts of ``|t*| >= |t|`` (refined and Neyman studentisation) over ``n_fisher`` permutations.

    ``comparisons="all"`` designs use the one-at-a-time loop; others
    :func:`fisher_statistics`.  Returns ``(ge_refined, ge_neyman)``.
    """
    if des.shared_c:
        return fisher_counts_reference(y, gi, n_g, des, mode, beta_value, times, glist, t_obs, t_obs_n,
                                       n_fisher, seed)
    st_r, st_n = fisher_statistics(y, gi, n_g, des, mode, beta_value, times, glist, n_fisher, seed,
                                   memory=memory)
    return _compare(st_r, t_obs).sum(axis=0).astype(float), _compare(st_n, t_obs_n).sum(axis=0).astype(float)


def _cholesky_inverse(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse Cholesky factors ``L^-1`` of a stack of symmetric matrices and which of them are well conditioned.

    ``L^-1[:m, :m]`` is the inverse factor of every leading block ``s[:m, :m]``
    (triangular), so one factorisation serves every pre-period length.  A
    matrix is accepted when ``trace(s) trace(s^-1)`` (an upper bound of its
    2-norm condition number, and so of every leading block's) is below 1e8:
    then no eigenvalue is near ``pinvh``'s cutoff and the inverse is the
    pseudo-inverse.  The others (``ok`` False) get an identity factor.
    """
    k = s.shape[-1]
    eye = np.eye(k)
    with np.errstate(all="ignore"):
        try:
            lo = np.linalg.cholesky(s)
            ok = np.ones(s.shape[0], dtype=bool)
        except np.linalg.LinAlgError:
            lo = np.broadcast_to(eye, s.shape).copy()
            ok = np.zeros(s.shape[0], dtype=bool)
            for b in range(s.shape[0]):
                try:
                    lo[b] = np.linalg.cholesky(s[b])
                    ok[b] = True
                except np.linalg.LinAlgError:
                    pass
        if not ok.all():
            lo[~ok] = eye
        linv = lo  # inverted in place: lo[b].T is L' in Fortran order, whose inverse there reads as L^-1
        for b in range(lo.shape[0]):  # triangular inverse (a sixth of the work of a general one)
            inv_t, info = _dtrtri(linv[b].T, lower=0, overwrite_c=1)
            if info:
                linv[b], ok[b] = eye, False
            elif not np.may_share_memory(inv_t, linv):  # not done in place
                linv[b] = inv_t.T
        bound = np.trace(s, axis1=1, axis2=2) * np.einsum("bij,bij->b", linv, linv)  # NaN if not finite
        ok &= bound < 1e8
    if not ok.all():
        linv[~ok] = eye
    return linv, ok


@single_thread_blas
def fisher_statistics(y, gi, n_g, des, mode, beta_value, times, glist, n_fisher, seed, *, memory: int = _MEMORY,
                      threads: int | None = None):
    """Studentised statistics ``(n_fisher, rows)`` (refined, Neyman) of every permutation, in batches.

    Parameters are those of the estimator internals in ``efficient.py``:
    outcomes ``y`` (units x periods), cohort index ``gi`` of each unit, cohort
    sizes ``n_g``, the design ``des``, the beta mode and value, periods,
    cohorts, the number of permutations and the seed; ``memory`` bounds the
    work arrays of a batch of permutations, ``threads`` (default: up to 2)
    process batches in parallel (results do not depend on it).

    Returns
    -------
    tuple of numpy.ndarray
        ``(refined, neyman)``, each ``(n_fisher, rows)``.
    """
    n, T = y.shape
    a, c = des.a, des.c
    J = a.shape[0]
    # earliest cohort of each row (the refinement projects on the periods before it) and its pre-period count;
    # rows sorted by it, so that the rows whose refinement involves cohort g (gmin <= g) are a prefix
    gmin = glist[np.argmax(np.abs(a).max(axis=2) > 0, axis=1)]
    order = np.argsort(gmin, kind="stable")
    a, c, gmin = a[order], c[order], gmin[order]
    mlen = np.searchsorted(times, gmin).astype(np.int64)  # periods before gmin (times sorted)
    # centred over units: every projection y . A_jg then has mean zero over units, and cohort means of the
    # projections are those of y (the weights of a row sum to zero over cohorts in every period)
    yc = y - y.mean(axis=0)
    # work arrays per permutation: unit orders (about 3 n), cohort means, the refinement's suffix sums
    m_max = int(mlen.max(initial=0))
    per_perm = 8 * (3 * n + glist.size * (T + 8 * J) + m_max * (m_max + 2 * J))
    threads = _default_threads() if threads is None else max(1, int(threads))
    draws = _Draws(gi, n_fisher, seed, _DRAWS_MEMORY)  # drawn in the first pass, kept for the second
    perms = _Permutations(gi, n_g, n_fisher, seed, int(np.clip(memory // per_perm, 16, 512)), threads, draws)
    # means (n_fisher, 2J); squared-mean corrections (3J) and refinement (J) in m2
    m1, m2 = _means_refinement(yc, a, c, gmin, mlen, n_g, glist, perms)
    # sums of squares (n_fisher, 3J); this pass reads each cohort's table once per batch, so larger batches
    sq_batch = int(np.clip(memory // (32 * n), perms.batch, 1024))
    sq = _squares(yc, a, c, n_g, _Permutations(gi, n_g, n_fisher, seed, sq_batch, threads, draws))
    mom = {"est_a": m1[:, :J], "est_c": m1[:, J:], "vaa": sq[:, :J] - m2[:, :J],
           "vcc": sq[:, J : 2 * J] - m2[:, J : 2 * J], "vac": sq[:, 2 * J :] - m2[:, 2 * J : 3 * J],
           "adj": m2[:, 3 * J :]}
    if mode == "efficient":
        thr = 1e-14 * np.maximum(np.abs(mom["vac"]).max(axis=1, initial=0), 1e-300)[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            beta = np.where(mom["vcc"] > thr, mom["vac"] / mom["vcc"], 0.0)
    else:
        beta = np.full((n_fisher, J), beta_value)
    est = mom["est_a"] - beta * mom["est_c"]
    v_ney = mom["vaa"] - 2.0 * beta * mom["vac"] + beta * beta * mom["vcc"]
    with np.errstate(divide="ignore", invalid="ignore"):
        st_r = est / np.sqrt(np.clip(v_ney - mom["adj"], 0, None))
        st_n = est / np.sqrt(np.clip(v_ney, 0, None))
    inv = np.empty_like(order)
    inv[order] = np.arange(J)
    return st_r[:, inv], st_n[:, inv]


def _default_threads() -> int:
    """Two threads when a core is idle, else one.

    Measured on the 2-core machine at load average 5-6: a second thread gave
    no gain (GIL hand-offs between the many NumPy calls stall when every core
    is busy), so it is used only when the 1-minute load leaves a core free.
    Results do not depend on the number of threads.
    """
    cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):  # pragma: no cover - platforms without getloadavg
        busy = 0.0
    return int(max(1, min(_THREADS, cores, np.floor(cores - busy + 0.5))))


class _Draws:
    """Each permutation's units sorted by (assigned cohort, unit), in batches (the reference loop's generator and
    order).

    Drawn once; kept (int16 when the unit count allows) for the later passes
    when they fit in ``memory`` bytes, else drawn again.
    """

    def __init__(self, gi, n_fisher, seed, memory):
        self.codes = gi.astype(np.int8 if gi.max(initial=0) < 127 else np.int32)
        self.n, self.n_fisher, self.seed = gi.size, n_fisher, seed
        dtype = np.int16 if self.n <= np.iinfo(np.int16).max else np.int32
        fits = n_fisher * self.n * np.dtype(dtype).itemsize <= memory
        self.kept = np.empty((n_fisher, self.n), dtype=dtype) if fits else None
        self.complete = False

    def batches(self, batch):
        if self.complete:
            for start in range(0, self.n_fisher, batch):
                yield start, self.kept[start : start + batch]
            return
        rng = np.random.default_rng(self.seed)
        for start in range(0, self.n_fisher, batch):
            nb = min(batch, self.n_fisher - start)
            gp = np.empty((nb, self.n), self.codes.dtype)  # cohort of each unit
            for r in range(nb):
                np.take(self.codes, rng.permutation(self.n), out=gp[r])
            units = np.argsort(gp, axis=1, kind="stable")  # radix sort
            if self.kept is not None:
                self.kept[start : start + nb] = units
            yield start, units
        self.complete = self.kept is not None


class _Permutations:
    """The permutations of the reference loop (same generator, same order), in batches; replayable.

    ``run(fn)`` calls ``fn(rows, units)`` for every batch (``rows`` the slice
    of permutations, ``units`` each permutation's units sorted by (assigned
    cohort, unit), so that cohort ``g`` occupies the fixed positions
    ``bounds[g]:bounds[g + 1]``); batches are drawn here in order and
    processed on ``threads`` threads (NumPy, SciPy and BLAS release the GIL).
    """

    def __init__(self, gi, n_g, n_fisher, seed, batch, threads, draws: _Draws | None = None):
        self.n, self.n_fisher, self.seed, self.batch, self.threads = gi.size, n_fisher, seed, batch, threads
        self.sizes = n_g.astype(np.int64)
        self.bounds = np.concatenate([[0], np.cumsum(self.sizes)])
        self.draws = draws if draws is not None else _Draws(gi, n_fisher, seed, 0)

    def _batches(self):
        for start, units in self.draws.batches(self.batch):
            yield slice(start, start + units.shape[0]), units

    def run(self, fn) -> None:
        if self.threads <= 1 or self.n_fisher <= self.batch:
            for rows, units in self._batches():
                fn(rows, units)
            return
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(self.threads) as ex:
            pending = []
            for rows, units in self._batches():
                pending.append(ex.submit(fn, rows, units))
                if len(pending) > self.threads:
                    pending.pop(0).result()
            for f in pending:
                f.result()


def _picks(units: np.ndarray, n: int):
    """0/1 matrix (rows of ``units``, n columns) with ones at ``units[r]`` in row r, stored by columns.

    Its product with a (n, w) table sums, for every row, the table rows of its
    units in increasing unit order (as the row-wise form, bit for bit), but
    reads the table once, in order, adding each of its rows to the outputs of
    the permutations that picked it: the outputs (rows x w) stay in cache
    while the table streams, instead of gathering scattered table rows for
    every permutation (2-3x faster on the (cohort, unit) tables).
    """
    from scipy import sparse

    nb, width = units.shape
    return sparse.csr_matrix((np.ones(units.size), units.ravel(), np.arange(0, units.size + 1, width)),
                             shape=(nb, n)).tocsc()


def _means_refinement(yc, a, c, gmin, mlen, n_g, glist, perms):
    """Per permutation: sums over cohorts of the cohort means of the projections (2J), of the squared-mean
    corrections ``mean_a^2, mean_c^2, mean_a mean_c`` / (n_g - 1) (3J), and the refinement (J)."""
    n, T = yc.shape
    G, J = glist.size, a.shape[0]
    nf = n_g.astype(float)
    den = nf - 1.0
    n_tot = nf.sum()
    w = np.concatenate([a, c])  # (2J, G, T)
    r_g = np.searchsorted(gmin, glist, side="right")  # rows whose refinement uses cohort g: a prefix
    k_g = np.array([int(mlen[:r].max(initial=0)) for r in r_g])  # pre-periods cohort g needs
    kmax = int(k_g.max(initial=0))
    mask = (np.arange(kmax)[:, None] < mlen[None, :]).astype(float)  # (kmax, J)
    # groups of rows with the same earliest cohort: first cohort index -> [(rows slice, pre-periods)]
    groups: dict[int, list[tuple[slice, int]]] = {}
    for m in np.unique(gmin):
        sel = np.flatnonzero(gmin == m)
        ml = int(mlen[sel[0]])
        if ml:
            groups.setdefault(int(np.searchsorted(glist, m)), []).append((slice(sel[0], sel[-1] + 1), ml))
    # per cohort, the columns gathered for the refinement (after a column of ones, whose products are the column
    # sums): the k pre-periods, the projections on the later periods of the rows weighting them ("post" rows;
    # cov(pre, pa) = S_pp a_pre' + cov(pre, y_post a_post')), and the pc projections if that is still narrower
    # than y (the sums then give the cohort means of pa and pc; otherwise those come from a 0/1 matrix times
    # y); else all periods of y (covariances times the weights). Rows past r_g have no weight on cohort g in a.
    wc_g = [int(np.flatnonzero(np.abs(c[:, g]).max(axis=1) > 0).max(initial=-1)) + 1 for g in range(G)]
    src, full, size, post, a_w = {}, set(), 0, {}, {}
    ones = np.ones((n, 1))
    for g in range(G):
        k, r = int(k_g[g]), int(r_g[g])
        post[g] = np.flatnonzero(np.abs(a[:r, g, k:]).max(axis=1, initial=0) > 0)
        rp = post[g].size
        cols = [ones, yc[:, :k], yc[:, k:] @ a[post[g], g, k:].T] if k + rp < T else None
        if cols is not None and k + rp + wc_g[g] < T:
            cols.append(yc @ c[: wc_g[g], g].T)
            full.add(g)
        if k and cols is not None and size + 8 * n * sum(x.shape[1] for x in cols) <= _PROJ_MEMORY // 2:
            src[g] = np.ascontiguousarray(np.concatenate(cols, axis=1))
            size += src[g].nbytes
            # cov(pre, [pre | post projections]) @ a_w = cov(pre, pa): a_pre' on top, then ones placing the projections
            a_w[g] = np.zeros((k + rp, r))
            a_w[g][:k] = a[:r, g, :k].T
            a_w[g][k + np.arange(rp), post[g]] = 1.0
        else:
            full.discard(g)
    yc1 = np.ascontiguousarray(np.concatenate([ones, yc], axis=1)) if any(
        k_g[g] and g not in src for g in range(G)) else None
    # rows of cohort g in groups by pre-period count (rows are sorted by it): each group's solves use only the
    # leading block of the factor that its longest row needs
    parts = {}
    for g in range(G):
        k, r = int(k_g[g]), int(r_g[g])
        cuts = [int(np.searchsorted(mlen[:r], q * k // _SOLVE_PARTS, side="right"))
                for q in range(1, _SOLVE_PARTS)] if k >= _HALF else []
        edges = sorted({0, r, *cuts})
        parts[g] = [(j0, j1, int(mlen[j1 - 1])) for j0, j1 in zip(edges[:-1], edges[1:]) if j1 > j0]
    bounds = perms.bounds
    out = np.empty((perms.n_fisher, 6 * J))

    def batch(sl, units):
        nb = units.shape[0]
        res = out[sl]
        mean = np.zeros((nb, G, 2 * J))  # cohort means of pa, pc: from the gathered rows or from y's
        for g in range(G):
            if not k_g[g] or (g in src and g not in full):
                mean[:, g] = (_picks(units[:, bounds[g] : bounds[g + 1]], n) @ yc) @ (w[:, g].T / nf[g])
        adj = res[:, 5 * J :]
        adj[:] = 0.0
        if groups:
            _refine(units, mean, adj)
        res[:, : 2 * J] = mean.sum(axis=1)
        ma, mc = mean[..., :J], mean[..., J:]
        d3 = den[None, :, None]
        res[:, 2 * J : 3 * J] = (ma * ma / d3).sum(axis=1)
        res[:, 3 * J : 4 * J] = (mc * mc / d3).sum(axis=1)
        res[:, 4 * J : 5 * J] = (ma * mc / d3).sum(axis=1)

    def _refine(units, mean, adj):
        nb = units.shape[0]
        ssum = np.zeros((nb, kmax, kmax))  # suffix sums (cohorts >= g) of pre-period covariances
        bsum = np.zeros((nb, kmax, J))  # suffix sums of the projections S_pp^-1 cov(pre, pa)
        for g in range(G - 1, -1, -1):
            k, r = int(k_g[g]), int(r_g[g])
            if k:
                ng = nf[g]
                tab = src[g] if g in src else yc1
                rp = post[g].size
                cov, mz = _gathered_cov(tab, units[:, bounds[g] : bounds[g + 1]], k, k + rp if g in src else T,
                                        ng, den[g])
                s_pp = cov[..., :k]
                # (nb, k, r): cov(pre, pa), each a product over the whole batch
                if g not in src:
                    mean[:, g] = mz @ w[:, g].T
                    r_pa = (cov.reshape(-1, T) @ a[:r, g].T).reshape(nb, k, r)
                else:
                    if g in full:
                        mean[:, g, :r] = mz[:, : k + rp] @ a_w[g]
                        mean[:, g, J : J + wc_g[g]] = mz[:, k + rp :]
                    r_pa = (cov.reshape(-1, k + rp) @ a_w[g]).reshape(nb, k, r)
                ssum[:, :k, :k] += s_pp
                linv, ok = _cholesky_inverse(s_pp)
                proj = _leading_solves(linv, r_pa, mask[:k, :r], parts[g])
                if not ok.all():  # ill-conditioned or singular: pseudo-inverse of each leading block
                    bad = np.flatnonzero(~ok)
                    proj[bad] = 0.0
                    for g0, lst in groups.items():
                        if g0 <= g:
                            for rsl, ml in lst:
                                proj[bad, :ml, rsl] = _pinvh_apply(s_pp[bad][:, :ml, :ml], r_pa[bad][:, :ml, rsl])
                bsum[:, :k, :r] += proj
            for rsl, ml in groups.get(g, ()):
                bs = bsum[:, :ml, rsl]
                adj[:, rsl] = ((ssum[:, :ml, :ml] @ bs) * bs).sum(axis=1) / ((G - g) * n_tot)

    perms.run(batch)
    return out[:, : 2 * J], out[:, 2 * J :]


def _leading_solves(linv, rhs, mask, parts):
    """``S[:m_j, :m_j]^-1 rhs[:m_j, j]`` for every column j (zero past ``m_j``), ``linv`` the inverse Cholesky
    factors of S (nb, k, k), ``mask`` (k, r) ones where ``i < m_j``.

    ``(L^-1[:m,:m])' (L^-1 x)[:m]``: entries past each column's own ``m_j``
    are zeroed before the back substitution, so they come out zero.  Columns
    come in ``parts`` ``(j0, j1, h)`` (``m_j <= h`` for ``j0 <= j < j1``), each
    solved with the leading ``h x h`` block of ``L^-1`` only.
    """
    out = np.zeros(rhs.shape)
    for j0, j1, h in parts:
        lh = linv[:, :h, :h]
        out[:, :h, j0:j1] = np.swapaxes(lh, 1, 2) @ ((lh @ rhs[:, :h, j0:j1]) * mask[:h, j0:j1])
    return out


def _gathered_cov(tab, ii, k, wc, ng, den):
    """Covariances over each permutation's units ``ii`` (nb, n_g) of the pre-periods with the columns of ``tab``.

    ``tab`` is (n, 1 + width): ones, then the k pre-periods, then the other
    columns.  The rows of a few permutations are gathered at a time; their
    first ``1 + k`` columns times the first ``1 + wc`` (the ones give the
    column sums; columns past ``wc`` only need their sums), then centred and
    scaled while the block is in cache.  Returns the covariances ``(nb, k,
    wc)`` (ddof 1) of the pre-periods with the first ``wc`` columns, and the
    column means ``(nb, width)``.
    """
    nb, width = ii.shape[0], tab.shape[1]
    cov = np.empty((nb, k, wc))
    sums = np.empty((nb, width - 1))
    step = max(1, _CACHE // (8 * ii.shape[1] * width))  # gathered block (and its products) stay in cache
    for s0 in range(0, nb, step):
        zb = np.take(tab, ii[s0 : s0 + step], axis=0)  # (step, n_g, 1 + width)
        zc = zb[..., : 1 + wc]
        if wc + 1 > 2 * (k + 1):  # a wide table: BLAS is faster with the long side first
            gb = np.swapaxes(np.matmul(np.swapaxes(zc, 1, 2), zc[..., : k + 1]), 1, 2)
        else:
            gb = np.matmul(np.swapaxes(zc[..., : k + 1], 1, 2), zc)
        sb, cb = sums[s0 : s0 + step], cov[s0 : s0 + step]
        sb[:, :wc] = gb[:, 0, 1:]
        if wc + 1 < width:
            sb[:, wc:] = np.matmul(np.swapaxes(zb[..., :1], 1, 2), zb[..., 1 + wc :])[:, 0]
        np.subtract(gb[:, 1:, 1:], sb[:, :k, None] * (sb[:, None, :wc] / ng), out=cb)
        cb /= den
    return cov, sums / ng


def _squares(yc, a, c, n_g, perms):
    """Per permutation, sum over cohorts of ``sum_i (pa^2, pc^2, pa pc) / (n_g (n_g - 1))`` (3J).

    A table of those products for every (cohort, unit) pair, times 0/1
    matrices picking the units assigned to each cohort.  When the first pass
    kept every permutation's units, one cohort's table at a time (a buffer of
    ``units x 3 x rows``, in cache while every batch streams through it);
    else all cohorts' tables for a chunk of rows that fits in ``_PROJ_MEMORY``
    (each chunk replays the permutations).
    """
    n, T = yc.shape
    G, J = n_g.size, a.shape[0]
    scale = 1.0 / (n_g * (n_g - 1.0))
    bounds = perms.bounds
    out = np.zeros((perms.n_fisher, 3 * J))
    # cohort g has nonzero weights only in rows < width[g] (rows sorted by earliest cohort)
    nzr = (np.abs(a).max(axis=2) > 0) | (np.abs(c).max(axis=2) > 0)  # (J, G)
    width = np.array([np.flatnonzero(nzr[:, g]).max(initial=-1) + 1 for g in range(G)])

    def fill(tab, g, j0, jc):
        pa, pc = yc @ a[j0 : j0 + jc, g].T, yc @ c[j0 : j0 + jc, g].T
        np.multiply(pa, pa * scale[g], out=tab[:, :jc])
        np.multiply(pc, pc * scale[g], out=tab[:, jc : 2 * jc])
        np.multiply(pa, pc * scale[g], out=tab[:, 2 * jc :])

    if perms.draws.complete:  # every permutation's units are kept: one cohort's table at a time, in one buffer
        buf = np.empty(n * 3 * int(width.max(initial=0)))
        for g in range(G):
            jc = int(width[g])
            if not jc:
                continue
            tab = buf[: n * 3 * jc].reshape(n, 3 * jc)
            fill(tab, g, 0, jc)

            def cohort(sl, units, g=g, tab=tab, jc=jc):
                part = _picks(units[:, bounds[g] : bounds[g + 1]], n) @ tab
                for q in range(3):
                    out[sl, q * J : q * J + jc] += part[:, q * jc : (q + 1) * jc]

            perms.run(cohort)
        return out
    # rows in chunks whose tables fit in _PROJ_MEMORY
    chunks, j0 = [], 0
    while j0 < J:
        j1, size = j0, 0
        while j1 < J and (j1 == j0 or size + n * 3 * 8 * int((width > j1).sum()) <= _PROJ_MEMORY):
            size += n * 3 * 8 * int((width > j1).sum())
            j1 += 1
        chunks.append((j0, j1))
        j0 = j1
    for j0, j1 in chunks:
        tabs = {}
        for g in range(G):
            jc = int(min(j1, width[g])) - j0
            if jc <= 0:
                continue
            tabs[g] = np.empty((n, 3 * jc))
            fill(tabs[g], g, j0, jc)

        def batch(sl, units, tabs=tabs, j0=j0):
            res = out[sl]
            for g, tab in tabs.items():
                jc = tab.shape[1] // 3
                part = _picks(units[:, bounds[g] : bounds[g + 1]], n) @ tab
                for q in range(3):
                    res[:, q * J + j0 : q * J + j0 + jc] += part[:, q * jc : (q + 1) * jc]

        perms.run(batch)
        del tabs
    return out
