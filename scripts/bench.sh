#!/usr/bin/env bash
# Runs the benchmark suite of issue 4 and writes BENCHMARKS.md at the
# repository root: configures and builds Release into build/ (clang-19,
# Ninja), builds the harness `chain_bench_suite`, which checks Chain against
# the hand-written C++ references and then times both (about 5-10 minutes on
# 2 cores), then the table of derivatives beyond the gradient (--derived:
# jvp, hvp, jacobian, Hessian; about as long again, much longer with
# PyTorch), then appends bench/gaps.md (the profiles behind the missed
# targets). Extra arguments go to the harness (e.g. --only gmm,lse).
# PyTorch is optional: its column appears when `python3 -c "import torch"`
# works (Debian's python3-torch); this script never installs it.
# BUILD_DIR (default build) picks another build folder.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BUILD_DIR:-build}"

CC=clang-19 CXX=clang++-19 cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target chain_bench_suite
"./$build/bench/chain_bench_suite" --out BENCHMARKS.md "$@"
# jvp, hvp, jacobian and Hessian costs (issue 12), a second table
"./$build/bench/chain_bench_suite" --derived --out "$build/derived.md" "$@"
cat "$build/derived.md" >> BENCHMARKS.md
cat bench/gaps.md >> BENCHMARKS.md  # the profiles behind the missed targets (written by hand)
echo "wrote BENCHMARKS.md"
