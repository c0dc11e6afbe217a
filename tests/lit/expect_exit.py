#!/usr/bin/env python3
# Usage: expect_exit.py STATUS COMMAND [ARGS...]
# Runs COMMAND with this process's stdin/stdout/stderr and exits 0 if it
# ended with exit status STATUS; otherwise says so on stderr and exits 1.
# (lit's `not` only tells failure from success; chain's exit statuses 1..5
# each mean something, so the tests check the exact number.)
import subprocess
import sys

if len(sys.argv) < 3:
    sys.exit("usage: expect_exit.py STATUS COMMAND [ARGS...]")
want = int(sys.argv[1])
got = subprocess.call(sys.argv[2:])
if got != want:
    sys.stdout.flush()
    print("expect_exit: %r exited with status %d, expected %d" % (sys.argv[2:], got, want), file=sys.stderr)
    sys.exit(1)
