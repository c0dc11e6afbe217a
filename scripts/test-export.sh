#!/usr/bin/env bash
# Tests `chain export` (SPEC §7, §8) against an installed package: exports
# examples (functions and gradients) with the installed bin/chain, compiles the
# C programs of tests/export with `cc`, linking each against its object and
# libchain_rt.a alone (+ -ltbb -lstdc++ -lm: oneTBB runs its parallel loops), checks with ldd that no LLVM library is loaded,
# and compares the printed values with `chain run` / `chain grad --json`
# (exactly: the object holds the JIT's code; within 1e-12 for
# --target-cpu x86-64-v3). Then checks the runtime errors (a bounds error and
# a negative size inside the model: status 4 with chain's message; a negative
# size argument and a null output: status 3), other dtypes and tuples, and
# builds and runs examples/export against the package (find_package(chain
# COMPONENTS rt), chain::rt).
#
# Usage: scripts/test-export.sh [PREFIX]; without PREFIX it installs build/
# into a temporary one. scripts/test-install.sh calls it with its prefix.
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
  echo "test-export: $*" >&2
  exit 1
}
if [ $# -ge 1 ]; then
  prefix=$1
else
  prefix=$tmp/prefix
  cmake --install build --prefix "$prefix" >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; fail "cmake --install failed"; }
fi
chain=$prefix/bin/chain
rt=$(find "$prefix" -name libchain_rt.a | head -n 1)
[ -x "$chain" ] || fail "no $chain"
[ -n "$rt" ] || fail "no libchain_rt.a under $prefix"
export CHAIN_CACHE_DIR=$tmp/cache
# `cc` is the system's C compiler; clang-19 (which setup.sh installs) where there is none.
cc=${CC:-$(command -v cc || command -v clang-19)}
nm=$(command -v nm || command -v llvm-nm-19)
here=tests/export

