#!/usr/bin/env python3
"""gemm_numpy.py — the SGEMM anchor of `takt bench gemm`: float32 numpy.dot of square random
matrices, through whatever BLAS numpy is linked to (OpenBLAS on Debian with
libopenblas0-pthread installed).

    python3 gemm_numpy.py --sizes 256,512,1024,2048 --reps R

prints one line per size, "n gflops blasname", where gflops = 2 n^3 / (median time of R
products after one warm-up) and blasname says which BLAS did the work: "openblas" when an
OpenBLAS library is mapped into this process, "refblas" for the reference BLAS, otherwise the
library's file name. Threads follow OPENBLAS_NUM_THREADS / OMP_NUM_THREADS, which the caller
sets. Exit code 3 when numpy is missing.
"""
import argparse
import os
import statistics
import sys
import time

try:
    import numpy as np
except ImportError:
    print("numpy is not installed (Debian: apt-get install python3-numpy libopenblas0-pthread)",
          file=sys.stderr)
    sys.exit(3)


def blas_name():
    """Names the BLAS from the libraries mapped into this process; numpy loads its BLAS lazily,
    so call this after a product."""
    paths = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split()
            if len(fields) >= 6 and fields[5].startswith("/"):
                paths.add(fields[5])
    # Debian routes libblas.so.3 through update-alternatives, so the directory tells which
    # implementation it is (.../openblas-pthread/libblas.so.3 or .../blas/libblas.so.3).
    for name, marker in (("openblas", "openblas"), ("mkl", "libmkl"), ("blis", "blis")):
        if any(marker in p for p in paths):
            return name
    for p in sorted(paths):
        base = os.path.basename(p)
        if base.startswith("libblas"):
            return "refblas"
    for p in sorted(paths):
        base = os.path.basename(p)
        if "blas" in base or "lapack" in base:
            return base.split(".so")[0]
    return "unknown"


def gflops(n, reps, rng):
    a = rng.random((n, n), dtype=np.float32) - np.float32(0.5)
    b = rng.random((n, n), dtype=np.float32) - np.float32(0.5)
    c = np.dot(a, b)  # warm-up: BLAS threads started, pages touched
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        np.dot(a, b, out=c)
        times.append(time.perf_counter() - start)
    return 2.0 * n ** 3 / statistics.median(times) / 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="256,512,1024,2048")
    parser.add_argument("--reps", type=int, default=10)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    rng = np.random.default_rng(1)
    results = [(n, gflops(n, max(1, args.reps), rng)) for n in sizes]
    name = blas_name()
    for n, rate in results:
        print(f"{n} {rate:.3f} {name}")


if __name__ == "__main__":
    main()
