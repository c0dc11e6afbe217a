#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang-19 with
# -fsanitize=fuzzer,address,undefined, assertions on) into build-fuzz/ and runs
# each for SECONDS seconds (default 60), from the seed corpora in
# tests/fuzz/corpus plus every .chain file of examples/ and tests/lit/. Then
# feeds each target a few generated inputs of several MB to catch quadratic
# blow-ups. Prints executions per target and lists what was found (crash-*,
# leak-*, timeout-*, oom-* files in build-fuzz/artifacts/).
#
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Installs libclang-rt-19-dev (the sanitizer and libFuzzer runtimes) when it is
# missing. Exits non-zero when a target found something.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(fuzz_frontend fuzz_compile fuzz_args fuzz_npy fuzz_csv)

if ! dpkg-query -W -f='${Status}' libclang-rt-19-dev 2>/dev/null | grep -q "install ok installed"; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "fuzz: installing libclang-rt-19-dev"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends libclang-rt-19-dev ||
    { $sudo apt-get update && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends libclang-rt-19-dev; } || exit 1
fi

B=build-fuzz
CC=clang-19 CXX=clang++-19 cmake -S . -B $B -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DCHAIN_FUZZ=ON -DCHAIN_VERIFY_EACH_PASS=ON >/dev/null || exit 1
ninja -C $B -j2 "${targets[@]}" || exit 1

# Working corpora: the checked-in seeds plus the project's own models.
mkdir -p $B/artifacts
for t in "${targets[@]}"; do
  mkdir -p $B/corpus/$t
  [ -d tests/fuzz/corpus/$t ] && cp -n tests/fuzz/corpus/$t/* $B/corpus/$t/ 2>/dev/null
done
for t in fuzz_frontend fuzz_compile; do
  if [ -d $B/corpus/$t ]; then
    find examples tests/lit -name '*.chain' | while read -r f; do
      cp -n "$f" "$B/corpus/$t/$(echo "$f" | tr / _)"; done
  fi
done

export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
summary=""
for t in "${targets[@]}"; do
  echo "=== $t: ${secs}s"
  log=$B/$t.log
  maxlen=8192
  [ "$t" = fuzz_compile ] && maxlen=2048
  ./$B/tests/fuzz/$t -max_total_time="$secs" -timeout=20 -rss_limit_mb=4096 -max_len=$maxlen -print_final_stats=1 \
    -artifact_prefix="$B/artifacts/$t-" $B/corpus/$t >"$log" 2>&1
  rc=$?
  execs=$(grep -a 'stat::number_of_executed_units' "$log" | awk '{print $2}')
  cov=$(grep -a -o 'cov: [0-9]*' "$log" | tail -1)
  found=$(ls $B/artifacts/ 2>/dev/null | grep "^$t-" | tr '\n' ' ')
  line="$t: ${execs:-?} executions, $cov, exit $rc${found:+, found: $found}"
  echo "$line"
  summary+="$line"$'\n'
  if [ $rc -ne 0 ]; then
    status=1
    grep -a -m5 -E 'ERROR|SUMMARY|runtime error|Assertion|deadly signal|internal error' "$log"
  fi
done

# Big inputs (a few MB): each must finish within 150 s (sanitizer build: ~10x slower than Release).
echo "=== big inputs"
big=$B/big
mkdir -p $big
python3 - "$big" <<'PY'
import sys, os
d = sys.argv[1]
def w(name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
n = 2_000_000
w("frontend_parens.chain", "fn f(x: f64) -> f64 { " + "(" * (n // 2) + "x" + ")" * (n // 2) + " }\n")
w("frontend_minus.chain", "fn f(x: f64) -> f64 { " + "-" * n + "x }\n")
w("frontend_stmts.chain", "fn f(x: f64) -> f64 {\n    var s = x\n" + "    s = s * 1.0001 + 0.5\n" * (n // 25) + "    s\n}\n")
w("frontend_sum.chain", "fn f(x: f64) -> f64 { " + "x + " * (n // 4) + "x }\n")
w("frontend_fns.chain", "".join(f"fn f{i}(x: f64) -> f64 {{ x * {i}.0 }}\n" for i in range(n // 30)))
w("frontend_garbage.chain", ("fn ( { [ let = 1.0e } ] ) ,\n" * (n // 28)))
w("frontend_errors.chain", "fn f(x: f64) -> f64 {\n" + "    let y = undefined_name + 1.0\n" * (n // 35) + "    x\n}\n")
w("compile_stmts.chain", "fn f(x: f64) -> f64 {\n    var s = x\n" + "    s = sin(s) * 1.0001 + x\n" * 2000 + "    s\n}\n")
w("compile_calls.chain", "fn g0(x: f64) -> f64 { x * x }\n" + "".join(
    f"fn g{i}(x: f64) -> f64 {{ g{i-1}(x) + g{i-1}(x + 1.0) }}\n" for i in range(1, 16)))
w("args_list.json", '{"x": [' + ",".join(["1.5"] * (n // 4)) + "]}")
w("args_nested.json", '{"x": ' + "[" * 200 + "1" + "]" * 200 + "}")
w("args_matrix.json", '{"M": [' + ",".join(["[1, 2, 3]"] * (n // 10)) + "]}")
w("csv_big.csv", "\x00" + "a,b,c\n" + "1.5,2.5,3.5\n" * (n // 12))
w("csv_wide.csv", "\x04" + ",".join(["1.0"] * (n // 4)) + "\n")
w("npy_big.npy", b"\x04" + b"\x93NUMPY\x01\x00" + b"v\x00" + b"{'descr': '<f8', 'fortran_order': False, 'shape': (250000,), }".ljust(117) + b"\n" + b"\x00" * (8 * 250000))
w("npy_lies.npy", b"\x04" + b"\x93NUMPY\x01\x00" + b"v\x00" + b"{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999,), }".ljust(117) + b"\n" + b"\x00" * 64)
PY
for f in $big/*; do
  base=$(basename "$f")
  case $base in
    frontend_*) t=fuzz_frontend ;; compile_*) t=fuzz_compile ;; args_*) t=fuzz_args ;;
    csv_*) t=fuzz_csv ;; npy_*) t=fuzz_npy ;;
  esac
  [[ " ${targets[*]} " == *" $t "* ]] || continue
  start=$(date +%s.%N)
  timeout 300 ./$B/tests/fuzz/$t -timeout=150 -rss_limit_mb=4096 "$f" >$B/big-$base.log 2>&1
  rc=$?
  t1=$(date +%s.%N)
  line=$(printf "big %-24s (%4d KB) via %-14s %6.2f s, exit %d" "$base" $(( $(stat -c %s "$f") / 1024 )) "$t" "$(awk "BEGIN{print $t1 - $start}")" $rc)
  echo "$line"
  summary+="$line"$'\n'
  [ $rc -ne 0 ] && status=1 && grep -a -m5 -E 'ERROR|SUMMARY|runtime error|Assertion|deadly signal|internal error' $B/big-$base.log
done

echo "=== summary"
printf "%s" "$summary"
exit $status
