// Module::exportC (runtime/Export.cpp), the API behind `chain export`: the
// files it writes and what it returns, the C prototypes of SPEC §8, and its
// errors. Linking and running the object is scripts/test-export.sh's part.
#include <catch2/catch.hpp>

#include <chain/chain.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("chain_export_test_" + std::to_string(::getpid()));
  ~TempDir() { fs::remove_all(path); }
};

const char* kModel = R"(
fn loss(w: f64[d], b: f64, X: f64[n, d]) -> f64 { sum((X @ w + b) ** 2) / f64(n) }
fn free_shape(x: f64[n]) { x * 2.0 }
fn int(x: f64) -> f64 { x }
)";

}  // namespace

TEST_CASE("exportC writes the header and the object of SPEC 8's example", "[export]") {
  TempDir dir;
  chain::Module m = chain::Jit().compile_string(kModel, "model.chain");
  chain::ExportOptions o;
  o.functions = {"loss"};
  o.gradients = {{"loss", {"w", "b"}}};
  o.dir = (dir.path / "out").string();
  chain::ExportResult r = m.exportC(o);
  CHECK(r.headerPath == (dir.path / "out" / "model.h").string());
  CHECK(r.objectPath == (dir.path / "out" / "model.o").string());
  CHECK(r.functions == std::vector<std::string>{"loss", "loss_grad"});
  std::string h = slurp(r.headerPath);
  CHECK(h.find("int loss(const double *w, double b, const double *X, int64_t d, int64_t n,\n"
               "         double *result);") != std::string::npos);
  CHECK(h.find("int loss_grad(const double *w, double b, const double *X, int64_t d, int64_t n,\n"
               "              double *value, double *grad_w, double *grad_b);") != std::string::npos);
  CHECK(h.find("const char *chain_last_error(void);") != std::string::npos);
  CHECK(slurp(r.objectPath).compare(0, 4, "\x7f" "ELF") == 0);
}

TEST_CASE("exportC: what cannot be exported", "[export]") {
  TempDir dir;
  chain::Module m = chain::Jit().compile_string(kModel, "model.chain");
  chain::ExportOptions o;
  o.dir = dir.path.string();
  o.functions = {"free_shape"};
  CHECK_THROWS_AS(m.exportC(o), chain::CompileError);
  o.functions = {"int"};
  CHECK_THROWS_AS(m.exportC(o), chain::UsageError);
  o.functions = {"nope"};
  CHECK_THROWS_AS(m.exportC(o), chain::UsageError);
  o.functions = {"loss"};
  o.targetCpu = "no-such-cpu";
  CHECK_THROWS_AS(m.exportC(o), chain::UsageError);
  CHECK_FALSE(fs::exists(dir.path / "model.o"));  // nothing written on an error
}
