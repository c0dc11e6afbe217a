#!/usr/bin/env bash
# Runs the test suite under the sanitizers (clang-19):
#   1. AddressSanitizer + UndefinedBehaviorSanitizer: the whole test suite
#      (unit tests and lit) built into build-asan (-DCHAIN_SANITIZE=ON,
#      -O1 -g, assertions on), run by ctest. The random-program test runs a
#      reduced count (CHAIN_RANDOM_PROGRAMS, default 400 here).
#   2. ThreadSanitizer: build-tsan builds only unit_tsan (the unit tests
#      tagged [tsan], tests/CMakeLists.txt) and the `chain` command line. It
#      runs the [tsan] tests -- Function::compileAll on several threads,
#      application threads compiling modules while calling shared functions,
#      several application threads calling the same functions at once on a
#      2-thread pool (parallel maps, reductions, matmul, gradient loops with
#      private accumulators), chunk errors -- and the lit test
#      cli/threads.chain (`chain grad --threads 1/2/3/8` on a model, gmm and
#      lstm). About 1 minute of tests after a cold build of ~10-15 minutes
#      on 2 cores. oneTBB (Debian's libtbb) and LLVM are not instrumented,
#      nor is JIT-compiled code: TSan checks Chain's own code around them
#      (the API and its lazy compile, chain_rt's arenas, tapes and parallel
#      entry, the compiler on several threads). runtime/rt/Parallel.cpp makes
#      oneTBB's hand-offs visible to TSan (__tsan_release/__tsan_acquire);
#      scripts/tsan-ignorelist.txt and tsan-suppressions.txt say why the
#      rest of oneTBB is left out. Each run is bounded by `timeout`.
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
  echo "=== TSan: build-tsan, unit_tsan [tsan] and lit cli/threads.chain"
  CC=clang-19 CXX=clang++-19 cmake -S . -B build-tsan "${flags[@]}" \
    -DCMAKE_CXX_FLAGS="-fsanitize=thread" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" >/dev/null || exit 1
  ninja -C build-tsan -j2 unit_tsan chain || exit 1
  # halt_on_error: the first report fails the run (exit 66), in the unit
  # tests and in every `chain` process that lit starts.
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/scripts/tsan-suppressions.txt"
  timeout 900 ./build-tsan/tests/unit_tsan -d yes "[tsan]" || status=1
  timeout 600 python3 /usr/lib/llvm-19/build/utils/lit/lit.py -sv build-tsan/tests/lit --filter 'cli/threads\.chain$' ||
    status=1
  unset TSAN_OPTIONS
fi

[ $status -eq 0 ] && echo "sanitize: clean" || echo "sanitize: FAILED (see above)"
exit $status
