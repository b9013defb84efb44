#!/usr/bin/env python3
"""cluster_sklearn.py — the clustering anchors of `takt bench kmeans|dbscan|meanshift|hierarchical`
(workload C of ../shared/bench/README.md): scikit-learn 1.2 (Debian python3-sklearn), and
fastcluster (python3-fastcluster) for Ward when it is installed.

    python3 cluster_sklearn.py data DIR SIZES
        writes DIR/blobs32_<size>_x.bin (float32) and _y.bin (int32) for sizes such as 2k,20k,200k:
        make_blobs(n_samples, n_features=32, centers=10, cluster_std=1.0, center_box=(-10, 10),
        shuffle=True, random_state=42) cast to float32, the call that made ../shared's files.
    python3 cluster_sklearn.py fit ALGO DIR SIZE REPS
        times REPS fits (after one warm-up, none when REPS is 1, for the slow ones) and prints
        "seconds cpu_seconds ari name": the median wall time and the median process CPU time
        (all threads) of the fit, the adjusted Rand index of its labels against the blobs, and
        who ran it.

ALGO: kmeans | elkan (k=10, k-means++, n_init=1, random_state=0, max_iter 300, tol 1e-4),
dbscan (eps 7, min_samples 10), meanshift (bandwidth = estimate_bandwidth(quantile 0.05,
n_samples 500, random_state 0), computed before the timed fits; every row a seed), ward (linkage
+ cut into 10 clusters). Threads follow OMP_NUM_THREADS (set by the caller); n_jobs follows it
too. Exit code 3 when a module is missing.
"""
import os
import statistics
import sys
import time

try:
    import numpy as np
    from sklearn.cluster import DBSCAN, KMeans, MeanShift, estimate_bandwidth
    from sklearn.datasets import make_blobs
    from sklearn.metrics import adjusted_rand_score
except ImportError as e:
    print(f"{e} (Debian: apt-get install python3-sklearn)", file=sys.stderr)
    sys.exit(3)

SIZES = {"2k": 2000, "20k": 20000, "200k": 200000}


def make_data(folder, sizes):
    for tag in sizes.split(","):
        x, y = make_blobs(n_samples=SIZES[tag], n_features=32, centers=10, cluster_std=1.0,
                          center_box=(-10, 10), shuffle=True, random_state=42)
        x.astype("<f4").tofile(os.path.join(folder, f"blobs32_{tag}_x.bin"))
        y.astype("<i4").tofile(os.path.join(folder, f"blobs32_{tag}_y.bin"))


def ward(x):
    try:
        import fastcluster
        from scipy.cluster.hierarchy import fcluster
    except ImportError:
        from sklearn.cluster import AgglomerativeClustering
        return AgglomerativeClustering(10, linkage="ward").fit(x).labels_, "sklearn"
    z = fastcluster.linkage_vector(x, method="ward")
    return fcluster(z, 10, criterion="maxclust"), "fastcluster"


def fit(algo, folder, tag, reps):
    n = SIZES[tag]
    x = np.fromfile(os.path.join(folder, f"blobs32_{tag}_x.bin"), dtype="<f4").reshape(n, 32)
    y = np.fromfile(os.path.join(folder, f"blobs32_{tag}_y.bin"), dtype="<i4")
    jobs = int(os.environ.get("OMP_NUM_THREADS", "1"))
    name = "sklearn"
    if algo in ("kmeans", "elkan"):
        run = lambda: KMeans(10, n_init=1, random_state=0, max_iter=300, tol=1e-4,
                             algorithm="lloyd" if algo == "kmeans" else "elkan").fit(x).labels_
    elif algo == "dbscan":
        run = lambda: DBSCAN(eps=7.0, min_samples=10, n_jobs=jobs).fit(x).labels_
    elif algo == "meanshift":
        bw = estimate_bandwidth(x, quantile=0.05, n_samples=500, random_state=0)
        run = lambda: MeanShift(bandwidth=bw, n_jobs=jobs).fit(x).labels_
    elif algo == "ward":
        name = ward(x[:10])[1]
        run = lambda: ward(x)[0]
    else:
        print(f"unknown algorithm {algo}", file=sys.stderr)
        sys.exit(2)
    if reps > 1:
        labels = run()
    times, cpus = [], []
    for _ in range(reps):
        start, cpu = time.perf_counter(), time.process_time()
        labels = run()
        times.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    print(f"{statistics.median(times):.6f} {statistics.median(cpus):.6f} "
          f"{adjusted_rand_score(y, labels):.6f} {name}")


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "data":
        make_data(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 6 and sys.argv[1] == "fit":
        fit(sys.argv[2], sys.argv[3], sys.argv[4], max(1, int(sys.argv[5])))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
