#!/usr/bin/env bash
# Times the digits MLP fit (examples/mlp_digits.chain: minibatch Adam, a 20%
# validation split) on 1 process and on 2 MPI ranks with the same flags, and
# prints the seconds per epoch of each and the speedup. A run's time is the
# fit's own (the `seconds` of the last --history row, over the epochs), so
# start-up and compilation are left out; each count of ranks is run RUNS
# times, alternating, and the median is kept.
#
#   bash bench/mpi_fit.sh [RUNS=7] [BATCH=512] [EPOCHS=60]
#
# Needs build/chain built with MPI and mpirun (scripts/setup.sh installs
# OpenMPI). Meaningful on an otherwise idle machine with at least 2 cores: the
# ranks meet at every step, so on a busy one each step waits until both are
# scheduled at once (at load 9 on 2 cores, 2 ranks were 5x slower than one).
# There, `chrt -f 10 bash bench/mpi_fit.sh` (root) gives both counts of
# ranks whole cores for the few seconds it runs, as on an idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-7} batch=${2:-512} epochs=${3:-60}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
flags=(fit examples/mlp_digits.chain --fn loss --wrt dW1,b1,dW2,b2 --args @examples/mlp_digits.json
       --data data --batch "$batch" --epochs "$epochs" --validation 0.2 --lr 0.03)
mpirun=(mpirun -q --oversubscribe)
[ "$(id -u)" -eq 0 ] && mpirun+=(--allow-run-as-root)
./build/chain "${flags[@]}" >/dev/null 2>&1  # warm the compile cache
for ((k = 0; k < runs; ++k)); do
  for np in 1 2; do
    "${mpirun[@]}" -np "$np" ./build/chain "${flags[@]}" --history "$tmp/h.csv" >/dev/null 2>&1
    tail -n 1 "$tmp/h.csv" | awk -F, -v e="$epochs" '{ printf "%.9f\n", $6 / e }' >> "$tmp/np$np"
  done
done
median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
one=$(median "$tmp/np1") two=$(median "$tmp/np2")
awk -v a="$one" -v b="$two" -v r="$runs" -v bs="$batch" 'BEGIN {
  printf "digits MLP, --batch %d, median of %d runs: 1 rank %.2f ms/epoch, 2 ranks %.2f ms/epoch, speedup %.2fx\n",
         bs, r, 1000 * a, 1000 * b, a / b }'
