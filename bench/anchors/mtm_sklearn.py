#!/usr/bin/python3
"""mtm_sklearn.py — the anchor of `takt bench mtm`: the seed's three MTM-2 classifiers in
scikit-learn, each after MinMaxScaler fitted on the training rows of ../shared/bench/mtm6_*.

    python3 mtm_sklearn.py DIR SINGLE REPS

Prints "key value" lines: knn_fit_s, knn_single_us (median of SINGLE one-row predicts),
knn_batch_us, knn_accuracy, then svm_* (LinearSVC) and mlp_* (MLPClassifier((50,),
early_stopping=True, max_iter=1000)) fit_s, batch_us, accuracy.
"""
import os
import statistics
import sys
import time

import numpy as np
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import LinearSVC


def read(folder, name, dtype, shape):
    return np.fromfile(os.path.join(folder, name + ".bin"), dtype=dtype).reshape(shape)


def main():
    import warnings
    warnings.filterwarnings("ignore")
    folder, single, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    tx = read(folder, "mtm6_train_x", "<f4", (8919, 6))
    ty = read(folder, "mtm6_train_y", "<i4", (8919,))
    qx = read(folder, "mtm6_test_x", "<f4", (10000, 6))
    qy = read(folder, "mtm6_test_y", "<i4", (10000,))
    models = (("knn", lambda: KNeighborsClassifier(n_neighbors=1)),
              ("svm", lambda: LinearSVC(random_state=0)),
              ("mlp", lambda: MLPClassifier(hidden_layer_sizes=(50,), early_stopping=True,
                                            max_iter=1000, random_state=0)))
    for name, make in models:
        start = time.perf_counter()
        scaler = MinMaxScaler().fit(tx)
        clf = make().fit(scaler.transform(tx), ty)
        print(f"{name}_fit_s {time.perf_counter() - start:.6f}")
        if name == "knn":
            times = []
            for i in range(single):
                start = time.perf_counter()
                clf.predict(scaler.transform(qx[i:i + 1]))
                times.append(time.perf_counter() - start)
            print(f"knn_single_us {statistics.median(times) * 1e6:.3f}")
        batch = []
        for _ in range(reps):
            start = time.perf_counter()
            pred = clf.predict(scaler.transform(qx))
            batch.append(time.perf_counter() - start)
        print(f"{name}_batch_us {statistics.median(batch) / len(qx) * 1e6:.4f}")
        print(f"{name}_accuracy {(pred == qy).mean():.6f}")


if __name__ == "__main__":
    main()
