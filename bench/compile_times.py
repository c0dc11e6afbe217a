#!/usr/bin/env python3
"""Compile time per stage of every benchmark model, as a Markdown table.

Runs `chain_bench_suite --only MODEL --small --check-only` REPS times with
CHAIN_TIME_PASSES=1 and keeps, per model, the smallest cold compile time the
harness reports (wall ms: primal and gradient of a fresh model, the compile
cache empty) and, per function, the smallest CPU time of each stage group that
the CHAIN_TIME_PASSES lines report (thread CPU ms, so that a loaded machine
disturbs them less than wall time): Chain (parse, check, lower, Chain's passes,
AD), LLVM IR (building and verifying it), LLVM opt (the optimisation
pipeline), LLVM codegen (instruction selection to object code), link (JIT
linking; jit.create, the target machine, is counted here too).

  bench/compile_times.py BUILD/bench/chain_bench_suite [--reps N] [--only gmm,lse]

Environment variables (CHAIN_PASSES, CHAIN_LLVM_ARGS, ...) are passed on, so
the script also A/B-tests pipelines.
"""
import argparse
import os
import re
import subprocess
import sys

MODELS = ["gmm", "lstm", "ode", "mlp", "llsq", "lse"]
GROUPS = {"llvm.build": "ir", "llvm.verify": "ir", "llvm.opt": "opt", "llvm.codegen": "codegen",
          "jit.link": "link", "jit.create": "link",
          "llvm.codegen+link": "codegen"}  # builds before concurrent compilation: one stage
COLUMNS = ["chain", "ir", "opt", "codegen", "link"]


def stage_groups(line):
    """{group: ms} of one 'chain: time NAME: stage=ms ... total=ms' line."""
    out = {c: 0.0 for c in COLUMNS}
    for stage, ms in re.findall(r"([\w.+-]+)=([0-9.]+)", line.split(": ", 2)[2]):
        if stage == "total" or stage.startswith("cache."):
            continue
        out[GROUPS.get(stage, "chain")] += float(ms)
    return out


def measure(suite, model, reps):
    env = dict(os.environ, CHAIN_TIME_PASSES="1")
    best = {"wall": float("inf"), "P": None, "G": None}
    for _ in range(reps):
        p = subprocess.run([suite, "--only", model, "--small", "--check-only"], env=env,
                           capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"{model}: chain_bench_suite failed:\n{p.stdout}{p.stderr}")
        best["wall"] = min(best["wall"], float(re.search(r"compile ([0-9.]+) ms", p.stdout).group(1)))
        lines = [l for l in p.stderr.splitlines()
                 if l.startswith("chain: time ") and "llvm.opt=" in l and "warm" not in l]
        frontend = [l for l in p.stderr.splitlines() if l.startswith("chain: time frontend /")]
        front = stage_groups(frontend[0])["chain"] if frontend else 0.0
        for line in lines[:2]:  # the cold compilation (the second one loads from the cache)
            kind = "G" if ".grad" in line.split(": ")[1] else "P"
            g = stage_groups(line)
            if kind == "P":
                g["chain"] += front
            old = best[kind]
            best[kind] = g if old is None else {c: min(old[c], g[c]) for c in COLUMNS}
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("suite")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--only", default=",".join(MODELS))
    a = ap.parse_args()
    print("| model | compile ms (wall) | function | " + " | ".join(COLUMNS) + " | sum |")
    print("|---|---:|---|" + "---:|" * (len(COLUMNS) + 1))
    for model in a.only.split(","):
        b = measure(a.suite, model, a.reps)
        for kind, name in (("P", "primal"), ("G", "gradient")):
            g = b[kind] or {c: 0.0 for c in COLUMNS}
            wall = f"{b['wall']:.0f}" if kind == "P" else ""
            cells = " | ".join(f"{g[c]:.1f}" for c in COLUMNS)
            print(f"| {model if kind == 'P' else ''} | {wall} | {name} | {cells} | {sum(g.values()):.1f} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
