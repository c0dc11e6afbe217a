#!/usr/bin/env bash
# Configures (clang-19, Ninja, Release) into build/ and builds everything:
# the libraries, the `chain` command line, the examples and the tests.
# Extra arguments go to CMake's configure step (e.g. -DCHAIN_SANITIZE=ON).
set -euo pipefail
cd "$(dirname "$0")/.."

CC=clang-19 CXX=clang++-19 cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build build
