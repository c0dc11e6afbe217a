#!/usr/bin/env python3
"""Optional PyTorch reference for the benchmark harness (chain_bench_suite).

Usage: torch_ref.py PROBLEM "k1=v1 k2=v2 ..." INPUTS.bin [derived]
INPUTS.bin holds the problem's float arguments as raw float64, in the order of
the Chain function's parameters. Prints "VALUE GRAD_US": the objective and the
median time (microseconds) of one gradient evaluation (forward + backward),
one thread, float64 (with `derived`: see derived() below). The harness calls
it only when `import torch` works; nothing installs PyTorch.
"""
import array
import math
import sys
import time

import torch

torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)


def read_inputs(path, shapes):
    buf = array.array("d")
    with open(path, "rb") as f:
        buf.frombytes(f.read())
    flat = torch.tensor(buf.tolist(), dtype=torch.float64)
    out, pos = [], 0
    for shape in shapes:
        size = math.prod(shape)
        out.append(flat[pos:pos + size].reshape(shape).clone())
        pos += size
    return out


def gmm(p, path):
    d, k, n = p["d"], p["k"], p["n"]
    t = d * (d + 1) // 2
    alphas, means, icf, x = read_inputs(path, [(k,), (k, d), (k, t), (n, d)])
    gamma, m = float(p.get("gamma", 1)), int(p.get("m", 0))
    rows, cols = [], []
    for l in range(d):
        for j in range(l + 1, d):
            rows.append(j)
            cols.append(l)

    def f(alphas, means, icf):
        qd = torch.exp(icf[:, :d])
        sum_qs = icf[:, :d].sum(1)
        L = torch.zeros(k, d, d)
        L[:, rows, cols] = icf[:, d:]
        Q = torch.diag_embed(qd) + L
        xc = x[:, None, :] - means[None, :, :]
        z = torch.einsum("kjl,nkl->nkj", Q, xc)
        main = alphas + sum_qs - 0.5 * (z * z).sum(2)
        const = -n * d * 0.5 * math.log(2 * math.pi)
        dof = d + m + 1
        lg = 0.25 * d * (d - 1) * math.log(math.pi) + sum(math.lgamma(0.5 * dof + 0.5 * (1 - j)) for j in range(1, d + 1))
        C = dof * d * (math.log(gamma) - 0.5 * math.log(2)) - lg
        frob = (qd * qd).sum(1) + (icf[:, d:] ** 2).sum(1)
        prior = (0.5 * gamma * gamma * frob - m * sum_qs).sum() - k * C
        return const + torch.logsumexp(main, 1).sum() - n * torch.logsumexp(alphas, 0) + prior

    return f, [alphas, means, icf]


def lstm(p, path):
    l, c, b = p["l"], p["c"], p["b"]
    main, extra, state, seq = read_inputs(path, [(2 * l, 4 * b), (3, b), (2 * l, b), (c, b)])

    def f(main, extra):
        s = [state[i] for i in range(2 * l)]
        total = 0.0
        for t in range(c - 1):
            inp = seq[t] * extra[0]
            for layer in range(l):
                w, bias = main[2 * layer], main[2 * layer + 1]
                h, cell = s[2 * layer], s[2 * layer + 1]
                fg = torch.sigmoid(inp * w[:b] + bias[:b])
                ig = torch.sigmoid(h * w[b:2 * b] + bias[b:2 * b])
                og = torch.sigmoid(inp * w[2 * b:3 * b] + bias[2 * b:3 * b])
                ch = torch.tanh(h * w[3 * b:] + bias[3 * b:])
                cell = cell * fg + ig * ch
                h = og * torch.tanh(cell)
                s[2 * layer], s[2 * layer + 1] = h, cell
                inp = h
            y = inp * extra[1] + extra[2]
            lse = torch.log(torch.exp(y).sum() + 2.0)
            total = total + (seq[t + 1] * (y - lse)).sum()
        return -total / ((c - 1) * b)

    return f, [main, extra]


