"""Checks that safetensors files written by gradgen load in Python, and the other way round.

Usage: python3 tools/safetensors_interop.py FROM_RUST OUT

FROM_RUST is written by the Rust test `weights::python_reads_our_files_and_we_read_its`: a
`w1` of shape (2, 3) with values (i*3 + j)/8 - 0.3, and a `b1` of shape (1, 3) holding
-0.0, 1e-310 and 42.0, both float64. This script loads it with `safetensors.numpy.load_file`,
checks names, shapes, dtypes and every value bit for bit, then writes OUT with
`safetensors.numpy.save_file`: the same tensors, each value doubled, for the Rust side to load.
Any mismatch, or a missing package, exits non-zero with a message.
"""

import sys

import numpy as np
from safetensors.numpy import load_file, save_file


def expected():
    w1 = np.array([[(i * 3 + j) / 8.0 - 0.3 for j in range(3)] for i in range(2)], dtype=np.float64)
    b1 = np.array([[-0.0, 1e-310, 42.0]], dtype=np.float64)
    return {"w1": w1, "b1": b1}


def check(loaded, want):
    if sorted(loaded) != sorted(want):
        sys.exit(f"tensor names: expected {sorted(want)}, found {sorted(loaded)}")
    for name, value in want.items():
        got = loaded[name]
        if got.dtype != value.dtype or got.shape != value.shape:
            sys.exit(f"{name}: expected {value.dtype} {value.shape}, found {got.dtype} {got.shape}")
        if not np.array_equal(got.view(np.uint64), value.view(np.uint64)):
            sys.exit(f"{name}: expected {value!r}, found {got!r} (compared bit for bit)")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    from_rust, out = sys.argv[1], sys.argv[2]
    want = expected()
    check(load_file(from_rust), want)
    save_file({name: value * 2.0 for name, value in want.items()}, out)
    print(f"ok: {from_rust} loads in Python with the expected tensors; wrote {out}")


if __name__ == "__main__":
    main()
