"""Frozen copy of the previous batched Fisher test of ``efficient_staggered`` (src/equity_metrics/models/
_efficient_fisher.py at commit bdf4e68), kept only as the named baseline of ``benchmarks/bench_did.py``.

Not part of the package; do not import it from library code.
"""
from __future__ import annotations

import numpy as np

from equity_metrics.models.did._linear import single_thread_blas

__all__ = ["fisher_counts", "fisher_counts_reference", "fisher_statistics", "fisher_statistics_reference"]

_EPS = np.finfo(float).eps
_MEMORY = 24 * 2**20  # bytes of per-batch work arrays (small: gathers stay in cache)
_PROJ_MEMORY = 64 * 2**20  # bytes of the (cohort, unit) projections of a chunk of rows
_JOINT_MAX = 40  # largest joint Gram (pre-periods + 1 + 2 x rows) computed per cohort block


def _compare(stat: np.ndarray, obs: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.abs(stat) >= np.abs(obs) - 1e-12 * np.abs(obs)


def fisher_statistics_reference(y, gi, n_g, des, mode, beta_value, times, glist, n_fisher, seed):
    """Studentised statistics ``(n_fisher, rows)`` (refined, Neyman), one permutation at a time (reference)."""
    from equity_metrics.models.efficient import _estimate, _stats

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


@single_thread_blas
def fisher_statistics(y, gi, n_g, des, mode, beta_value, times, glist, n_fisher, seed, *, memory: int = _MEMORY):
    """Studentised statistics ``(n_fisher, rows)`` (refined, Neyman) of every permutation, in batches.

    Parameters are those of the estimator internals in ``efficient.py``:
    outcomes ``y`` (units x periods), cohort index ``gi`` of each unit, cohort
    sizes ``n_g``, the design ``des``, the beta mode and value, periods,
    cohorts, the observed statistics and the seed.

    Returns
    -------
    tuple of numpy.ndarray
        ``(refined, neyman)``, each ``(n_fisher, rows)``.
    """
    n, T = y.shape
    G = glist.size
    a, c = des.a, des.c
    J = a.shape[0]
    sizes = n_g.astype(np.int64)
    nf = n_g.astype(float)
    den = nf - 1.0
    n_tot = nf.sum()

    # rows grouped by the earliest cohort they involve (the refinement projects on periods before it)
    nz = np.abs(a).max(axis=2) > 0
    gmin = np.array([glist[np.argmax(r)] for r in nz])
    groups = []
    for m in np.unique(gmin):
        m_len = int(np.sum(times < m))
        if m_len:
            groups.append((np.flatnonzero(gmin == m), m_len, int(np.searchsorted(glist, m))))
    m_max = max((g[1] for g in groups), default=0)

    yc = y - y.mean(axis=0)
    # pre-period outcomes and a column of ones (its cross-products give sums and counts)
    ypre1 = np.ascontiguousarray(np.column_stack([yc[:, :m_max], np.ones(n)]))
    order0 = np.argsort(gi, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    coh_off = (np.repeat(np.arange(G), sizes) * n)[None, :]
    ctx = dict(n=n, G=G, nf=nf, den=den, n_tot=n_tot, m_max=m_max, ypre1=ypre1, order0=order0, bounds=bounds,
               coh_off=coh_off, n_fisher=n_fisher, seed=seed, memory=memory)

    # per-permutation moments of every row; rows in chunks so that the projections fit in memory
    # (each chunk replays the same permutations)
    mom = {k: np.empty((n_fisher, J)) for k in ("est_a", "est_c", "vaa", "vac", "vcc", "adj")}
    chunk = int(max(1, min(J, _PROJ_MEMORY // (G * n * 2 * 8))))
    for j0 in range(0, J, chunk):
        rows_c = np.arange(j0, min(J, j0 + chunk))
        local = []
        for rows, m_len, g0 in groups:
            sel = rows[(rows >= rows_c[0]) & (rows <= rows_c[-1])]
            if sel.size:
                local.append((sel - j0, m_len, g0))
        _row_moments(yc, a[rows_c], c[rows_c], local, ctx, mom, rows_c)

    if mode == "efficient":
        thr = 1e-14 * np.maximum(np.abs(mom["vac"]).max(axis=1, initial=0), 1e-300)[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            beta = np.where(mom["vcc"] > thr, mom["vac"] / mom["vcc"], 0.0)
    else:
        beta = np.full((n_fisher, J), beta_value)
    est = mom["est_a"] - beta * mom["est_c"]
    v_ney = mom["vaa"] - 2.0 * beta * mom["vac"] + beta * beta * mom["vcc"]
    with np.errstate(divide="ignore", invalid="ignore"):
        return est / np.sqrt(np.clip(v_ney - mom["adj"], 0, None)), est / np.sqrt(np.clip(v_ney, 0, None))


def _row_moments(yc, a, c, groups, ctx, mom, rows_c) -> None:
    """Fill ``mom[k][:, rows_c]`` (cohort-summed means, variances, refinement) for every permutation."""
    n, G, nf, den, n_tot, m_max = ctx["n"], ctx["G"], ctx["nf"], ctx["den"], ctx["n_tot"], ctx["m_max"]
    ypre1, order0, bounds, coh_off = ctx["ypre1"], ctx["order0"], ctx["bounds"], ctx["coh_off"]
    n_fisher = ctx["n_fisher"]
    J, T = a.shape[0], yc.shape[1]
    # projections of every unit on every cohort's weights, centred over units (shifts cancel);
    # row g * n + i holds unit i's projections for cohort g: [pa (J), pc (J)]
    proj = (yc @ np.concatenate([a, c]).reshape(2 * J * G, T).T).reshape(n, 2, J, G)
    proj -= proj.mean(axis=0)
    papc = np.ascontiguousarray(proj.transpose(3, 0, 1, 2).reshape(G * n, 2 * J))
    del proj
    k1 = m_max + 1
    # few rows: one source row [pre-periods, 1, pa, pc] per (cohort, unit) and one Gram per cohort block
    # gives every sum needed; many rows: separate gathers, per-row second moments
    joint = k1 + 2 * J <= _JOINT_MAX and G * n * (k1 + 2 * J) * 8 <= _PROJ_MEMORY
    if joint:
        src = np.concatenate([np.broadcast_to(ypre1, (G, n, k1)).reshape(G * n, k1), papc], axis=1)
        del papc
    kk = k1 + 2 * J
    per_perm = 8 * (n * (kk + 3) + G * (kk * kk + 3 * J) * 2)
    batch = int(np.clip(ctx["memory"] // max(per_perm, 1), 8, 256))

    rng = np.random.default_rng(ctx["seed"])
    ar = np.arange(n)
    nf3 = nf[None, :, None]
    for start in range(0, n_fisher, batch):
        nb = min(batch, n_fisher - start)
        sl = (slice(start, start + nb), rows_c)
        perms = np.stack([rng.permutation(n) for _ in range(nb)])
        inv = np.empty_like(perms)
        np.put_along_axis(inv, perms, np.broadcast_to(ar, perms.shape), axis=1)
        idx = inv[:, order0]  # units of cohort block g at positions bounds[g]:bounds[g+1]
        if joint:
            zz = np.take(src, idx + coh_off, axis=0)  # (nb, n, kk)
            full = np.empty((nb, G, kk, kk))
            for g in range(G):
                blk = zz[:, bounds[g] : bounds[g + 1]]
                np.matmul(np.swapaxes(blk, 1, 2), blk, out=full[:, g])
            gram, cross = full[:, :, :k1, :k1], full[:, :, :k1, k1:]
            dj = np.arange(J)
            sq = np.concatenate([full[:, :, k1 + dj, k1 + dj], full[:, :, k1 + J + dj, k1 + J + dj],
                                 full[:, :, k1 + dj, k1 + J + dj]], axis=2)
        else:
            zy = np.take(ypre1, idx, axis=0)  # (nb, n, k1)
            pp = np.take(papc, idx + coh_off, axis=0)  # (nb, n, 2J)
            gram = np.empty((nb, G, k1, k1))
            cross = np.empty((nb, G, k1, 2 * J))
            sq = np.empty((nb, G, 3 * J))  # sums of pa^2, pc^2, pa*pc
            for g in range(G):
                blk_p = pp[:, bounds[g] : bounds[g + 1]]
                blk_t = np.swapaxes(zy[:, bounds[g] : bounds[g + 1]], 1, 2)
                np.matmul(blk_t, zy[:, bounds[g] : bounds[g + 1]], out=gram[:, g])
                np.matmul(blk_t, blk_p, out=cross[:, g])
                sq[:, g, : 2 * J] = np.einsum("bpk,bpk->bk", blk_p, blk_p)
                sq[:, g, 2 * J :] = np.einsum("bpj,bpj->bj", blk_p[..., :J], blk_p[..., J:])
        means = cross[:, :, m_max, :] / nf3  # (nb, G, 2J)
        ma, mc = means[..., :J], means[..., J:]
        mom["vaa"][sl] = ((sq[..., :J] - nf3 * ma * ma) / den[None, :, None] / nf3).sum(axis=1)
        mom["vcc"][sl] = ((sq[..., J : 2 * J] - nf3 * mc * mc) / den[None, :, None] / nf3).sum(axis=1)
        mom["vac"][sl] = ((sq[..., 2 * J :] - nf3 * ma * mc) / den[None, :, None] / nf3).sum(axis=1)
        mom["est_a"][sl], mom["est_c"][sl] = ma.sum(axis=1), mc.sum(axis=1)
        adj = np.zeros((nb, J))
        if groups:
            myp = gram[:, :, m_max, :m_max] / nf3  # (nb, G, m_max)
            s_pp = (gram[:, :, :m_max, :m_max] - nf[None, :, None, None] * myp[..., :, None] * myp[..., None, :]) \
                / den[None, :, None, None]
            r_pa = (cross[:, :, :m_max, :J] - nf[None, :, None, None] * myp[..., :, None] * ma[:, :, None, :]) \
                / den[None, :, None, None]
            for rows, m_len, g0 in groups:
                sub = s_pp[:, g0:, :m_len, :m_len]
                proj_r = _pinvh_apply(sub, r_pa[:, g0:, :m_len][..., rows])  # (nb, Gm, m_len, |rows|)
                bsum = proj_r.sum(axis=1)
                avg = sub.mean(axis=1)
                adj[:, rows] = np.einsum("bmj,bmn,bnj->bj", bsum, avg, bsum) / n_tot
        mom["adj"][sl] = adj
