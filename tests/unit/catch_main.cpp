// The Catch2 main shared by every unit-test executable. It points the compile
// cache at a fresh temporary folder (CHAIN_CACHE_DIR, removed at exit), so no
// test reads or writes the user's cache or depends on what an earlier run
// left there.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

int main(int argc, char** argv) {
  std::error_code ec;
  std::string dir = (std::filesystem::temp_directory_path(ec) / "chain-unit-cache-XXXXXX").string();
  if (!mkdtemp(dir.data())) {
    std::perror("cannot create a temporary compile cache folder");
    return 1;
  }
  setenv("CHAIN_CACHE_DIR", dir.c_str(), 1);
  int status = Catch::Session().run(argc, argv);
  std::filesystem::remove_all(dir, ec);
  return status;
}
