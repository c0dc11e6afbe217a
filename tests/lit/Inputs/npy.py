#!/usr/bin/env python3
# Writes a NumPy .npy file without NumPy, for the golden tests of "@x.npy"
# arguments, including deliberately broken ones.
# Usage: npy.py OUT DESCR SHAPE [VALUES] [--fortran] [--version N]
#                 [--drop BYTES] [--bad-magic]
#   DESCR  '<f8', '<f4', '<i8', '<i4', '<i2', '|i1', '|u1', '|b1', '>f8',
#          '>i4', or anything else (written as given; values then packed as
#          '<f8')
#   SHAPE  a Python tuple literal: '(2, 3)', '(4,)', '()'
#   VALUES comma-separated numbers in C order (may be empty)
#   --drop BYTES  removes that many bytes from the end (a truncated file)
import argparse
import struct

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("descr")
p.add_argument("shape")
p.add_argument("values", nargs="?", default="")
p.add_argument("--fortran", action="store_true")
p.add_argument("--version", type=int, default=1)
p.add_argument("--drop", type=int, default=0)
p.add_argument("--bad-magic", action="store_true")
a = p.parse_args()

fmt = {"<f8": "<d", "<f4": "<f", "<i8": "<q", "<i4": "<i", "<i2": "<h", "|i1": "<b", "|u1": "<B",
       "|b1": "<?", ">f8": ">d", ">i4": ">i"}.get(a.descr, "<d")
vals = [v for v in a.values.split(",") if v.strip()]
conv = (lambda v: v.strip() in ("1", "true", "True")) if fmt == "<?" else (int if fmt[1] in "qihbB" else float)
data = b"".join(struct.pack(fmt, conv(v)) for v in vals)
header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (a.descr, a.fortran, a.shape)
pre = 10 if a.version == 1 else 12
header += " " * ((64 - (pre + len(header) + 1) % 64) % 64) + "\n"
out = (b"\x93NUMPX" if a.bad_magic else b"\x93NUMPY") + bytes([a.version, 0])
out += struct.pack("<H" if a.version == 1 else "<I", len(header)) + header.encode("latin1") + data
if a.drop:
    out = out[:-a.drop]
with open(a.out, "wb") as f:
    f.write(out)
