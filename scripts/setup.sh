#!/usr/bin/env bash
# Installs what Chain needs to build and test on Debian 12 (bookworm): LLVM 19
# and clang 19 (from Debian's own bookworm packages), LLVM's test tools (lit,
# FileCheck), Catch2, CLI11, nlohmann-json, oneTBB (parallel loops), OpenMPI
# (`chain fit` across processes), CMake, Ninja, ccache and python3.
# Idempotent: packages already installed are left alone, and `apt-get update`
# runs only when something is missing. Run as root (or with sudo available).
set -euo pipefail

packages=(llvm-19-dev clang-19 llvm-19-tools catch2 libcli11-dev nlohmann-json3-dev
          libtbb-dev libopenmpi-dev openmpi-bin cmake ninja-build ccache python3)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then sudo="sudo"; else
    echo "setup: need root to install: ${missing[*]}" >&2
    exit 1
  fi
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update
$sudo apt-get install -y --no-install-recommends "${missing[@]}"
