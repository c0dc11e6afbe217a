#!/usr/bin/env python3
# Usage: fit_close.py A.json B.json TOL
# Compares two `chain fit --json` results: the same stop reason and step
# count, and loss and every fitted parameter element equal within TOL
# (|a - b| <= TOL * max(1, |a|)). Prints "close: ..." with the largest
# difference, or "DIFFERENT: ..." and exits 1. (A 2-rank MPI fit matches a
# one-process fit up to the order of summation, not bit for bit.)
import json
import sys


def flat(v):
    if isinstance(v, list):
        return [x for e in v for x in flat(e)]
    return [v]


a, b = (json.load(open(p)) for p in sys.argv[1:3])
tol = float(sys.argv[3])
if (a["stop"], a["steps"]) != (b["stop"], b["steps"]):
    sys.exit("DIFFERENT: stopped %r after %d vs %r after %d" % (a["stop"], a["steps"], b["stop"], b["steps"]))
worst, where = 0.0, "loss"
pairs = [("loss", a["loss"], b["loss"])]
for name in a["params"]:
    pairs += [(name, x, y) for x, y in zip(flat(a["params"][name]), flat(b["params"][name]))]
    if len(flat(a["params"][name])) != len(flat(b["params"][name])):
        sys.exit("DIFFERENT: '%s' has another size" % name)
for name, x, y in pairs:
    d = abs(x - y) / max(1.0, abs(x))
    if d > worst:
        worst, where = d, name
if worst > tol:
    print("DIFFERENT: %s differs by %.3g > %g" % (where, worst, tol))
    sys.exit(1)
print("close: %d values within %g (largest difference %.3g, %s)" % (len(pairs), tol, worst, where))
