#!/usr/bin/env python3
"""Compares what an exported C program printed with chain's --json output,
for scripts/test-export.sh. Usage: check_values.py TOL PROGRAM_OUTPUT CHAIN_JSON...
The program prints one `LABEL: v1 v2 ...` line per value (flattened, %.17g);
each CHAIN_JSON is `LABEL=FILE` naming a `chain run --json` file ({"value":
V}) or `LABEL=FILE:grad.P` for one part of a `chain grad --json` file. TOL 0
asks for equal values; otherwise the relative error is held to TOL."""
import json
import math
import sys


def flatten(v):
    return [x for e in v for x in flatten(e)] if isinstance(v, list) else [v]


def num(x):
    return float(x)  # also the strings "nan", "inf", "-inf"


tol = float(sys.argv[1])
printed = {}
for line in open(sys.argv[2]):
    label, _, rest = line.partition(":")
    printed[label.strip()] = [float(x) for x in rest.split()]
bad = 0
for spec in sys.argv[3:]:
    label, _, where = spec.partition("=")
    path, _, part = where.partition(":")
    value = json.load(open(path))
    for key in (part or "value").split("."):
        value = value[key]
    want = [num(x) for x in flatten(value)]
    got = printed.get(label)
    if got is None or len(got) != len(want):
        print(f"check_values: {label}: printed {got}, chain printed {want}")
        bad += 1
        continue
    for i, (g, w) in enumerate(zip(got, want)):
        ok = g == w if tol == 0 else math.isclose(g, w, rel_tol=tol, abs_tol=tol)
        if not ok:
            print(f"check_values: {label}[{i}]: exported {g!r}, chain {w!r}")
            bad += 1
            break
sys.exit(1 if bad else 0)
