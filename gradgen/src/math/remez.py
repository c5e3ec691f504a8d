"""The polynomial coefficients of gradgen::math (single.rs, double.rs), by the Remez exchange.

Run: python3 remez.py (needs mpmath, numpy). Prints each array as the Rust source writes it.

Each polynomial minimises the largest weighted error w(t)·(f(t) − p(t)) over its interval,
where the weight turns it into the relative error of the final function:
  exp:  eʳ = 1 + r + r²·q(r) on |r| ≤ ln2/2 (with a margin), f = (eʳ − 1 − r)/r², w = r²/eʳ;
  ln:   ln(1+f) = 2s + s·z·P(z), s = f/(2+f), z = s² ≤ (3 − 2√2)², f = (2 atanh s − 2s)/(z s), w = z/2;
  tanh: tanh x = x + x³·P(x²) on |x| ≤ 0.625, f = (tanh x − x)/x³, w = x³/tanh x.
The computation runs with 60 significant digits; the coefficients are then rounded to the type.
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 60


def remez(f, w, a, b, deg, iters=12, grid=2000):
    """Coefficients (lowest first) of the degree-`deg` polynomial p minimising
    max |w(t)·(f(t) − p(t))| on [a, b], and that maximum."""
    n = deg + 2
    # Chebyshev points, nudged off t = 0 where the weights vanish.
    xs = [(a + b) / 2 + (b - a) / 2 * mp.cos(mp.pi * (n - 1 - i) / (n - 1)) * mp.mpf("0.999")
          + (b - a) * mp.mpf("0.0003") for i in range(n)]
    for _ in range(iters):
        # Equioscillation at the reference points: p(x_i) + (−1)^i E / w(x_i) = f(x_i).
        A = mp.matrix(n, n)
        rhs = mp.matrix(n, 1)
        for i, x in enumerate(xs):
            for j in range(deg + 1):
                A[i, j] = x ** j
            A[i, deg + 1] = (-1) ** i / w(x)
            rhs[i] = f(x)
        sol = mp.lu_solve(A, rhs)
        c = [sol[j] for j in range(deg + 1)]

        def err(x):
            return w(x) * (f(x) - mp.polyval(c[::-1], x))

        # New reference: the extremum of each run of one sign of the error, refined by a
        # golden-section search.
        ts = [a + (b - a) * mp.mpf(k) / grid for k in range(grid + 1)]
        vals = [err(t) for t in ts]
        runs, run = [], [0]
        for k in range(1, grid + 1):
            if vals[k] == 0 or mp.sign(vals[k]) == mp.sign(vals[run[-1]]):
                run.append(k)
            else:
                runs.append(run)
                run = [k]
        runs.append(run)
        new = []
        for run in runs:
            k = max(run, key=lambda k: abs(vals[k]))
            lo, hi = ts[max(k - 1, 0)], ts[min(k + 1, grid)]
            for _ in range(40):
                m1, m2 = lo + (hi - lo) * 0.382, lo + (hi - lo) * 0.618
                if abs(err(m1)) > abs(err(m2)):
                    hi = m2
                else:
                    lo = m1
            new.append((lo + hi) / 2)
        while len(new) > n:
            new.pop(0 if abs(err(new[0])) < abs(err(new[-1])) else -1)
        if len(new) < n:
            break
        xs = new
    return c, max(abs(v) for v in vals)


def q_exp(r):
    return mp.mpf(0.5) if r == 0 else (mp.exp(r) - 1 - r) / r ** 2


def p_ln(z):
    if z == 0:
        return mp.mpf(2) / 3
    s = mp.sqrt(z)
    return (2 * mp.atanh(s) - 2 * s) / (z * s)


def p_tanh(z):
    if z == 0:
        return mp.mpf(-1) / 3
    x = mp.sqrt(z)
    return (mp.tanh(x) - x) / (z * x)


def w_tanh(z):
    if z == 0:
        return mp.mpf(0)
    x = mp.sqrt(z)
    return z * x / mp.tanh(x)


SMAX = (mp.sqrt(2) - 1) / (mp.sqrt(2) + 1)  # |s| for m in [√2/2, √2)
JOBS = [
    # name, f, weight, interval, degree for f32, degree for f64
    ("EXP_Q", q_exp, lambda r: r ** 2 / mp.exp(r),
     -mp.log(2) / 2 * mp.mpf("1.0001"), mp.log(2) / 2 * mp.mpf("1.0001"), 5, 10),
    ("LN_P", p_ln, lambda z: z / 2, mp.mpf(0), SMAX ** 2 * mp.mpf("1.001"), 2, 6),
    ("TANH_P", p_tanh, w_tanh, mp.mpf(0), mp.mpf("0.625") ** 2 * mp.mpf("1.001"), 4, 10),
]

if __name__ == "__main__":
    for name, f, w, a, b, deg32, deg64 in JOBS:
        for ty, deg in (("f32", deg32), ("f64", deg64)):
            c, e = remez(f, w, a, b, deg)
            # The shortest decimal that rounds to the same value of the type.
            if ty == "f32":
                vals = [str(np.float32(float(x))) for x in c]
            else:
                vals = [repr(float(x)) for x in c]
            print(f"// {ty}: degree {deg}, largest weighted error 2^{float(mp.log(e, 2)):.1f}")
            print(f"const {name}: [{ty}; {deg + 1}] = [{', '.join(vals)}];")
