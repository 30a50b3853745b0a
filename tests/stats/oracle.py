"""Independent reference values for tests/stats (scipy, numpy, mpmath).

Run from the repository root: python3 tests/stats/oracle.py
Prints JSON; the tests quote the values they use beside this command.
"""
import json

import mpmath as mp
import numpy as np
import scipy
from scipy import stats

mp.mp.dps = 50
out = {"versions": {"numpy": np.__version__, "scipy": scipy.__version__, "mpmath": mp.__version__}}

# log Γ at awkward points.
out["logGamma"] = {str(x): float(mp.loggamma(mp.mpf(x))) for x in
                   ["0.001", "0.3", "0.75", "1.5", "2.5", "7.25", "9.99", "10.5", "123.456",
                    "75263.5", "75264", "1e7"]}
# ln Γ(x + h) − ln Γ(x).
out["logGammaDiff"] = {f"{x},{h}": float(mp.loggamma(mp.mpf(x) + mp.mpf(h)) - mp.loggamma(mp.mpf(x)))
                       for x, h in [("75263.5", "0.5"), ("1535.5", "0.5"), ("3.5", "0.5"),
                                    ("12", "100.25")]}
# ln I_x(a, b), regularised incomplete beta.
out["logRegIncBeta"] = {f"{x},{a},{b}": float(mp.log(mp.betainc(mp.mpf(a), mp.mpf(b), 0, mp.mpf(x),
                                                               regularized=True)))
                        for x, a, b in [("0.3", "2", "3"), ("0.9", "0.5", "0.5"), ("0.01", "50", "0.5"),
                                        ("0.999", "4.5", "0.5"), ("0.5", "200", "200")]}


def tail(p, d):
    """P(Z > p) for a uniform direction on S^(d−1): ∫_p^1 C (1 − t²)^((d−3)/2) dt."""
    p = mp.mpf(p)
    a = (mp.mpf(d) - 1) / 2
    if p >= 0:
        return mp.betainc(a, mp.mpf(1) / 2, 0, 1 - p * p, regularized=True) / 2
    return 1 - tail(-p, d)


out["sphereTailLog10"] = {f"{p},{d}": float(mp.log10(tail(p, d))) for p, d in
                          [("0.05", 10), ("0.6", 10), ("0.95", 10), ("-0.3", 10),
                           ("0.1", 784), ("0.5", 784), ("0.01", 3072), ("0.2", 3072),
                           ("0.001", 150528), ("0.0044", 150528), ("0.0046", 150528),
                           ("0.005", 150528), ("0.008", 150528), ("0.01", 150528), ("0.1", 150528), ("0.5", 150528),
                           ("-0.01", 150528)]}
# ln P_origin(t) for large d, directly from Γ in mpmath.
def log_marginal(t, d):
    t = mp.mpf(t); d = mp.mpf(d)
    return mp.loggamma(d / 2) - mp.loggamma((d - 1) / 2) - mp.log(mp.pi) / 2 + (d - 3) / 2 * mp.log(1 - t * t)
out["logSphereMarginal"] = {f"{t},{d}": float(log_marginal(t, d)) for t, d in
                            [("0", 150528), ("0.1", 150528), ("0.5", 3072), ("-0.9", 10), ("0.99", 5)]}

# Wasserstein-1 between fixed samples of unequal sizes.
a = [0.3, -0.1, 0.7, 0.2, 0.2, 0.9, -0.5]
b = [0.0, 0.4, 1.1, -0.2]
out["wasserstein"] = {"a": a, "b": b, "w1": float(stats.wasserstein_distance(a, b))}
# Histogram W1 with mass uniform in each bin: fine-grid integral of |F − G|.
edges = np.array([-1.0, -0.5, 0.0, 0.25, 1.0])
h1 = np.array([1.0, 3.0, 0.0, 2.0]); h2 = np.array([0.0, 1.0, 4.0, 1.0])
xs = np.linspace(-1, 1, 2_000_001)
F = np.interp(xs, edges, np.concatenate([[0], np.cumsum(h1) / h1.sum()]))
G = np.interp(xs, edges, np.concatenate([[0], np.cumsum(h2) / h2.sum()]))
out["wassersteinHist"] = {"edges": edges.tolist(), "h1": h1.tolist(), "h2": h2.tolist(),
                          "w1": float(np.trapezoid(np.abs(F - G), xs))}

# Quantiles (numpy's default, linear = type 7).
q = [0.93, -0.4, 0.12, 0.5, 0.5, 0.77, -0.01, 0.33]
out["quantiles"] = {"values": q, "probs": [0, 0.1, 0.25, 0.5, 0.9, 1],
                    "q": np.quantile(q, [0, 0.1, 0.25, 0.5, 0.9, 1]).tolist()}

# KDE: scipy's Scott and Silverman bandwidths (factor × sample std), and densities away from ±1.
s = np.array([-0.3, -0.1, 0.0, 0.05, 0.2, 0.4, 0.45])
kd = stats.gaussian_kde(s, bw_method="scott")
ks = stats.gaussian_kde(s, bw_method="silverman")
out["kde"] = {"samples": s.tolist(), "scott": float(np.sqrt(kd.covariance[0, 0])),
              "silverman": float(np.sqrt(ks.covariance[0, 0])),
              "x": [-0.2, 0.0, 0.3], "densityScott": kd([-0.2, 0.0, 0.3]).tolist()}
# Reflected KDE near the boundary with h = 0.1: Σ of φ_h(x − t), φ_h(x − (2 − t)), φ_h(x − (−2 − t)).
r = np.array([0.95, 0.99, -0.97, 0.5])
xr = np.array([1.0, 0.97, -1.0, 0.0])
phi = lambda u: stats.norm.pdf(u, scale=0.1)
dens = np.mean([phi(xr - t) + phi(xr - (2 - t)) + phi(xr - (-2 - t)) for t in r], axis=0)
out["kdeReflect"] = {"samples": r.tolist(), "x": xr.tolist(), "h": 0.1, "density": dens.tolist()}

# Sample std (ddof=1).
v = [0.12, 0.5, 0.33, 0.9, 0.41]
out["meanStd"] = {"values": v, "mean": float(np.mean(v)), "std": float(np.std(v, ddof=1))}
print(json.dumps(out, indent=1))
