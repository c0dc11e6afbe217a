#!/usr/bin/env python3
# Writes examples/mlp_digits.json: the starting point of the 64-16-10
# perceptron of examples/mlp_digits.chain, whose weights the model draws
# itself from `key` (normal(), SPEC §4): zero offsets dW1 (16 x 64) and dW2
# (10 x 16), zero biases, the key and the data file.
import json
import os

here = os.path.dirname(os.path.abspath(__file__))
h = 16
args = {"dW1": [[0.0] * 64 for _ in range(h)], "b1": [0.0] * h, "dW2": [[0.0] * h for _ in range(10)],
        "b2": [0.0] * 10, "key": 7, "data": "@data/digits.csv"}
with open(os.path.join(here, "..", "mlp_digits.json"), "w") as f:
    f.write("{\n" + ",\n".join("  %s: %s" % (json.dumps(k), json.dumps(v)) for k, v in args.items()) + "\n}\n")
