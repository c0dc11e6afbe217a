#!/usr/bin/env python3
# Writes the small inputs of the ADBench examples, examples/gmm.json and
# examples/lstm.json, from Python's random.Random (seeds 5 and 3).
#   gmm:  d = 3, k = 4, n = 10 (t = d(d+1)/2 = 6), Wishart gamma = 1, m = 0
#   lstm: l = 2 layers, b = 4 bits, c = 6 characters
import json
import os
import random

here = os.path.dirname(os.path.abspath(__file__))


def mat(rng, rows, cols, lo=-1.0, hi=1.0):
    return [[round(rng.uniform(lo, hi), 4) for _ in range(cols)] for _ in range(rows)]


def write(name, args):
    with open(os.path.join(here, "..", name), "w") as f:
        f.write("{\n" + ",\n".join("  %s: %s" % (json.dumps(k), json.dumps(v)) for k, v in args.items()) + "\n}\n")


rng = random.Random(5)
d, k, n = 3, 4, 10
write("gmm.json", {
    "alphas": [round(rng.uniform(-1, 1), 4) for _ in range(k)],
    "means": mat(rng, k, d),
    "icf": mat(rng, k, d * (d + 1) // 2, -0.5, 0.5),
    "x": mat(rng, n, d, -2, 2),
    "wishart_gamma": 1.0,
    "wishart_m": 0,
})

rng = random.Random(3)
l, b, c = 2, 4, 6
write("lstm.json", {
    "main_params": mat(rng, 2 * l, 4 * b),
    "extra_params": mat(rng, 3, b),
    "state": mat(rng, 2 * l, b),
    "sequence": [[float(rng.random() < 0.5) for _ in range(b)] for _ in range(c)],
})