def ode(p, path):
    n, s = p["n"], p["s"]
    (x,) = read_inputs(path, [(n,)])

    def rhs(x, y):
        return torch.cat([x[:1], x[1:] * y[:-1]])

    def f(x):
        h = 2.0 / s
        y = torch.zeros(n)
        for _ in range(s):
            k1 = rhs(x, y)
            k2 = rhs(x, y + h / 2.0 * k1)
            k3 = rhs(x, y + h / 2.0 * k2)
            k4 = rhs(x, y + h * k3)
            y = y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        return y[-1]

    return f, [x]


def llsq(p, path):
    m, n = p["m"], p["n"]
    (x,) = read_inputs(path, [(m,)])
    t = torch.tensor([-1.0 + i * 2.0 / (n - 1) for i in range(n)])
    powers = torch.stack([t ** j for j in range(m)], 1)

    def f(x):
        r = torch.sign(t) - powers @ x
        return 0.5 * (r * r).sum()

    return f, [x]


def lse(p, path):
    (x,) = read_inputs(path, [(p["n"],)])
    return (lambda x: torch.logsumexp(x, 0)), [x]


def mlp(p, path):
    h, n = p["h"], p["n"]
    W1, b1, W2, b2, data = read_inputs(path, [(h, 64), (h,), (10, h), (10,), (n, 65)])
    X, labels = data[:, :64] / 16.0, data[:, 64].long()

    def f(W1, b1, W2, b2):
        S = torch.tanh(X @ W1.T + b1) @ W2.T + b2
        return (torch.logsumexp(S, 1) - S[torch.arange(n), labels]).mean()

    return f, [W1, b1, W2, b2]


def median_us(fn):
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < 11 and (time.perf_counter() - start < 3.0 or len(times) < 3):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2] * 1e6


# The largest parameter whose dense Hessian is timed (harness_derived.cpp).
HESSIAN_MAX_NUMEL = 256


def derived(f, wrt):
    """Prints "VALUE PRIMAL_US JVP_US GRAD_US HVP_US HESSIAN_US" with respect to
    the first parameter: functorch's jvp, grad, hvp as jvp of grad (forward
    over reverse, as torch.func recommends), and the dense Hessian by
    torch.autograd.functional.hessian(vectorize=True) (-1 when numel(p) >
    HESSIAN_MAX_NUMEL)."""
    import functorch

    p0, rest = wrt[0].detach(), [w.detach() for w in wrt[1:]]
    g = lambda a: f(a, *rest)
    v = torch.rand(p0.shape, generator=torch.Generator().manual_seed(12)) * 2.0 - 1.0
    value = float(g(p0))
    with torch.no_grad():
        primal = median_us(lambda: g(p0))
    jvp = median_us(lambda: functorch.jvp(g, (p0,), (v,)))
    grad = median_us(lambda: functorch.grad(g)(p0))
    hvp = median_us(lambda: functorch.jvp(functorch.grad(g), (p0,), (v,)))
    hessian = -1.0
    if p0.numel() <= HESSIAN_MAX_NUMEL:
        hess = lambda: torch.autograd.functional.hessian(g, p0, vectorize=True)
        hessian = median_us(hess)
    print(f"{value!r} {primal!r} {jvp!r} {grad!r} {hvp!r} {hessian!r}")


def main():
    problem, params, path = sys.argv[1], sys.argv[2], sys.argv[3]
    p = {k: (int(v) if v.lstrip("-").isdigit() else float(v)) for k, v in (kv.split("=") for kv in params.split())}
    f, wrt = {"gmm": gmm, "lstm": lstm, "ode": ode, "llsq": llsq, "lse": lse, "mlp": mlp}[problem](p, path)
    if len(sys.argv) > 4 and sys.argv[4] == "derived":
        return derived(f, wrt)
    for w in wrt:
        w.requires_grad_(True)
    value = float(f(*wrt))

    def grad():
        for w in wrt:
            w.grad = None
        f(*wrt).backward()

    print(f"{value!r} {median_us(grad)!r}")


if __name__ == "__main__":
    main()
