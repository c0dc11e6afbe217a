#!/usr/bin/env bash
# Tests the installed CMake package (SPEC §8): installs build/ (built by
# scripts/build.sh) into a temporary prefix, builds examples/embed against it
# as a separate project (find_package(chain REQUIRED), chain::runtime), runs it
# and checks the values it prints, then runs the installed `chain` command
# line, then runs scripts/test-export.sh on the same prefix (chain export,
# chain::rt, examples/export). The temporary folders are removed on exit.
# Exits non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

fail() {
  echo "test-install: $*" >&2
  exit 1
}

# quiet WHAT CMD...: runs CMD, showing its output only when it fails.
quiet() {
  local what=$1
  shift
  "$@" >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; fail "$what failed"; }
}

# expect LINE... -- CMD...: runs CMD and checks that every LINE is a whole line
# of its output.
expect() {
  local lines=() out line
  while [ "$1" != -- ]; do lines+=("$1"); shift; done
  shift
  out=$("$@") || fail "$* exited with status $?"
  for line in "${lines[@]}"; do
    grep -qxF -- "$line" <<<"$out" || fail "$* printed no line '$line'; it printed:"$'\n'"$out"
  done
}

quiet "cmake --install build" cmake --install build --prefix "$prefix"

# The consumer: configured with nothing but the prefix, the way a user would.
CC=clang-19 CXX=clang++-19 quiet "configuring examples/embed against $prefix" \
  cmake -S examples/embed -B "$tmp/embed" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
found=$(sed -n 's/^chain_DIR:PATH=//p' "$tmp/embed/CMakeCache.txt")
[[ $found == "$prefix"/* ]] || fail "find_package(chain) took '$found', not the temporary prefix"
quiet "building examples/embed against $prefix" cmake --build "$tmp/embed"

# rosenbrock(0.5, 0.5) = 0.25 + 100 * 0.25^2; its gradient is
# (-2 (1 - x) - 400 x (y - x^2), 200 (y - x^2)).
expect 'rosenbrock(0.5, 0.5) = 6.5' 'gradient = (-51, 50)' -- "$tmp/embed/embed"

# The installed command line runs from the prefix.
printf 'fn f(x: f64) -> f64 {\n    x * x\n}\n' >"$tmp/square.chain"
expect 'value: 9.0' 'grad x: 6.0' -- "$prefix/bin/chain" grad "$tmp/square.chain" --args '{"x": 3.0}'

# chain export and chain::rt (C programs linked without LLVM, examples/export).
bash scripts/test-export.sh "$prefix"

echo "test-install: ok (find_package(chain) from $prefix; embed, chain and exported code ran)"
