// The MPI layer of `chain` (see Mpi.h): the session, the sum over ranks and
// the agreement on a failure. An error travels between ranks as a small JSON
// object (its kind, message and rendered diagnostic), rebuilt on every rank
// as the same exception type so that main() reports it as on one process.
#include "cli/Mpi.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "chain/chain.h"

#ifdef CHAIN_HAVE_MPI
#include <mpi.h>
#endif

namespace chain::cli::mpi {
namespace {

int gRank = 0, gSize = 1;

bool launchedByMpirun() { return std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMIX_RANK"); }

}  // namespace

int rank() { return gRank; }
int size() { return gSize; }

#ifdef CHAIN_HAVE_MPI

namespace {

bool gStarted = false;  // MPI_Init_thread was called
bool gShared = false;   // an error was agreed on: every rank is unwinding, no more collectives

// Sends this rank's stdout and stderr to /dev/null: rank 0 alone prints.
void silence() {
  std::fflush(stdout);
  std::fflush(stderr);
  int fd = ::open("/dev/null", O_WRONLY);
  if (fd < 0) return;
  ::dup2(fd, STDOUT_FILENO);
  ::dup2(fd, STDERR_FILENO);
  ::close(fd);
}

// An exception as data for the other ranks.
nlohmann::json describe(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const CompileError& e) {
    nlohmann::json diags = nlohmann::json::array();
    for (const auto& d : e.diagnostics()) diags.push_back({d.file, d.line, d.col, d.message});
    return {{"kind", "compile"}, {"what", e.what()}, {"diagnostics", diags}};
  } catch (const UsageError& e) {
    return {{"kind", "usage"}, {"what", e.what()}};
  } catch (const InputError& e) {
    return {{"kind", "input"}, {"what", e.what()}};
  } catch (const RuntimeError& e) {
    return {{"kind", "runtime"}, {"what", e.what()}, {"diagnostic", e.diagnostic()}};
  } catch (const std::bad_alloc&) {
    return {{"kind", "memory"}};
  } catch (const std::exception& e) {
    return {{"kind", "internal"}, {"what", e.what()}};
  } catch (...) {
    return {{"kind", "internal"}, {"what", "unknown exception"}};
  }
}

// Throws the error `j` of rank `from`; a rank other than 0 is named.
[[noreturn]] void rethrow(const nlohmann::json& j, int from) {
  if (!j.is_object()) throw std::runtime_error("unreadable error report from MPI rank " + std::to_string(from));
  std::string kind = j.value("kind", "internal"), what = j.value("what", "");
  std::string note = from == 0 ? "" : " (on MPI rank " + std::to_string(from) + " of " + std::to_string(gSize) + ")";
  if (kind == "compile") {
    std::vector<CompileError::Diagnostic> diags;
    for (const auto& d : j["diagnostics"])
      diags.push_back({d[0].get<std::string>(), d[1].get<int>(), d[2].get<int>(), d[3].get<std::string>()});
    throw CompileError(what, std::move(diags));
  }
  if (kind == "usage") throw UsageError(what + note);
  if (kind == "input") throw InputError(what + note);
  if (kind == "memory") throw std::bad_alloc();
  if (kind != "runtime") throw std::runtime_error(what + note);
  std::string diag = j.value("diagnostic", "");
  if (diag.empty()) throw RuntimeError(what + note);
  size_t eol = diag.find('\n');
  throw RuntimeError(what + note, diag.insert(eol == std::string::npos ? diag.size() : eol, note));
}

// The status word of a sync point: whether any rank failed.
bool anyFailed(bool failed) {
  int mine = failed ? 1 : 0, any = 0;
  MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return any != 0;
}

// Every rank takes the error of the lowest failing rank and throws it.
[[noreturn]] void shareError(const std::exception_ptr& mine) {
  int me = mine ? gRank : gSize, from = 0;
  MPI_Allreduce(&me, &from, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  std::string blob;
  if (gRank == from) blob = describe(mine).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  unsigned long long n = std::min<unsigned long long>(blob.size(), 1u << 30);
  MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, from, MPI_COMM_WORLD);
  blob.resize(n);
  MPI_Bcast(blob.data(), int(n), MPI_CHAR, from, MPI_COMM_WORLD);
  gShared = true;
  rethrow(nlohmann::json::parse(blob, nullptr, /*allow_exceptions=*/false), from);
}

}  // namespace

Session::Session(int& argc, char**& argv) {
  if (!launchedByMpirun()) return;
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  gStarted = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &gRank);
  MPI_Comm_size(MPI_COMM_WORLD, &gSize);
  if (gRank != 0) silence();
}

Session::~Session() {
  if (gStarted) MPI_Finalize();
}

void sum(std::vector<double>& buf) {
  if (gSize == 1) return;
  if (anyFailed(false)) shareError(nullptr);
  constexpr size_t kChunk = size_t(1) << 30;  // MPI counts are ints
  for (size_t at = 0; at < buf.size(); at += kChunk)
    MPI_Allreduce(MPI_IN_PLACE, buf.data() + at, int(std::min(kChunk, buf.size() - at)), MPI_DOUBLE, MPI_SUM,
                  MPI_COMM_WORLD);
}

int runCommand(const std::function<int()>& command) {
  if (gSize == 1) return command();
  std::exception_ptr error;
  int status = 0;
  try {
    status = command();
  } catch (...) {
    if (gShared) throw;  // agreed on already
    error = std::current_exception();
  }
  if (anyFailed(error != nullptr)) shareError(error);
  return status;
}

#else  // built without MPI: one rank

Session::Session(int&, char**&) {
  if (launchedByMpirun())
    std::fprintf(stderr,
                 "chain: warning: started by mpirun, but this chain was built without MPI: every process runs the "
                 "whole command alone\n");
}

Session::~Session() = default;

void sum(std::vector<double>&) {}

int runCommand(const std::function<int()>& command) { return command(); }

#endif

}  // namespace chain::cli::mpi
