/* cluster — unsupervised and classical learning in pure C with OpenMP: clustering (k-means with
 * the elbow, DBSCAN, mean-shift, hierarchical), t-SNE, KNN, linear SVM, scalers, PCA and the
 * metrics that judge them. Never plots (io/ does) and never prints.
 *
 * Conventions: data is float32, n rows x d columns, row-major; labels are int, -1 = noise;
 * everything random takes a seed, and the same seed and thread count give the same result.
 *
 * Dependencies: core.
 */
#ifndef TAKT_CLUSTER_H
#define TAKT_CLUSTER_H

#include "../core/core.h"

/* ================================================================ clustering, scalers, PCA,
 * metrics, splits (kmeans.c, elbow.c, dbscan.c, meanshift.c, hierarchical.c, scale.c, pca.c,
 * metrics.c, split.c) */

/* ================================================================ t-SNE, KNN, linear SVM
 * (tsne.c, vptree.c, knn.c, kdtree.c, svm.c) */

#endif
