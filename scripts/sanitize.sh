#!/usr/bin/env bash
# Runs the test suite under the sanitizers (clang-19):
#   1. AddressSanitizer + UndefinedBehaviorSanitizer: the whole test suite
#      (unit tests and lit) built into build-asan (-DCHAIN_SANITIZE=ON,
#      -O1 -g, assertions on), run by ctest. The random-program test runs a
#      reduced count (CHAIN_RANDOM_PROGRAMS, default 400 here).
#   2. ThreadSanitizer: unit_runtime built into build-tsan, running the tests
#      tagged [threads] (modules compiled and called from 8 threads at once)
#      and [parallel] (parallel maps, reductions, matmul and gradient loops
#      on 1..8 threads, runtime/rt/Parallel.cpp; oneTBB itself is not
#      instrumented, so Parallel.cpp makes its hand-offs visible to TSan with
#      its own atomics; JIT-compiled code is not instrumented either).
# Installs libclang-rt-19-dev (the sanitizer runtimes) when it is missing.
#
#   bash scripts/sanitize.sh [asan|tsan|all]     (default all)
#
# Exits non-zero when a build or a test fails or a sanitizer reports.
set -uo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}

if ! dpkg-query -W -f='${Status}' libclang-rt-19-dev 2>/dev/null | grep -q "install ok installed"; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "sanitize: installing libclang-rt-19-dev"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends libclang-rt-19-dev ||
    { $sudo apt-get update && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends libclang-rt-19-dev; } || exit 1
fi

status=0
flags=(-G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g"
       -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g")

if [ "$what" = all ] || [ "$what" = asan ]; then
  echo "=== ASan + UBSan: build-asan"
  CC=clang-19 CXX=clang++-19 cmake -S . -B build-asan "${flags[@]}" -DCHAIN_SANITIZE=ON >/dev/null || exit 1
  ninja -C build-asan -j2 || exit 1
  # (a small quarantine: tests that bound peak RSS, e.g. the arena tests, stay meaningful)
  # (allocator_may_return_null: the tests ask for impossible sizes and expect
  # "out of memory", which ASan would otherwise turn into an abort)
  # use_sigaltstack=0: LLVM installs its own alternate signal stack on the
  # threads that compile (Function::compileAll), and ASan then fails to unmap
  # the one it thinks it owns when such a thread exits ("unable to unmmap").
  export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:quarantine_size_mb=16:allocator_may_return_null=1:use_sigaltstack=0
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  export CHAIN_RANDOM_PROGRAMS=${CHAIN_RANDOM_PROGRAMS:-400}
  (cd build-asan && ctest --output-on-failure --timeout 3000) || status=1
fi

if [ "$what" = all ] || [ "$what" = tsan ]; then
  echo "=== TSan: build-tsan, tests tagged [threads] and [parallel]"
  CC=clang-19 CXX=clang++-19 cmake -S . -B build-tsan "${flags[@]}" \
    -DCMAKE_CXX_FLAGS="-fsanitize=thread" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" >/dev/null || exit 1
  ninja -C build-tsan -j2 unit_runtime || exit 1
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/scripts/tsan-suppressions.txt" ./build-tsan/tests/unit_runtime "[threads],*threads*,[parallel]" ||
    status=1
fi

[ $status -eq 0 ] && echo "sanitize: clean" || echo "sanitize: FAILED (see above)"
exit $status
