#!/usr/bin/python3
"""Reference side of tests/bench/bench_match.sh (run with /usr/bin/python3, which has scipy).

    scipy_ref.py gen CASE DIR    writes the case's matrices as .npy files into DIR
    scipy_ref.py time CASE DIR   loads them, times scipy's solver (median of 3, solver call
                                 only) and prints "median_s=S total=T pairs=P"

Every case starts from numpy.random.default_rng(20240501), as in
/work/shared/reference/matching-baseline.md:
  uniform:  rng.random((nr, nc)), float64
  survey:   A = rng.integers(1, 6, size=(n, 10)); B = rng.integers(1, 6, size=(m, 10));
            score = rint(100 - 100 * sum|a - b| / 40), int32, maximized
  capacity: the survey scores of n mentees x m mentors; scipy gets each mentor column
            repeated k times, tandem the n x m matrix with capacity k
  sparse:   a random permutation (so a perfect matching exists) plus k - 1 random columns
            per row, duplicates in a row dropped; scores rng.random(), float64; CSR order
            with each row's columns ascending
  stable:   R = rng.random((n, n)) (rows' scores of columns), C = rng.random((n, n))
            (columns' scores of rows); lower is better
"""
import sys
import time

import numpy as np

SEED = 20240501

# name: (kind, params, maximize)
CASES = {}
for n in (1000, 2000, 4000, 8000):
    CASES["uniform-%d" % n] = ("uniform", (n, n), False)
    CASES["uniform-%d-max" % n] = ("uniform", (n, n), True)
CASES["tall-8000x2000"] = ("uniform", (8000, 2000), False)
CASES["wide-2000x8000"] = ("uniform", (2000, 8000), False)
CASES["survey-4000"] = ("survey", (4000, 4000), True)
CASES["capacity-4000x1000-k4"] = ("capacity", (4000, 1000, 4), True)
CASES["sparse-50k-21"] = ("sparse", (50000, 21), False)
CASES["sparse-50k-51"] = ("sparse", (50000, 51), False)
CASES["stable-2000"] = ("stable", (2000,), False)


def survey(n, m):
    rng = np.random.default_rng(SEED)
    a = rng.integers(1, 6, size=(n, 10))
    b = rng.integers(1, 6, size=(m, 10))
    out = np.empty((n, m), dtype=np.int32)
    step = 256  # rows at a time, to keep the n x m x 10 difference small
    for i in range(0, n, step):
        diff = np.abs(a[i:i + step, None, :] - b[None, :, :]).sum(axis=2)
        out[i:i + step] = np.rint(100 - 100 * diff / 40)
    return out


def sparse(n, k):
    rng = np.random.default_rng(SEED)
    perm = rng.permutation(n)
    extra = rng.integers(0, n, size=(n, k - 1))
    cols = np.concatenate([perm[:, None], extra], axis=1)
    cols.sort(axis=1)
    keep = np.ones(cols.shape, dtype=bool)
    keep[:, 1:] = cols[:, 1:] != cols[:, :-1]
    counts = keep.sum(axis=1)
    row_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=row_ptr[1:])
    flat = cols[keep].astype(np.int32)
    scores = rng.random(flat.size)
    return row_ptr, flat, scores


def gen(case, d):
    kind, p, _ = CASES[case]
    if kind == "uniform":
        np.save(d + "/m.npy", np.random.default_rng(SEED).random(p))
    elif kind == "survey":
        np.save(d + "/m.npy", survey(*p))
    elif kind == "capacity":
        n, m, k = p
        s = survey(n, m)
        np.save(d + "/m.npy", s)
        np.save(d + "/rep.npy", np.repeat(s, k, axis=1))
    elif kind == "sparse":
        row_ptr, cols, scores = sparse(*p)
        np.save(d + "/row_ptr.npy", row_ptr.astype(np.int32).reshape(-1, 1))
        np.save(d + "/cols.npy", cols.reshape(-1, 1))
        np.save(d + "/scores.npy", scores.reshape(-1, 1))
    elif kind == "stable":
        rng = np.random.default_rng(SEED)
        n = p[0]
        np.save(d + "/rows.npy", rng.random((n, n)))
        np.save(d + "/cols.npy", rng.random((n, n)))


def gale_shapley(rows, cols):
    """Rows propose; lower score is better on both sides. Pure Python over lists."""
    n, m = rows.shape
    pref = [list(np.argsort(rows[i], kind="stable")) for i in range(n)]
    rank = [list(np.argsort(np.argsort(cols[:, j], kind="stable"), kind="stable")) for j in range(m)]
    t0 = time.perf_counter()
    nxt = [0] * n
    holder = [-1] * m
    free = list(range(n - 1, -1, -1))
    while free:
        i = free.pop()
        while nxt[i] < m:
            j = pref[i][nxt[i]]
            nxt[i] += 1
            h = holder[j]
            if h < 0:
                holder[j] = i
                break
            if rank[j][i] < rank[j][h]:
                holder[j] = i
                free.append(h)
                break
    return time.perf_counter() - t0, sum(1 for h in holder if h >= 0)


def timed(fn, runs=3):
    ts, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts)), out


def run(case, d):
    from scipy.optimize import linear_sum_assignment
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    kind, p, maximize = CASES[case]
    if kind in ("uniform", "survey", "capacity"):
        c = np.load(d + ("/rep.npy" if kind == "capacity" else "/m.npy"))
        t, (ri, ci) = timed(lambda: linear_sum_assignment(c, maximize=maximize))
        total = c[ri, ci].sum()
        pairs = len(ri)
    elif kind == "sparse":
        rp = np.load(d + "/row_ptr.npy").ravel()
        cols = np.load(d + "/cols.npy").ravel()
        sc = np.load(d + "/scores.npy").ravel()
        n = rp.size - 1
        g = csr_matrix((sc, cols, rp), shape=(n, n))
        t, (ri, ci) = timed(lambda: min_weight_full_bipartite_matching(g))
        total = float(np.asarray(g[ri, ci]).sum())
        pairs = len(ri)
    else:
        rows = np.load(d + "/rows.npy")
        cols = np.load(d + "/cols.npy")
        ts = []
        for _ in range(3):
            t1, pairs = gale_shapley(rows, cols)
            ts.append(t1)
        t, total = float(np.median(ts)), 0
    if isinstance(total, (np.integer, int)):
        print("median_s=%.6f total=%d pairs=%d" % (t, int(total), pairs))
    else:
        print("median_s=%.6f total=%.17g pairs=%d" % (t, float(total), pairs))


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "list":
        print("\n".join(CASES))
        return
    if len(sys.argv) != 4 or sys.argv[1] not in ("gen", "time") or sys.argv[2] not in CASES:
        sys.exit("usage: scipy_ref.py list | gen CASE DIR | time CASE DIR")
    (gen if sys.argv[1] == "gen" else run)(sys.argv[2], sys.argv[3])


if __name__ == "__main__":
    main()
