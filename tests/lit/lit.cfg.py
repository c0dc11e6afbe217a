# lit configuration of Chain's golden tests: every `*.chain` file under
# tests/lit is a test whose `# RUN:` lines run the `chain` command line and
# check its output with FileCheck (`# CHECK:` lines in the same file).
#
# Substitutions:
#   %chain         the built chain binary
#   FileCheck      LLVM 19's FileCheck
#   not            LLVM's `not` (succeeds when the command fails)
#   %expect-exit N CMD...  runs CMD and succeeds only if it exits with status
#                  N (its stdout/stderr pass through, so pipe them to
#                  FileCheck); used for chain's exit statuses 1..5
#   %inputs        tests/lit/Inputs (argument files and other data)
#   %examples      the repository's examples/ folder
#   %embed         the built examples/embed program (embed_example)
#   %s %S %t ...   lit's usual ones
import atexit
import os
import shutil
import sys
import tempfile

import lit.formats

config.name = "chain"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".chain"]
config.excludes = ["Inputs"]
config.test_source_root = os.path.dirname(os.path.abspath(__file__))
config.test_exec_root = os.path.join(config.chain_obj_root, "tests", "lit")

# Tool names are replaced only as whole words in RUN lines, like LLVM does.
def tool(name, path):
    return (r"(?<![\w/.%-])" + name + r"(?![\w/.-])", path)

here = config.test_source_root
config.substitutions.append(("%chain", config.chain_bin))
config.substitutions.append(("%expect-exit", sys.executable + " " + os.path.join(here, "expect_exit.py")))
config.substitutions.append(("%inputs", os.path.join(here, "Inputs")))
config.substitutions.append(("%examples", os.path.join(config.chain_src_root, "examples")))
config.substitutions.append(("%embed", config.embed_bin))
config.substitutions.append(tool("FileCheck", config.filecheck))
config.substitutions.append(tool("not", os.path.join(config.llvm_tools_dir, "not")))

config.environment["PATH"] = os.pathsep.join([config.llvm_tools_dir, config.environment.get("PATH", "")])
# Keep diagnostics free of terminal colours and the tests independent of locale.
config.environment["LC_ALL"] = "C"
# The compile cache (SPEC §7) goes to a fresh folder of this run, removed at
# exit: no test reads or writes the user's ~/.cache/chain or depends on what
# an earlier run left (tests of the cache itself use their own %t folders).
config.environment["CHAIN_CACHE_DIR"] = tempfile.mkdtemp(prefix="chain-lit-cache-")
atexit.register(shutil.rmtree, config.environment["CHAIN_CACHE_DIR"], True)

# The MPI tests (tests/lit/cli/*mpi*, `REQUIRES: mpi`) run when chain was
# built with MPI and mpirun is installed (scripts/setup.sh installs both).
# %mpirun allows root (CI runs as root), more ranks than cores and no banner;
# leak checking is off for it, as OpenMPI's own start-up leaks under ASan.
if config.chain_has_mpi and shutil.which("mpirun"):
    config.available_features.add("mpi")
config.substitutions.append(
    ("%mpirun", "env LSAN_OPTIONS=detect_leaks=0 mpirun --allow-run-as-root --oversubscribe -q"))
