#!/usr/bin/env python3
# Writes the synthetic least-squares data of examples/linear_regression.chain:
# data/linreg_X.csv, data/linreg_y.csv and linear_regression.json (the same
# numbers inline). Deterministic: Python's random.Random(2024).
import json
import os
import random

here = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(2024)
n, w_true, b_true = 20, [1.5, -2.0, 0.5], 0.3
X = [[round(rng.uniform(-1, 1), 4) for _ in range(3)] for _ in range(n)]
y = [round(sum(wi * xi for wi, xi in zip(w_true, x)) + b_true + rng.uniform(-0.1, 0.1), 4) for x in X]

with open(os.path.join(here, "linreg_X.csv"), "w") as f:
    f.write("x0,x1,x2\n")
    for row in X:
        f.write(",".join(repr(v) for v in row) + "\n")
with open(os.path.join(here, "linreg_y.csv"), "w") as f:
    f.write("y\n")
    for v in y:
        f.write(repr(v) + "\n")
with open(os.path.join(here, "..", "linear_regression.json"), "w") as f:
    f.write('{\n  "w": [0.0, 0.0, 0.0],\n  "b": 0.0,\n')
    f.write('  "X": [\n' + ",\n".join("    " + json.dumps(r) for r in X) + "\n  ],\n")
    f.write('  "y": ' + json.dumps(y) + "\n}\n")
