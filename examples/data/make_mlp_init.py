#!/usr/bin/env python3
# Writes examples/mlp_digits.json: initial weights of the 64-16-10 perceptron
# of examples/mlp_digits.chain, uniform in [-0.5, 0.5) scaled by 1/sqrt(fan-in)
# (Python's random.Random(7)), zero biases, and the data file.
import json
import os
import random

here = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(7)
h = 16


def matrix(rows, cols):
    s = 1.0 / cols ** 0.5
    return [[round(rng.uniform(-0.5, 0.5) * s, 4) for _ in range(cols)] for _ in range(rows)]


args = {"W1": matrix(h, 64), "b1": [0.0] * h, "W2": matrix(10, h), "b2": [0.0] * 10,
        "data": "@data/digits.csv"}
with open(os.path.join(here, "..", "mlp_digits.json"), "w") as f:
    f.write("{\n" + ",\n".join("  %s: %s" % (json.dumps(k), json.dumps(v)) for k, v in args.items()) + "\n}\n")
