#!/usr/bin/env python3
# Reference values for the golden tests of the array examples, from plain
# Python re-implementations (IEEE doubles, no NumPy). The GMM and LSTM
# functions are line-by-line ports of ADBench's C++ references
# (src/cpp/shared/gmm.h, lstm.h, defs.h). Run: python3 reference.py (the
# digits loss: python3 reference.py digits START.json, see digits()).
import json
import math
import os
import sys

EX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "examples")


def load(name):
    with open(os.path.join(EX, name)) as f:
        return json.load(f)


def csv_rows(name):
    rows = []
    with open(os.path.join(EX, "data", name)) as f:
        for line in f:
            try:
                rows.append([float(v) for v in line.strip().split(",")])
            except ValueError:
                continue  # header
    return rows


def solve(A, y):  # Gaussian elimination with partial pivoting
    n = len(A)
    M = [row[:] + [v] for row, v in zip(A, y)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(M[r][c]))
        M[c], M[p] = M[p], M[c]
        for r in range(c + 1, n):
            f = M[r][c] / M[c][c]
            M[r] = [a - f * b for a, b in zip(M[r], M[c])]
    x = [0.0] * n
    for r in reversed(range(n)):
        x[r] = (M[r][n] - sum(M[r][c] * x[c] for c in range(r + 1, n))) / M[r][r]
    return x


def linreg():
    a = load("linear_regression.json")
    X, y = a["X"], a["y"]
    n = len(y)
    print("linreg loss(0) =", repr(sum(v * v for v in y) / n))
    print("linreg grad w(0) =", [-2.0 / n * sum(X[i][j] * y[i] for i in range(n)) for j in range(3)])
    print("linreg grad b(0) =", -2.0 / n * sum(y))
    Z = [row + [1.0] for row in X]
    A = [[sum(Z[i][r] * Z[i][c] for i in range(n)) for c in range(4)] for r in range(4)]
    beta = solve(A, [sum(Z[i][r] * y[i] for i in range(n)) for r in range(4)])
    res = [sum(z * b for z, b in zip(Z[i], beta)) - y[i] for i in range(n)]
    print("linreg least squares w, b =", beta, "loss =", repr(sum(r * r for r in res) / n))


def softmax_grad_at_zero(rows, nf, k):
    n = len(rows)
    gW = [[0.0] * nf for _ in range(k)]
    gb = [0.0] * k
    for r in rows:
        label = int(r[nf])
        for c in range(k):
            p = 1.0 / k - (1.0 if c == label else 0.0)
            gb[c] += p / n
            for j in range(nf):
                gW[c][j] += p * r[j] / n
    return gW, gb


def iris():
    rows = csv_rows("iris.csv")
    print("iris loss(0) =", repr(math.log(3.0)), "rows", len(rows))
    gW, gb = softmax_grad_at_zero(rows, 4, 3)
    print("iris grad W(0) =", gW)
    print("iris grad b(0) =", gb)


def digits(start):
    # The model draws its starting weights itself (normal()); `start` is what
    # `chain run examples/mlp_digits.chain --fn weights --json` printed for
    # the offsets and key of mlp_digits.json: {"value": [W1, W2]}.
    a = load("mlp_digits.json")
    with open(start) as f:
        W1, W2 = json.load(f)["value"]
    b1, b2 = a["b1"], a["b2"]
    rows = csv_rows("digits.csv")
    total = 0.0
    for r in rows:
        h = [math.tanh(sum(r[j] / 16.0 * W1[u][j] for j in range(64)) + b1[u]) for u in range(len(b1))]
        s = [sum(h[u] * W2[c][u] for u in range(len(b1))) + b2[c] for c in range(10)]
        m = max(s)
        total += m + math.log(sum(math.exp(v - m) for v in s)) - s[int(r[64])]
    print("digits loss(init) =", repr(total / len(rows)), "rows", len(rows))


