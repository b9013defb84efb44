#!/usr/bin/python3
"""latent_diag.py - how much of the true classes the study's latent windows hold, beside the
raw windows and their PCA (the study's two baselines), independent of the clustering step.

Reads PREFIX.z / .x / .y written by dump_windows.c and prints, per representation:
  1-NN   the accuracy of a 1-nearest-neighbour classifier in 10-fold cross-validation, folds
         made of runs of 50 consecutive windows (overlapping windows of one sequence stay in
         one fold): how often a window's nearest neighbour has the window's own class;
  and the Hungarian-matched window accuracy of k-means (mean of 3 seeds, 4 starts each),
  Ward and average-linkage hierarchical clustering, a full-covariance Gaussian mixture and
  spectral clustering on a 10-nearest-neighbour graph, k = the number of classes.
Window-level figures: `takt study` then votes windows into frame labels.
Usage: latent_diag.py PREFIX LATENT_DIM WINDOW_VALUES   (scikit-learn 1.2, Debian's)"""
import sys
import warnings

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import AgglomerativeClustering, KMeans, SpectralClustering
from sklearn.decomposition import PCA
from sklearn.metrics import confusion_matrix
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier

warnings.filterwarnings("ignore")


def hungarian(y, p):
    c = confusion_matrix(y, p)
    r, k = linear_sum_assignment(-c)
    return c[r, k].sum() / len(y)


def main():
    prefix, latent, values = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    z = np.fromfile(prefix + ".z", np.float32).reshape(-1, latent)
    x = np.fromfile(prefix + ".x", np.float32).reshape(-1, values)
    y = np.fromfile(prefix + ".y", np.int32)
    k = len(set(y))
    groups = np.arange(len(y)) // 50
    reps = [("raw", x), ("pca", PCA(latent, random_state=0).fit_transform(x)), ("latent", z)]
    for name, f in reps:
        nn1 = cross_val_score(KNeighborsClassifier(1), f, y, groups=groups,
                              cv=GroupKFold(10)).mean()
        km = np.mean([hungarian(y, KMeans(k, n_init=4, random_state=s).fit_predict(f))
                      for s in range(3)])
        ward = hungarian(y, AgglomerativeClustering(k, linkage="ward").fit_predict(f))
        avg = hungarian(y, AgglomerativeClustering(k, linkage="average").fit_predict(f))
        gmm = np.mean([hungarian(y, GaussianMixture(k, covariance_type="full", reg_covar=1e-4,
                                                    random_state=s).fit(f).predict(f))
                       for s in range(3)])
        spec = hungarian(y, SpectralClustering(k, affinity="nearest_neighbors", n_neighbors=10,
                                               random_state=0).fit_predict(f))
        print("%-7s dim %5d  1-NN %.3f  k-means %.3f  ward %.3f  average %.3f  gmm %.3f  "
              "spectral %.3f" % (name, f.shape[1], nn1, km, ward, avg, gmm, spec))


if __name__ == "__main__":
    main()
