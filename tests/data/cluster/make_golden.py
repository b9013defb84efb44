#!/usr/bin/env python3
"""make_golden.py — reference outputs for tests/test_{kmeans,dbscan,meanshift,hierarchical,
metrics,scale_pca}.c, made once with Debian's python3-sklearn 1.2.1 / scipy 1.10 / numpy 1.24.

    /usr/bin/python3 tests/data/cluster/make_golden.py   (from the repository root)

Writes raw little-endian float32 / int32 .bin files next to this script and golden.json with
the scalars and shapes. Everything comes from seeded make_blobs / numpy generators, so running
it again gives the same files.
"""
import json
import os

import numpy as np
import scipy
import sklearn
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.optimize import linear_sum_assignment
from sklearn import metrics
from sklearn.cluster import DBSCAN, KMeans, MeanShift, kmeans_plusplus
from sklearn.datasets import make_blobs
from sklearn.decomposition import PCA
from sklearn.preprocessing import MinMaxScaler, StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
golden = {"sklearn": sklearn.__version__, "scipy": scipy.__version__, "numpy": np.__version__}


def save(name, array, dtype):
    a = np.ascontiguousarray(array, dtype=dtype)
    a.astype(a.dtype.newbyteorder("<")).tofile(os.path.join(HERE, name + ".bin"))
    golden.setdefault("shapes", {})[name] = [list(a.shape), str(np.dtype(dtype))]


# A small clustering set: 300 rows, 5 features, 4 blobs (one wide, so that k-means has to work
# for its answer and hierarchical heights are not trivially separated).
x, y = make_blobs(n_samples=300, n_features=5, centers=4, cluster_std=[1.0, 1.5, 0.7, 2.5],
                  center_box=(-8, 8), random_state=3)
x = x.astype(np.float32)
save("blobs300_x", x, np.float32)
save("blobs300_y", y, np.int32)

# k-means from sklearn's own k-means++ centres: labels, inertia, iterations, both algorithms.
init, _ = kmeans_plusplus(x, 4, random_state=0)
save("blobs300_init", init, np.float32)
for algo in ("lloyd", "elkan"):
    km = KMeans(4, init=init, n_init=1, max_iter=300, tol=1e-4, algorithm=algo).fit(x)
    save(f"kmeans_{algo}_labels", km.labels_, np.int32)
    save(f"kmeans_{algo}_centers", km.cluster_centers_, np.float32)
    golden[f"kmeans_{algo}"] = {"inertia": float(km.inertia_), "n_iter": int(km.n_iter_)}
# A start with two centres on top of each other in one corner, so that an empty cluster has to
# be relocated the way sklearn does.
bad = init.copy()
bad[1] = bad[0]
km = KMeans(4, init=bad, n_init=1, max_iter=300, tol=1e-4, algorithm="lloyd").fit(x)
save("blobs300_badinit", bad, np.float32)
save("kmeans_badinit_labels", km.labels_, np.int32)
golden["kmeans_badinit"] = {"inertia": float(km.inertia_), "n_iter": int(km.n_iter_)}

