#!/usr/bin/env bash
# A longer random-program differential campaign (the default test suite runs
# 2,000 programs from seed 1): N generated programs from SEED, seven eighths
# scalar and one eighth with arrays, each checked JIT -O2 (and -O0 on a
# quarter) against the IR interpreter, and the reverse-AD gradient against
# the interpreter and finite differences; on a fraction, the Hessian against
# finite differences of the gradient and hvp == H v (JIT and interpreter).
# Failing programs are written to
# BUILD/random-failures/seed-S[-arrays].chain with what differed in a comment.
#
#   bash scripts/random-programs.sh [N] [SEED]        (default 20000 1)
#
# Environment: CHAIN_BUILD_DIR (default build), CHAIN_RANDOM_THREADS (default
# the number of cores), CHAIN_RANDOM_HESSIAN=K (the Hessian of one program in
# K besides half of those calling derivatives; default 8), CHAIN_RANDOM_MAX_ORDER
# (the highest derivative order of the generated calls; default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
seed=${2:-1}
B=${CHAIN_BUILD_DIR:-build}

if [ ! -f "$B/build.ninja" ]; then
  CC=clang-19 CXX=clang++-19 cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
ninja -C "$B" unit_runtime
out="$B/random-failures"
mkdir -p "$out"
CHAIN_RANDOM_PROGRAMS="$n" CHAIN_RANDOM_SEED="$seed" CHAIN_RANDOM_OUT="$out" \
  CHAIN_RANDOM_THREADS="${CHAIN_RANDOM_THREADS:-$(nproc)}" \
  "$B/tests/unit_runtime" "random scalar programs*,random array programs*"
