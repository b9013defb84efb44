#!/usr/bin/python3
"""make_golden.py — reference outputs for tests/test_knn.c, test_svm.c and test_tsne.c, made
once with Debian's python3-sklearn 1.2.1 (numpy 1.24, scipy 1.10).

    /usr/bin/python3 tests/data/cluster_b/make_golden.py [SHARED_DIR]

SHARED_DIR (default ../shared) holds bench/mtm6_* and bench/blobs32_2k_*; the outputs that
depend on them are predictions and figures only (no copy of the shared data). Every other
input is generated here and written beside its outputs. Files are raw little-endian float32
or int32, C order; golden.json says the shapes and holds the scalar figures.
"""
import json
import os
import sys

import numpy as np
from sklearn.datasets import make_blobs
from sklearn.manifold import TSNE
from sklearn.manifold import _t_sne
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors
from sklearn.metrics import pairwise_distances
from sklearn.svm import LinearSVC

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..", "..", "shared")
meta = {"sklearn": "1.2.1", "files": {}}


def save(name, arr, dtype):
    arr = np.ascontiguousarray(arr, dtype=dtype)
    arr.tofile(os.path.join(HERE, name + ".bin"))
    meta["files"][name] = {"dtype": np.dtype(dtype).name, "shape": list(arr.shape)}


def load(name, dtype, shape):
    return np.fromfile(os.path.join(SHARED, "bench", name + ".bin"), dtype=dtype).reshape(shape)


# ---------------------------------------------------------------- KNN
# Small case: k = 5, distance weights; a few queries repeat training rows exactly, so the
# zero-distance rule of _get_weights (those neighbours alone, weight 1) is exercised.
rng = np.random.default_rng(5)
knn_x = rng.random((300, 6)).astype(np.float32)
knn_y = rng.integers(0, 4, 300).astype(np.int32)
knn_q = rng.random((120, 6)).astype(np.float32)
knn_q[:8] = knn_x[[3, 17, 42, 99, 150, 201, 250, 299]]
knn_x[10] = knn_x[3]  # a duplicated training row: two neighbours at distance 0
knn_y[10] = (knn_y[3] + 1) % 4
for name, arr, dt in (("knn_small_x", knn_x, np.float32), ("knn_small_y", knn_y, np.int32),
                      ("knn_small_q", knn_q, np.float32)):
    save(name, arr, dt)
for weights in ("distance", "uniform"):
    clf = KNeighborsClassifier(n_neighbors=5, weights=weights).fit(knn_x, knn_y)
    save(f"knn_small_pred_{weights}", clf.predict(knn_q), np.int32)
    save(f"knn_small_proba_{weights}", clf.predict_proba(knn_q), np.float32)

mtm = os.path.exists(os.path.join(SHARED, "bench", "mtm6_train_x.bin"))
if mtm:
    tx = load("mtm6_train_x", np.float32, (8919, 6))
    ty = load("mtm6_train_y", np.int32, (8919,))
    qx = load("mtm6_test_x", np.float32, (10000, 6))
    qy = load("mtm6_test_y", np.int32, (10000,))
    clf = KNeighborsClassifier(n_neighbors=1).fit(tx, ty)
    pred = clf.predict(qx)
    save("knn_mtm6_pred_k1", pred, np.int32)
    d, _ = NearestNeighbors(n_neighbors=2).fit(tx).kneighbors(qx)
    meta["knn_mtm6_k1_accuracy"] = float((pred == qy).mean())
    meta["knn_mtm6_k1_exact_ties"] = int((d[:, 0] == d[:, 1]).sum())
    clf5 = KNeighborsClassifier(n_neighbors=5, weights="distance").fit(tx, ty)
    save("knn_mtm6_pred_k5d", clf5.predict(qx), np.int32)

# ---------------------------------------------------------------- linear SVM
sx, sy = make_blobs(n_samples=150, n_features=4, centers=3, cluster_std=2.5, random_state=3)
sx = sx.astype(np.float32)
sy = sy.astype(np.int32)
save("svm_small_x", sx, np.float32)
save("svm_small_y", sy, np.int32)
svc = LinearSVC(random_state=0, tol=1e-8, max_iter=100000).fit(sx, sy)
save("svm_small_coef", svc.coef_, np.float32)
save("svm_small_intercept", svc.intercept_, np.float32)
meta["svm_small_accuracy"] = float(svc.score(sx, sy))
bin_mask = sy < 2
svc2 = LinearSVC(random_state=0, tol=1e-8, max_iter=100000).fit(sx[bin_mask], sy[bin_mask])
save("svm_binary_coef", svc2.coef_, np.float32)
save("svm_binary_intercept", svc2.intercept_, np.float32)
if mtm:
    svc = LinearSVC(random_state=0).fit(tx, ty)
    meta["svm_mtm6_accuracy"] = float(svc.score(qx, qy))
    meta["svm_mtm6_n_iter"] = int(svc.n_iter_)

# ---------------------------------------------------------------- t-SNE
# Perplexity calibration on a small case: the joint P of the exact method (dense) and of the
# Barnes-Hut method (3*perplexity nearest neighbours), both as dense n x n float32.
px, _ = make_blobs(n_samples=120, n_features=8, centers=4, cluster_std=1.5, random_state=7)
px = px.astype(np.float32)
save("tsne_p_x", px, np.float32)
perp = 10.0
dist = pairwise_distances(px, metric="euclidean", squared=True)
from scipy.spatial.distance import squareform
save("tsne_p_exact", squareform(_t_sne._joint_probabilities(dist, perp, 0)), np.float32)
k = min(px.shape[0] - 1, int(3.0 * perp + 1))
g = NearestNeighbors(n_neighbors=k).fit(px).kneighbors_graph(mode="distance")
g.data **= 2
p_bh = _t_sne._joint_probabilities_nn(g, perp, 0)
save("tsne_p_bh", p_bh.toarray(), np.float32)  # entries below float32's range read as 0
meta["tsne_p_bh_nnz"] = int(p_bh.nnz)
meta["tsne_p_perplexity"] = perp

# Whole runs on a small case, several seeds of the PCA's randomised SVD: the KL spread says how
# much the figure itself moves between runs.
kx, ky = make_blobs(n_samples=500, n_features=16, centers=5, cluster_std=1.0, random_state=11)
kx = kx.astype(np.float32)
save("tsne_small_x", kx, np.float32)
save("tsne_small_y", ky, np.int32)
for method in ("barnes_hut", "exact"):
    kls = []
    for seed in range(3):
        t = TSNE(n_components=2, perplexity=30.0, init="pca", learning_rate="auto",
                 method=method, angle=0.5, n_iter=1000, random_state=seed)
        t.fit_transform(kx)
        kls.append(float(t.kl_divergence_))
    meta[f"tsne_small_kl_{method}"] = kls

if os.path.exists(os.path.join(SHARED, "bench", "blobs32_2k_x.bin")):
    bx = load("blobs32_2k_x", np.float32, (2000, 32))
    t = TSNE(n_components=2, perplexity=30.0, init="pca", learning_rate="auto",
             method="barnes_hut", angle=0.5, n_iter=1000, random_state=0)
    t.fit_transform(bx)
    meta["tsne_blobs2k_kl_barnes_hut"] = float(t.kl_divergence_)

with open(os.path.join(HERE, "golden.json"), "w") as f:
    json.dump(meta, f, indent=1, sort_keys=True)
    f.write("\n")
