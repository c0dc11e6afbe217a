#!/usr/bin/env bash
# Installs the dependencies if missing, builds, and runs every test (the
# Catch2 unit tests and the lit/FileCheck golden tests) through ctest; then
# builds the suite again under AddressSanitizer + UndefinedBehaviorSanitizer
# (build-asan) and runs it there too, with a reduced random-program count
# (scripts/sanitize.sh asan). Exits non-zero when a build step or a test
# fails. CHAIN_SKIP_ASAN=1 skips the sanitizer half (a quicker local run).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bash scripts/build.sh
(cd build && ctest --output-on-failure)
bash scripts/test-install.sh
if [ "${CHAIN_SKIP_ASAN:-0}" != 1 ]; then
  CHAIN_RANDOM_PROGRAMS="${CHAIN_RANDOM_PROGRAMS:-300}" bash scripts/sanitize.sh asan
fi
