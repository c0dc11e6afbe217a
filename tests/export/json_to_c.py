#!/usr/bin/env python3
"""Writes a model's JSON arguments as C definitions, for the programs of
scripts/test-export.sh: a list becomes `static const T NAME[]` (flattened, C
order), a number `static const T NAME` (int64_t for JSON integers, else
double). Usage: json_to_c.py ARGS.json > args.h"""
import json
import sys


def flatten(v):
    return [x for e in v for x in flatten(e)] if isinstance(v, list) else [v]


def ctype(vals):
    return "int64_t" if all(isinstance(x, int) and not isinstance(x, bool) for x in vals) else "double"


args = json.load(open(sys.argv[1]))
print("#include <stdint.h>")
for name, v in args.items():
    vals = flatten(v)
    body = ", ".join(repr(float(x)) if ctype(vals) == "double" else str(x) for x in vals)
    if isinstance(v, list):
        print(f"static const {ctype(vals)} {name}[] = {{{body}}};")
    else:
        print(f"static const {ctype(vals)} {name} = {body};")
