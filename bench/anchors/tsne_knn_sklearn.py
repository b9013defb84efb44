#!/usr/bin/env python3
"""tsne_knn_sklearn.py — the anchors of `takt bench tsne|knn|svm` (workload C of
../shared/bench/README.md), run by scikit-learn 1.2 (Debian python3-sklearn) on the same files.

    python3 tsne_knn_sklearn.py tsne X.bin Y.bin N D
        TSNE(n_components=2, perplexity=30, init="pca", learning_rate="auto", method="barnes_hut",
        angle=0.5, n_iter=1000, random_state=0) on N x D float32 rows, once; prints
        "fit_s SECONDS", "cpu_s SECONDS" (process CPU time, all threads), "kl KL" and "nn1 ACC"
        (leave-one-out 1-NN accuracy of the labels in the embedding).
    python3 tsne_knn_sklearn.py knn DIR SINGLE REPS
        KNeighborsClassifier(n_neighbors=1) on DIR/mtm6_train_*, queried with DIR/mtm6_test_*:
        "fit_s", "single_us" (median of the first SINGLE one-row predicts), "batch_us" (median of
        REPS predicts of all 10,000 rows, per row) and "accuracy".
    python3 tsne_knn_sklearn.py svm DIR REPS
        LinearSVC() and SVC(kernel="linear") on the same split: "linearsvc_fit_s",
        "linearsvc_cpu_s", "linearsvc_us", "linearsvc_accuracy", and the same for "svc" (fit
        seconds, wall and process CPU, are medians of REPS fits; us = predict time per row of
        the 10,000).

Threads follow OMP_NUM_THREADS (set by the caller). Exit code 3 when a module is missing.
"""
import os
import statistics
import sys
import time

try:
    import numpy as np
    from sklearn.manifold import TSNE
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.svm import SVC, LinearSVC
except ImportError as e:
    print(f"{e} (Debian: apt-get install python3-sklearn)", file=sys.stderr)
    sys.exit(3)


def tsne(x_path, y_path, n, d):
    x = np.fromfile(x_path, dtype="<f4").reshape(n, d)
    y = np.fromfile(y_path, dtype="<i4")
    start, cpu = time.perf_counter(), time.process_time()
    t = TSNE(n_components=2, perplexity=30.0, init="pca", learning_rate="auto",
             method="barnes_hut", angle=0.5, n_iter=1000, random_state=0)
    emb = t.fit_transform(x)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    # leave-one-out 1-NN: the nearest other row (column 0 is the row itself)
    nn = KNeighborsClassifier(n_neighbors=2).fit(emb, y).kneighbors(emb, return_distance=False)
    other = np.where(nn[:, 0] == np.arange(n), nn[:, 1], nn[:, 0])
    print(f"fit_s {seconds:.6f}")
    print(f"cpu_s {cpu:.6f}")
    print(f"kl {t.kl_divergence_:.6f}")
    print(f"nn1 {(y[other] == y).mean():.6f}")


def load_mtm6(folder):
    def read(name, dtype, shape):
        return np.fromfile(os.path.join(folder, name + ".bin"), dtype=dtype).reshape(shape)
    return (read("mtm6_train_x", "<f4", (8919, 6)), read("mtm6_train_y", "<i4", (8919,)),
            read("mtm6_test_x", "<f4", (10000, 6)), read("mtm6_test_y", "<i4", (10000,)))


def knn(folder, single, reps):
    tx, ty, qx, qy = load_mtm6(folder)
    start = time.perf_counter()
    clf = KNeighborsClassifier(n_neighbors=1).fit(tx, ty)
    fit_s = time.perf_counter() - start
    clf.predict(qx[:1])
    times = []
    for i in range(single):
        start = time.perf_counter()
        clf.predict(qx[i:i + 1])
        times.append(time.perf_counter() - start)
    batch = []
    for _ in range(reps):
        start = time.perf_counter()
        pred = clf.predict(qx)
        batch.append(time.perf_counter() - start)
    print(f"fit_s {fit_s:.6f}")
    print(f"single_us {statistics.median(times) * 1e6:.3f}")
    print(f"batch_us {statistics.median(batch) / len(qx) * 1e6:.4f}")
    print(f"accuracy {(pred == qy).mean():.6f}")


def svm(folder, reps):
    tx, ty, qx, qy = load_mtm6(folder)
    for name, make in (("linearsvc", lambda: LinearSVC(random_state=0)),
                       ("svc", lambda: SVC(kernel="linear"))):
        fits, cpus = [], []
        for _ in range(reps):
            start, cpu = time.perf_counter(), time.process_time()
            model = make().fit(tx, ty)
            fits.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu)
        start = time.perf_counter()
        pred = model.predict(qx)
        us = (time.perf_counter() - start) / len(qx) * 1e6
        print(f"{name}_fit_s {statistics.median(fits):.6f}")
        print(f"{name}_cpu_s {statistics.median(cpus):.6f}")
        print(f"{name}_us {us:.4f}")
        print(f"{name}_accuracy {(pred == qy).mean():.6f}")


def main():
    import warnings
    warnings.filterwarnings("ignore")  # the caller reads stdout and stderr together
    if len(sys.argv) == 6 and sys.argv[1] == "tsne":
        tsne(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif len(sys.argv) == 5 and sys.argv[1] == "knn":
        knn(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif len(sys.argv) == 4 and sys.argv[1] == "svm":
        svm(sys.argv[2], int(sys.argv[3]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
