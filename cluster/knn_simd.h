/* knn_simd.h — private to cluster/: the brute-force distance kernel of knn.c and its AVX2
 * twin (knn_avx2.c, called only when simd_active() >= SIMD_AVX2). Training rows are stored
 * in blocks of 4, feature-major inside a block (block b, feature j: rows 4b..4b+3), so each
 * lane of a vector follows one row and a row's sum runs over the features in order. */
#ifndef TAKT_KNN_SIMD_H
#define TAKT_KNN_SIMD_H

/* out[4 * nblocks]: squared Euclidean distance (double) from q[d] to every row. */
void knn_block_sqdist_scalar(const double *blocks, int nblocks, int d, const double *q,
                             double *out);
void knn_block_sqdist_avx2(const double *blocks, int nblocks, int d, const double *q,
                           double *out);
/* The same sums without FMA, bit for bit those of knn_block_sqdist_scalar (each lane adds
 * diff * diff rounded, feature by feature): the kd-tree's leaves, where exact ties matter. */
void knn_block_sqdist_exact_avx2(const double *blocks, int nblocks, int d, const double *q,
                                 double *out);

/* A kd-tree as its k = 1 search reads it (kdtree.c builds it): one record per node, stride
 * bytes apart, the left child of node id being id + 1; each record is followed by its
 * children's boxes in float (left lo, left hi, right lo, right hi, pd each, pd = d rounded up
 * to 4, the padding 0). Each leaf's rows are in double blocks of 4 as above from block
 * leaf_off; index maps tree positions to original rows. */
typedef struct {
    int right;    /* -1 for a leaf */
    int begin, rows, leaf_off;
    int leaf_off8; /* the leaf's rows in float blocks of 8 (feature-major), from block leaf_off8 */
    int pad[3];
} KdRec;

typedef struct {
    const unsigned char *recs;
    size_t stride;
    const double *blocks;
    const float *blocks8;
    const int *index;
    int d, pd;
    /* The leaves alone, for a flat scan when there are few: leaf_node[nleaves] their node
     * ids, leaf_box their boxes feature-major (feature j: lo at (2j) * nleaves8, hi at
     * (2j + 1) * nleaves8, nleaves8 = nleaves rounded up to 8). */
    const int *leaf_node;
    const float *leaf_box;
    int nleaves, nleaves8;
} KdFlat;

/* Up to this many leaves, k = 1 scans every leaf box instead of walking the tree. */
#define KD_FLAT_MAX_LEAVES 1024

/* Box distances are scaled by this before pruning: a lower bound whatever the rounding of
 * their sum, so that no row at exactly the best distance is ever pruned. */
#define KD_BOX_SHRINK (1.0 - 1e-9)

/* The nearest row to q[pd] (zero padded): *best its squared distance, *best_i the lowest
 * original row at that distance. Scalar and AVX2 twins, the same answer bit for bit. */
void kd_nearest1_scalar(const KdFlat *f, const double *q, double *best, int *best_i);
/* The same by a flat scan (nleaves <= KD_FLAT_MAX_LEAVES): every leaf's box distance, then
 * the leaves in rising box distance while it does not exceed the best. */
void kd_leafscan1_scalar(const KdFlat *f, const double *q, double *best, int *best_i);
void kd_leafscan1_avx2(const KdFlat *f, const double *q, double *best, int *best_i);
void kd_nearest1_avx2(const KdFlat *f, const double *q, double *best, int *best_i);

#endif