# Hierarchical: scipy linkage matrices (float64 heights kept as float32 pairs hi/lo would be
# overkill: float32 holds them to 6e-8 relative, the tests ask 1e-4) and fcluster cuts.
for method in ("ward", "complete", "average", "single"):
    Z = linkage(x.astype(np.float64), method=method, metric="euclidean")
    save(f"linkage_{method}", Z, np.float32)
    save(f"fcluster_{method}_maxclust4", fcluster(Z, 4, criterion="maxclust") - 1, np.int32)
    h = np.sort(Z[:, 2])
    t = float(0.5 * (h[len(h) // 2] + h[len(h) // 2 + 1]))  # between two heights: no tie
    golden[f"fcluster_{method}_distance_t"] = t
    save(f"fcluster_{method}_distance", fcluster(Z, t, criterion="distance") - 1, np.int32)

# DBSCAN with noise: the blobs plus 30 uniform points.
rng = np.random.default_rng(5)
noise = rng.uniform(-12, 12, size=(30, 5)).astype(np.float32)
xd = np.vstack([x, noise]).astype(np.float32)
save("dbscan_x", xd, np.float32)
for eps, ms in ((1.5, 5), (2.5, 10)):
    db = DBSCAN(eps=eps, min_samples=ms).fit(xd)
    save(f"dbscan_{eps}_{ms}_labels", db.labels_, np.int32)
    core = np.zeros(len(xd), np.int32)
    core[db.core_sample_indices_] = 1
    save(f"dbscan_{eps}_{ms}_core", core, np.int32)

# Mean-shift at a fixed bandwidth (estimate_bandwidth draws with numpy's generator, which takt
# does not reproduce; the all-rows value is deterministic and is checked instead).
from sklearn.cluster import estimate_bandwidth  # noqa: E402

golden["bandwidth_q03_all"] = float(estimate_bandwidth(x, quantile=0.3))
golden["bandwidth_q01_all"] = float(estimate_bandwidth(x, quantile=0.1))
for bins in (False, True):
    ms = MeanShift(bandwidth=2.5, bin_seeding=bins).fit(x)
    tag = "bins" if bins else "all"
    save(f"meanshift_{tag}_labels", ms.labels_, np.int32)
    save(f"meanshift_{tag}_centers", ms.cluster_centers_, np.float32)
ms = MeanShift(bandwidth=2.0, cluster_all=False).fit(x)
save("meanshift_orphans_labels", ms.labels_, np.int32)

# Metrics on random label vectors (and the blobs for the silhouette).
a = rng.integers(0, 6, size=500)
b = np.where(rng.random(500) < 0.6, a, rng.integers(0, 8, size=500))
save("labels_a", a, np.int32)
save("labels_b", b, np.int32)
golden["ari"] = float(metrics.adjusted_rand_score(a, b))
golden["nmi"] = float(metrics.normalized_mutual_info_score(a, b))
golden["silhouette_blobs300"] = float(metrics.silhouette_score(x, y))
golden["silhouette_blobs300_kmeans"] = float(
    metrics.silhouette_score(x, np.fromfile(os.path.join(HERE, "kmeans_lloyd_labels.bin"),
                                            dtype="<i4")))
cm = metrics.confusion_matrix(a, b, labels=list(range(8)))
save("confusion_ab", cm, np.int32)
cost = -metrics.confusion_matrix(a, b, labels=list(range(8)))
r, c = linear_sum_assignment(cost)
golden["matched_accuracy"] = float(-cost[r, c].sum() / len(a))
p, rc, f, s = metrics.precision_recall_fscore_support(a, b, labels=list(range(8)),
                                                       zero_division=0)
save("prf_ab", np.stack([p, rc, f]), np.float32)
golden["support_ab"] = [int(v) for v in s]
for avg in ("macro", "weighted"):
    pa, ra, fa, _ = metrics.precision_recall_fscore_support(a, b, labels=list(range(8)),
                                                            average=avg, zero_division=0)
    golden[f"{avg}_prf"] = [float(pa), float(ra), float(fa)]
golden["accuracy_ab"] = float(metrics.accuracy_score(a, b))
# A rectangular assignment problem for the Hungarian solver.
cost_rect = rng.random((5, 8))
save("hungarian_cost", cost_rect, np.float32)
r, c = linear_sum_assignment(cost_rect.astype(np.float32).astype(np.float64))
golden["hungarian_cols"] = [int(v) for v in c]

# Scalers and PCA on the blobs.
save("minmax_x", MinMaxScaler(feature_range=(-1, 2)).fit_transform(x), np.float32)
save("standard_x", StandardScaler().fit_transform(x), np.float32)
pca = PCA(n_components=3, svd_solver="full").fit(x)
save("pca_components", pca.components_, np.float32)
save("pca_transform", pca.transform(x), np.float32)
golden["pca_explained_variance"] = [float(v) for v in pca.explained_variance_]
golden["pca_explained_variance_ratio"] = [float(v) for v in pca.explained_variance_ratio_]

with open(os.path.join(HERE, "golden.json"), "w") as fp:
    json.dump(golden, fp, indent=1, sort_keys=True)
    fp.write("\n")
