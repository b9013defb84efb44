#!/usr/bin/python3
"""Reference data for tests/test_mtm.c, made once with Debian's python3-sklearn (1.2.1).

mtm6 (../shared/bench/mtm6_*, the team's synthetic stand-in for six normalised joint angles):
MinMaxScaler fitted on the training rows, then KNeighborsClassifier(n_neighbors=1) (uniform
weights), predictions on the 10,000 test rows -> knn_pred_mtm6.bin (int32 little-endian).
Accuracies of KNN, LinearSVC and MLPClassifier(50, early_stopping) go to golden.json.

    /usr/bin/python3 tests/data/mtm/make_golden.py ../shared/bench [--csv /tmp/mtm6_train.csv]

--csv also writes the training rows as a features CSV (label + six angle-named columns) for
`takt mtm compare` / `noise` / `fit`.
"""
import json
import os
import sys

import numpy as np
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import LinearSVC

NAMES = ["l_elbow", "r_elbow", "l_shoulder", "r_shoulder", "l_wrist", "r_wrist"]


def load(d, name, dtype, shape):
    return np.fromfile(os.path.join(d, name + ".bin"), dtype=dtype).reshape(shape)


def main():
    d = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    xtr = load(d, "mtm6_train_x", "<f4", (8919, 6))
    ytr = load(d, "mtm6_train_y", "<i4", (8919,))
    xte = load(d, "mtm6_test_x", "<f4", (10000, 6))
    yte = load(d, "mtm6_test_y", "<i4", (10000,))
    if "--csv" in sys.argv:
        out = sys.argv[sys.argv.index("--csv") + 1]
        with open(out, "w") as f:
            f.write("label," + ",".join(NAMES) + "\n")
            for x, y in zip(xtr, ytr):
                f.write("%d,%s\n" % (y, ",".join("%.9g" % v for v in x)))
    sc = MinMaxScaler().fit(xtr)
    str_, ste = sc.transform(xtr), sc.transform(xte)
    knn = KNeighborsClassifier(n_neighbors=1).fit(str_, ytr)
    pred = knn.predict(ste).astype("<i4")
    pred.tofile(os.path.join(here, "knn_pred_mtm6.bin"))
    svm = LinearSVC().fit(str_, ytr)
    mlp = MLPClassifier(hidden_layer_sizes=(50,), early_stopping=True, max_iter=1000,
                        random_state=0).fit(str_, ytr)
    golden = {
        "knn_pred_mtm6.bin": "int32 (10000,): 1-NN predictions on mtm6_test_x",
        "knn_accuracy": float((pred == yte).mean()),
        "svm_accuracy": float((svm.predict(ste) == yte).mean()),
        "mlp_accuracy": float((mlp.predict(ste) == yte).mean()),
        "mlp_epochs": int(mlp.n_iter_),
        "sklearn": __import__("sklearn").__version__,
    }
    with open(os.path.join(here, "golden.json"), "w") as f:
        json.dump(golden, f, indent=1)
    print(golden)


if __name__ == "__main__":
    main()
