#!/usr/bin/env bash
# Installs the dependencies if missing, builds, and runs every test (the
# Catch2 unit tests and the lit/FileCheck golden tests) through ctest. Ends
# with ctest's summary; exits non-zero when a build step or a test fails.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bash scripts/build.sh
cd build
ctest --output-on-failure
