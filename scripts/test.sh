#!/usr/bin/env bash
# Installs the dependencies if missing, builds, and runs every test (the
# Catch2 unit tests and the lit/FileCheck golden tests) through ctest; then
# the sanitizers (scripts/sanitize.sh): the suite again under AddressSanitizer
# + UndefinedBehaviorSanitizer (build-asan, with a reduced random-program
# count), and the multi-threaded paths under ThreadSanitizer (build-tsan:
# the unit tests tagged [tsan] and `chain --threads` in lit cli/threads.chain).
# Exits non-zero when a build step or a test fails or a sanitizer reports.
# CHAIN_SKIP_ASAN=1 and CHAIN_SKIP_TSAN=1 skip a sanitizer (quicker local runs).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bash scripts/build.sh
(cd build && ctest --output-on-failure)
bash scripts/test-install.sh
if [ "${CHAIN_SKIP_ASAN:-0}" != 1 ]; then
  CHAIN_RANDOM_PROGRAMS="${CHAIN_RANDOM_PROGRAMS:-300}" bash scripts/sanitize.sh asan
fi
if [ "${CHAIN_SKIP_TSAN:-0}" != 1 ]; then
  bash scripts/sanitize.sh tsan
fi