def gmm():
    a = load("gmm.json")
    alphas, means, icf, x = a["alphas"], a["means"], a["icf"], a["x"]
    gamma, wm = a["wishart_gamma"], a["wishart_m"]
    k, d, n = len(alphas), len(means[0]), len(x)

    def logsumexp(v):
        mx = max(v)
        return math.log(sum(math.exp(t - mx) for t in v)) + mx

    def log_gamma_distrib(a_, p):
        out = 0.25 * p * (p - 1) * math.log(math.pi)
        for j in range(1, p + 1):
            out = out + math.lgamma(a_ + 0.5 * (1 - j))
        return out

    sum_qs = [sum(icf[c][:d]) for c in range(k)]
    Qdiags = [[math.exp(q) for q in icf[c][:d]] for c in range(k)]
    slse = 0.0
    for i in range(n):
        main = []
        for c in range(k):
            xc = [x[i][j] - means[c][j] for j in range(d)]
            out = [Qdiags[c][j] * xc[j] for j in range(d)]
            idx = d
            for ii in range(d):
                for j in range(ii + 1, d):
                    out[j] += icf[c][idx] * xc[ii]
                    idx += 1
            main.append(alphas[c] + sum_qs[c] - 0.5 * sum(v * v for v in out))
        slse += logsumexp(main)
    constant = -n * d * 0.5 * math.log(2 * math.pi)
    err = constant + slse - n * logsumexp(alphas)
    dof = d + wm + 1
    C = dof * d * (math.log(gamma) - 0.5 * math.log(2)) - log_gamma_distrib(0.5 * dof, d)
    prior = 0.0
    for c in range(k):
        frob = sum(v * v for v in Qdiags[c]) + sum(v * v for v in icf[c][d:])
        prior = prior + 0.5 * gamma * gamma * frob - wm * sum_qs[c]
    print("gmm objective =", repr(err + prior - k * C))


def lstm():
    a = load("lstm.json")
    mp, ep, state, seq = a["main_params"], a["extra_params"], [r[:] for r in a["state"]], a["sequence"]
    l, b, c = len(mp) // 2, len(ep[0]), len(seq)
    sig = lambda v: 1 / (1 + math.exp(-v))
    total, count = 0.0, 0
    for t in range(c - 1):
        inp = [seq[t][i] * ep[0][i] for i in range(b)]
        for li in range(l):
            w, bias, hid, cell = mp[2 * li], mp[2 * li + 1], state[2 * li], state[2 * li + 1]
            for i in range(b):
                f = sig(inp[i] * w[i] + bias[i])
                ig = sig(hid[i] * w[b + i] + bias[b + i])
                og = sig(inp[i] * w[2 * b + i] + bias[2 * b + i])
                ch = math.tanh(hid[i] * w[3 * b + i] + bias[3 * b + i])
                cell[i] = cell[i] * f + ig * ch
                hid[i] = og * math.tanh(cell[i])
            inp = hid
        ypred = [inp[i] * ep[1][i] + ep[2][i] for i in range(b)]
        s = 0.0
        for v in ypred:
            s += math.exp(v)
        s += 2
        lse = math.log(s)
        for i in range(b):
            total += seq[t + 1][i] * (ypred[i] - lse)
        count += b
    print("lstm objective =", repr(-total / count))


# examples/projectile.chain (scalar, but its golden test needs the same kind of
# reference): the same operations in the same order.
def projectile_range(v0, angle, drag, dt):
    g = 9.81
    x = y = px = py = 0.0
    vx, vy = v0 * math.cos(angle), v0 * math.sin(angle)
    while y >= 0.0:
        px, py = x, y
        speed = math.sqrt(vx * vx + vy * vy)
        vx -= dt * drag * speed * vx
        vy -= dt * (g + drag * speed * vy)
        x += dt * vx
        y += dt * vy
    return px + (x - px) * py / (py - y)


def projectile():
    a = load("projectile.json")
    print("projectile range =", repr(projectile_range(**a)))
    for p in ("v0", "angle", "drag"):  # central differences at h = 1e-6
        up, down = dict(a), dict(a)
        up[p] += 1e-6
        down[p] -= 1e-6
        print("projectile d range / d", p, "~", (projectile_range(**up) - projectile_range(**down)) / 2e-6)


if __name__ == "__main__":
    if sys.argv[1:2] == ["digits"]:  # reference.py digits START.json (tests/lit/examples/mlp_digits.chain)
        digits(sys.argv[2])
        sys.exit(0)
    linreg()
    iris()
    gmm()
    lstm()
    projectile()
