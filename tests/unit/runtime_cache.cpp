// The persistent compile cache (runtime/codegen/ObjectCache.h) through the
// public API: a second compilation of the same model loads the stored code
// (observed by the process-wide cache counters), anything that decides the
// code changes the key, damaged, truncated and foreign entries are ignored
// and replaced, concurrent writers (threads and processes) leave valid
// entries, eviction keeps the folder under its bound, least recently used
// first, and an unusable folder never fails a compilation. Every test uses
// its own temporary folder.
#include <catch2/catch.hpp>

#include <chain/chain.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "runtime/codegen/Codegen.h"

extern char** environ;
namespace fs = std::filesystem;
using chain::Value;

namespace {

const char* kSource = R"(
fn f(x: f64, y: f64) -> f64 {
    var s = 0.0
    for i in 0..8 { s += sin(x * f64(i)) * y }
    s
}
)";

struct TempDir {
  fs::path path;
  TempDir() {
    std::string p = (fs::temp_directory_path() / "chain-cache-test-XXXXXX").string();
    REQUIRE(mkdtemp(p.data()));
    path = p;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

chain::Options inDir(const TempDir& d, int64_t maxBytes = 0) {
  chain::Options o;
  o.cacheDir = d.path.string();
  o.cacheMaxBytes = maxBytes;
  return o;
}

// The cache counters' change across a block.
struct StatsDelta {
  chain::codegen::CacheStats before = chain::codegen::cacheStats();
  chain::codegen::CacheStats now() const {
    chain::codegen::CacheStats a = chain::codegen::cacheStats(), d;
    d.hits = a.hits - before.hits;
    d.misses = a.misses - before.misses;
    d.rejected = a.rejected - before.rejected;
    d.stores = a.stores - before.stores;
    d.storeFailures = a.storeFailures - before.storeFailures;
    return d;
  }
};

// The entry files in `d` (temporary files of writers excluded).
std::vector<fs::path> entries(const fs::path& d) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(d, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind("llvmcache-chain-", 0) == 0 && name.find("tmp-") == std::string::npos) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

uint64_t totalBytes(const fs::path& d) {
  uint64_t n = 0;
  for (auto& p : entries(d)) n += fs::file_size(p);
  return n;
}

std::string readAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void writeAll(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// f's value and gradient at a fixed point, compiled with `o`.
std::vector<double> results(const chain::Options& o, const std::string& src = kSource,
                            const std::string& file = "cache.chain") {
  chain::Module m = chain::Jit(o).compile_string(src, file);
  Value v = m.function("f")({0.7, 1.3});
  Value g = m.gradient("f")({0.7, 1.3});
  return {v.asDouble(), g.tuple()[0].asDouble(), g.tuple()[1].asDouble()};
}

}  // namespace

TEST_CASE("cache: the second compilation loads both functions from disk", "[cache]") {
  TempDir d;
  StatsDelta first;
  std::vector<double> cold = results(inDir(d));
  CHECK(first.now().misses == 2);
  CHECK(first.now().stores == 2);
  CHECK(first.now().hits == 0);
  REQUIRE(entries(d.path).size() == 2);

  StatsDelta second;
  chain::Module m = chain::Jit(inDir(d)).compile_string(kSource, "cache.chain");
  chain::Function f = m.function("f");
  chain::Function df = m.gradient("f");
  f.compile();
  df.compile();
  CHECK(second.now().hits == 2);
  CHECK(second.now().misses == 0);
  CHECK(second.now().stores == 0);
  CHECK(f({0.7, 1.3}).asDouble() == cold[0]);
  CHECK(df({0.7, 1.3}).tuple()[1].asDouble() == cold[2]);
  // The interpreter builds the IR a cached function was loaded without.
  CHECK(f.interpret({0.7, 1.3}).asDouble() == Approx(cold[0]).epsilon(1e-12));
  CHECK(df.interpret({0.7, 1.3}).tuple()[0].asDouble() == Approx(cold[1]).epsilon(1e-12));
  CHECK(f.paramNames() == std::vector<std::string>{"x", "y"});
}

TEST_CASE("cache: a changed source, option, file name or wrt list is a miss", "[cache]") {
  TempDir d;
  chain::Options base = inDir(d);
  results(base);
  std::string changed = kSource;
  changed.replace(changed.find("sin"), 3, "cos");
  auto variant = [&](chain::Options o, const std::string& src, const std::string& file) {
    StatsDelta s;
    results(o, src, file);
    CHECK(s.now().hits == 0);
    CHECK(s.now().misses == 2);
  };
  variant(base, changed, "cache.chain");
  variant(base, kSource, "other.chain");  // runtime errors name the file
  for (int level : {0, 1, 3}) {
    chain::Options o = base;
    o.optLevel = level;
    variant(o, kSource, "cache.chain");
  }
  chain::Options unchecked = base;
  unchecked.boundsChecks = false;
  variant(unchecked, kSource, "cache.chain");
  chain::Options nan = base;
  nan.nanCheck = true;
  variant(nan, kSource, "cache.chain");

  StatsDelta wrt;
  chain::Jit(base).compile_string(kSource, "cache.chain").gradient("f", {"y"}).compile();
  CHECK(wrt.now().misses == 1);
  StatsDelta again;
  results(base);
  CHECK(again.now().hits == 2);
  CHECK(again.now().misses == 0);
}

TEST_CASE("cache: a damaged, truncated or foreign entry is ignored and replaced", "[cache]") {
  TempDir d;
  chain::Options o = inDir(d);
  chain::Module m0 = chain::Jit(o).compile_string(kSource, "cache.chain");
  double expect = m0.function("f")({0.7, 1.3}).asDouble();
  REQUIRE(entries(d.path).size() == 1);
  fs::path entry = entries(d.path)[0];
  const std::string good = readAll(entry);
  REQUIRE(good.size() > 200);
  // Another model's entry under this entry's name: a foreign file.
  TempDir other;
  chain::Jit(inDir(other)).compile_string("fn f(x: f64, y: f64) -> f64 { x - y }", "cache.chain").function("f")({1.0, 2.0});
  const std::string foreign = readAll(entries(other.path).at(0));

  auto flip = [&](size_t at) {
    std::string s = good;
    s[at] = char(s[at] ^ 0x40);
    return s;
  };
  std::vector<std::pair<std::string, std::string>> damages = {
      {"magic byte flipped", flip(0)},
      {"version flipped", flip(8)},
      {"key flipped", flip(20)},
      {"length flipped", flip(50)},
      {"signature byte flipped", flip(75)},
      {"object byte flipped", flip(good.size() / 2)},
      {"last byte flipped", flip(good.size() - 1)},
      {"truncated to half", good.substr(0, good.size() / 2)},
      {"truncated inside the header", good.substr(0, 40)},
      {"one byte too many", good + "x"},
      {"empty", ""},
      {"another model's entry", foreign},
      {"not an entry at all", "#!/bin/sh\necho hello\n"},
  };
  for (auto& [what, bytes] : damages) {
    INFO(what);
    writeAll(entry, bytes);
    StatsDelta s;
    chain::Module m = chain::Jit(o).compile_string(kSource, "cache.chain");
    CHECK(m.function("f")({0.7, 1.3}).asDouble() == expect);
    CHECK(s.now().rejected == 1);
    CHECK(s.now().hits == 0);
    CHECK(s.now().stores == 1);
    CHECK(readAll(entry) == good);  // replaced by the same bytes
  }
  StatsDelta s;
  chain::Jit(o).compile_string(kSource, "cache.chain").function("f").compile();
  CHECK(s.now().hits == 1);
  CHECK(s.now().rejected == 0);
}

TEST_CASE("cache: threads writing the same entry at once leave one valid entry", "[cache]") {
  TempDir d;
  chain::Options o = inDir(d);
  const int n = 8;
  std::vector<double> got(n);
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t)
    threads.emplace_back([&, t] {
      chain::Module m = chain::Jit(o).compile_string(kSource, "cache.chain");
      got[t] = m.gradient("f")({0.7, 1.3}).tuple()[0].asDouble();
    });
  for (auto& t : threads) t.join();
  for (int t = 1; t < n; ++t) CHECK(got[t] == got[0]);
  CHECK(entries(d.path).size() == 1);
  size_t files = std::distance(fs::directory_iterator(d.path), fs::directory_iterator());
  CHECK(files == 2);  // the entry and pruneCache's timestamp: no temporary file left
  StatsDelta s;
  CHECK(chain::Jit(o).compile_string(kSource, "cache.chain").gradient("f")({0.7, 1.3}).tuple()[0].asDouble() ==
        got[0]);
  CHECK(s.now().hits == 1);
  CHECK(s.now().rejected == 0);
}

// Run by the next test in child processes: compiles the model into the folder
// named by CHAIN_TEST_WRITER_DIR.
TEST_CASE("cache: writer process", "[.cache-writer]") {
  const char* dir = std::getenv("CHAIN_TEST_WRITER_DIR");
  REQUIRE(dir);
  chain::Options o;
  o.cacheDir = dir;
  results(o);
}

TEST_CASE("cache: two processes writing the same entries at once leave valid entries", "[cache]") {
  TempDir d;
  std::string self = fs::read_symlink("/proc/self/exe").string();
  std::vector<std::string> env = {"CHAIN_TEST_WRITER_DIR=" + d.path.string()};
  for (char** e = environ; *e; ++e) env.push_back(*e);
  std::vector<char*> envp, argv = {self.data(), const_cast<char*>("[.cache-writer]"), nullptr};
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t quiet;
  posix_spawn_file_actions_init(&quiet);
  posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
  pid_t pids[2];
  for (pid_t& pid : pids) REQUIRE(posix_spawn(&pid, self.c_str(), &quiet, nullptr, argv.data(), envp.data()) == 0);
  for (pid_t pid : pids) {
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  }
  posix_spawn_file_actions_destroy(&quiet);
  CHECK(entries(d.path).size() == 2);
  StatsDelta s;
  std::vector<double> cached = results(inDir(d));
  CHECK(s.now().hits == 2);
  CHECK(s.now().rejected == 0);
  chain::Options off;
  off.cache = false;
  CHECK(cached == results(off));
}

TEST_CASE("cache: eviction keeps the folder under its bound, least recently used first", "[cache]") {
  TempDir d;
  auto model = [](int k) {
    return "fn f(x: f64, y: f64) -> f64 { x * " + std::to_string(k) + ".0 + sin(y) }\n";
  };
  // Each write prunes: the folder is scanned at most every 10 s, or at once
  // when pruneCache's timestamp file is missing.
  auto primal = [&](int k, int64_t bound) {
    fs::remove(d.path / "llvmcache.timestamp");
    chain::Jit(inDir(d, bound)).compile_string(model(k), "cache.chain").function("f")({0.5, 0.25});
  };
  std::vector<fs::path> byModel;  // each model's entry: the file its compilation added
  for (int k = 0; k < 3; ++k) {
    std::vector<fs::path> before = entries(d.path);
    primal(k, 0);
    std::vector<fs::path> added;
    for (auto& p : entries(d.path))
      if (std::find(before.begin(), before.end(), p) == before.end()) added.push_back(p);
    REQUIRE(added.size() == 1);
    byModel.push_back(added[0]);
  }
  uint64_t one = fs::file_size(byModel[0]);
  // One hit each makes the order of use 0, 1, 2 (on a relatime mount the
  // kernel too updates the access time of a file's first read after a
  // change, but not of later ones); then a second hit makes model 0 the most
  // recently used, which only the cache's own touch records.
  StatsDelta s;
  for (int k = 0; k < 3; ++k) primal(k, 0);
  primal(0, 0);
  CHECK(s.now().hits == 4);
  // Room for three entries of this size: the fourth write evicts model 1's.
  uint64_t bound = 3 * one + one / 2;
  primal(3, int64_t(bound));
  std::vector<fs::path> left = entries(d.path);
  CHECK(left.size() == 3);
  CHECK(!fs::exists(byModel[1]));
  CHECK(fs::exists(byModel[0]));
  CHECK(fs::exists(byModel[2]));
  CHECK(totalBytes(d.path) <= bound);
  // A bound below one entry empties the folder; the code still runs.
  primal(4, 100);
  CHECK(entries(d.path).empty());
  // Within the interval, a write does not scan the folder again.
  chain::Jit(inDir(d, 100)).compile_string(model(5), "cache.chain").function("f").compile();
  CHECK(entries(d.path).size() == 1);
  // CHAIN_CACHE_MAX_BYTES is the bound when Options does not set one.
  for (int k = 6; k < 8; ++k) primal(k, 0);
  setenv("CHAIN_CACHE_MAX_BYTES", std::to_string(one + one / 2).c_str(), 1);
  primal(8, 0);
  unsetenv("CHAIN_CACHE_MAX_BYTES");
  CHECK(entries(d.path).size() == 1);
}

TEST_CASE("cache: an unusable folder or a disabled cache never fails a compilation", "[cache]") {
  TempDir d;
  writeAll(d.path / "file", "not a folder");
  chain::Options o;
  o.cacheDir = (d.path / "file" / "cache").string();
  StatsDelta s;
  std::vector<double> got = results(o);
  CHECK(s.now().storeFailures == 2);
  CHECK(s.now().stores == 0);
  chain::Options off = inDir(d);
  off.cache = false;
  StatsDelta none;
  CHECK(results(off) == got);
  CHECK(none.now().misses == 0);
  CHECK(none.now().stores == 0);
  CHECK(entries(d.path).empty());
  chain::Options negative;
  negative.cacheMaxBytes = -1;
  CHECK_THROWS_AS(chain::Jit(negative), chain::UsageError);
}

TEST_CASE("cache: the default folder is CHAIN_CACHE_DIR, else XDG_CACHE_HOME/chain, else ~/.cache/chain",
          "[cache]") {
  TempDir d;
  std::string saved = std::getenv("CHAIN_CACHE_DIR") ? std::getenv("CHAIN_CACHE_DIR") : "";
  const char* home = std::getenv("HOME");
  std::string savedHome = home ? home : "";
  auto compileDefault = [] { results(chain::Options{}); };
  setenv("CHAIN_CACHE_DIR", (d.path / "explicit").c_str(), 1);
  compileDefault();
  CHECK(entries(d.path / "explicit").size() == 2);
  unsetenv("CHAIN_CACHE_DIR");
  setenv("XDG_CACHE_HOME", (d.path / "xdg").c_str(), 1);
  compileDefault();
  CHECK(entries(d.path / "xdg" / "chain").size() == 2);
  // A relative XDG_CACHE_HOME is ignored (XDG Base Directory spec).
  setenv("XDG_CACHE_HOME", "relative", 1);
  setenv("HOME", (d.path / "home").c_str(), 1);
  compileDefault();
  CHECK(entries(d.path / "home" / ".cache" / "chain").size() == 2);
  CHECK(!fs::exists("relative"));
  unsetenv("XDG_CACHE_HOME");
  if (home) setenv("HOME", savedHome.c_str(), 1);
  setenv("CHAIN_CACHE_DIR", saved.c_str(), 1);
}
