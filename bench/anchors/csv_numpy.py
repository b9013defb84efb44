#!/usr/bin/env python3
"""csv_numpy.py — the anchor of `takt bench csv`: numpy.loadtxt reading the same numeric CSV
(header line, comma-separated) into float32, numpy's own C tokenizer since numpy 1.23.

    python3 csv_numpy.py --path FILE --reps R

prints "mbps rows cols": megabytes of file per second over the median of R reads, and the
shape read (so the caller can check it read the same table). Exit code 3 when numpy is
missing.
"""
import argparse
import os
import statistics
import sys
import time

try:
    import numpy as np
except ImportError:
    print("numpy is not installed (Debian: apt-get install python3-numpy)", file=sys.stderr)
    sys.exit(3)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--path", required=True)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    size = os.path.getsize(args.path)
    times = []
    table = None
    for _ in range(max(1, args.reps)):
        start = time.perf_counter()
        table = np.loadtxt(args.path, delimiter=",", skiprows=1, dtype=np.float32)
        times.append(time.perf_counter() - start)
    print(f"{size / statistics.median(times) / 1e6:.3f} {table.shape[0]} {table.shape[1]}")


if __name__ == "__main__":
    main()