# program NAME MODEL ARGS EXPORT-FLAGS...: exports MODEL into $tmp/NAME, writes
# ARGS (JSON; may be -) as args.h, builds tests/export/NAME.c into $tmp/NAME/prog.
program() {
  local name=$1 model=$2 args=$3 dir=$tmp/$1
  shift 3
  mkdir -p "$dir"
  "$chain" export "$model" "$@" -o "$dir" >/dev/null || fail "chain export $model $* failed"
  [ "$args" = - ] || python3 "$here/json_to_c.py" "$args" >"$dir/args.h"
  local src=$here/${name%%.*}.c
  "$cc" -std=c11 -O2 -Wall -Werror -I"$dir" -I"$here" "$src" "$dir"/*.o "$rt" -ltbb -lstdc++ -lm -pthread -o "$dir/prog" \
    || fail "cc $src against $dir/*.o and libchain_rt.a failed"
  if ldd "$dir/prog" | grep -qi llvm; then fail "$name links LLVM: $(ldd "$dir/prog")"; fi
  "$dir/prog" >"$dir/out" || fail "$dir/prog failed"
}

# chainjson FILE CMD...: chain's --json output of CMD into $tmp/FILE.
chainjson() {
  local file=$1
  shift
  "$chain" "$@" --json >"$tmp/$file" || fail "chain $* failed"
}

# --- the examples: values equal chain run / chain grad ------------------------
q=examples/quickstart.chain
program quickstart $q examples/quickstart.json --fn loss --fn calibrate --grad loss
chainjson q_loss.json run $q --fn loss --args @examples/quickstart.json
chainjson q_cal.json run $q --fn calibrate --args '{"k": 4.0, "target": 0.1, "steps": 100}'
chainjson q_grad.json grad $q --fn loss --args @examples/quickstart.json
qchecks=(loss="$tmp/q_loss.json" calibrate="$tmp/q_cal.json" value="$tmp/q_grad.json:value"
         grad.k="$tmp/q_grad.json:grad.k" grad.c="$tmp/q_grad.json:grad.c" grad.target="$tmp/q_grad.json:grad.target")
python3 $here/check_values.py 0 "$tmp/quickstart/out" "${qchecks[@]}" || fail "quickstart differs"

l=examples/linear_regression.chain
program linear_regression $l examples/linear_regression.json --fn predict --grad loss:w,b
python3 -c 'import json, sys; a = json.load(open(sys.argv[1])); del a["y"]; print(json.dumps(a))' \
  examples/linear_regression.json >"$tmp/l_pred_args.json"
chainjson l_pred.json run $l --fn predict --args @"$tmp/l_pred_args.json"
chainjson l_grad.json grad $l --fn loss --wrt w,b --args @examples/linear_regression.json
python3 $here/check_values.py 0 "$tmp/linear_regression/out" predict="$tmp/l_pred.json" \
  value="$tmp/l_grad.json:value" grad.w="$tmp/l_grad.json:grad.w" grad.b="$tmp/l_grad.json:grad.b" \
  || fail "linear_regression differs"

o=examples/ode_sensitivity.chain
program ode_sensitivity $o examples/ode_sensitivity.json --fn solve --fn sensitivities --grad fd_error:p
chainjson o_solve.json run $o --fn solve --args @examples/ode_sensitivity.json
chainjson o_sens.json run $o --fn sensitivities --args @examples/ode_sensitivity.json
chainjson o_grad.json grad $o --fn fd_error --wrt p --args @examples/ode_sensitivity.json
python3 $here/check_values.py 0 "$tmp/ode_sensitivity/out" solve="$tmp/o_solve.json" \
  sensitivities="$tmp/o_sens.json" value="$tmp/o_grad.json:value" grad.p="$tmp/o_grad.json:grad.p" \
  || fail "ode_sensitivity differs"

# A portable target: x86-64-v3 code (run only where the CPU has AVX2 and FMA).
program quickstart.v3 $q examples/quickstart.json --fn loss --fn calibrate --grad loss --target-cpu x86-64-v3
python3 $here/check_values.py 1e-12 "$tmp/quickstart.v3/out" "${qchecks[@]}" || fail "x86-64-v3 differs"

# --- errors, dtypes, tuples ---------------------------------------------------
e=$here/errors.chain
program errors $e - --fn at --fn make --fn pick --fn sized
bounds=$("$chain" run $e --fn at --args '{"x": [1.0, 2.0, 3.0], "i": 5}' --json 2>/dev/null \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["error"]["message"])') || true
inner=$("$chain" run $e --fn make --args '{"k": 2}' --json 2>/dev/null \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["error"]["message"])') || true
cat >"$tmp/errors.want" <<WANT
at ok: 0 
at value: 3
at bounds: 4 $bounds
at negative size: 3 at: size n is negative (-1)
at null output: 3 at: the pointer for output 0 is null
make inner negative size: 4 $inner
pick ok: 0 
pick values: 1.5 8 -6 0
sized ok: 0 
sized values: 4 5 6
sized negative: 3 sized: size n is negative (-2)
entry 7 rhs 8
threads: 0 wrong
WANT
diff -u "$tmp/errors.want" "$tmp/errors/out" || fail "errors.c printed something else"
# Only the C functions are global symbols of an object (no entry, no helper).
defined=$("$nm" -g --defined-only "$tmp/errors/errors.o" | awk '{print $3}' | sort | tr '\n' ' ')
[ "$defined" = "at make pick sized " ] || fail "errors.o defines global symbols: $defined"
grep -q "index 5 is out of bounds" <<<"$bounds" || fail "unexpected bounds message: $bounds"

# --- examples/export against the installed package ----------------------------
CC=clang-19 cmake -S examples/export -B "$tmp/example" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; fail "configuring examples/export failed"; }
cmake --build "$tmp/example" >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; fail "building examples/export failed"; }
if ldd "$tmp/example/export_example" | grep -qi llvm; then fail "examples/export links LLVM"; fi
"$tmp/example/export_example" >"$tmp/example.out" || fail "examples/export failed"
grep -qxF "rosenbrock(0.5, 0.5) = 6.5" "$tmp/example.out" || fail "examples/export printed: $(cat "$tmp/example.out")"
grep -qxF "gradient = (-51, 50)" "$tmp/example.out" || fail "examples/export printed: $(cat "$tmp/example.out")"

echo "test-export: ok (quickstart, linear_regression, ode_sensitivity equal chain run/grad; x86-64-v3; errors 3/4; examples/export)"
