// Every MPI call of `chain` (SPEC §7, "Beyond one machine"): `mpirun -np R
// chain fit|grad ... --data X,y` runs R ranks that each evaluate their share
// of the examples and add up the results here. Built without MPI (no
// CHAIN_HAVE_MPI) every function below is the one-rank case.
//
// MPI starts only when mpirun (or another PMIx launcher) started the process:
// OMPI_COMM_WORLD_SIZE or PMIX_RANK is set. A plain `chain fit` never starts
// an MPI singleton (slow and noisy). Ranks other than 0 write nothing: their
// stdout and stderr go to /dev/null, so rank 0 alone prints (files are
// written by rank 0 alone too, see isRoot()).
//
// Failures never hang a run. Every collective call here is a sync point that
// first agrees on a status word (MPI_MAX of "this rank failed"): a rank that
// throws goes straight to the sync point at the end of the command
// (runCommand) and says so there, while the others, at their next sum() or
// at the end, learn of it. The lowest failing rank then broadcasts its error
// (exception kind, message, rendered diagnostic) and every rank throws it, so
// rank 0 prints it with its exit status and every rank exits with that
// status. Decisions taken from summed values (stop, divergence) are the same
// on every rank: OpenMPI's all-reduce algorithms give every rank the same
// bits (a + b == b + a, or one rank reduces an element and sends it out).
#pragma once

#include <functional>
#include <vector>

namespace chain::cli::mpi {

// MPI_Init_thread (FUNNELED: only the main thread calls MPI) when launched
// by mpirun, MPI_Finalize on destruction. One per process, made first thing
// in main(), before the command line is parsed.
class Session {
 public:
  Session(int& argc, char**& argv);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
};

int rank();  // 0 without MPI
int size();  // 1 without MPI
inline bool isRoot() { return rank() == 0; }

// Adds `buf` elementwise over the ranks (MPI_Allreduce, MPI_SUM) into every
// rank's buf. A sync point: throws the error of a rank that failed.
void sum(std::vector<double>& buf);

// Runs a whole command: with one rank just `command()`; on several, its error
// (or that of another rank) is agreed on at the end, as described above, and
// rethrown on every rank; else its exit status is returned.
int runCommand(const std::function<int()>& command);

}  // namespace chain::cli::mpi
