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
 * metrics.c, split.c, data_check.c)
 *
 * Output buffers are the caller's (sizes given beside each field); nothing here keeps a
 * pointer after returning, except the fitted Scaler and Pca, which own their arrays until
 * *_free. Row and column numbers in messages are 0-based. */

/* TK_EINVAL naming `what`, the row and the column of the first NaN or infinity, or saying the
 * data is empty (n < 1 or d < 1). */
StatusCode cluster_check_data(const char *what, const float *x, int n, int d, Status *st);

/* ---------------------------------------------------------------- k-means */

typedef enum { KMEANS_LLOYD = 0, KMEANS_ELKAN = 1 } KMeansAlgorithm;

typedef struct {
    int k;
    int max_iter;     /* scikit-learn: 300 */
    int n_init;       /* runs from different k-means++ seeds; the lowest inertia wins */
    double tol;       /* relative to the mean per-feature variance, on the squared centre shift
                       * (scikit-learn's definition); 1e-4 */
    KMeansAlgorithm algorithm;
    uint64_t seed;
    const float *init; /* k x d starting centres, or NULL for k-means++ (then n_init runs) */
} KMeansParams;

/* Fills scikit-learn's defaults (max_iter 300, n_init 1, tol 1e-4, Lloyd, seed 0). */
KMeansParams kmeans_params_default(int k);

typedef struct {
    float *centers;   /* caller's, k x d */
    int *labels;      /* caller's, n */
    double inertia;   /* sum of squared distances to the assigned centre */
    int n_iter;       /* iterations of the winning run, counted as scikit-learn does */
} KMeansResult;

StatusCode kmeans_fit(const float *x, int n, int d, const KMeansParams *p, KMeansResult *out,
                      Status *st);
/* scikit-learn's greedy k-means++ (2 + floor(ln k) local trials per centre): k x d centres. */
StatusCode kmeans_plusplus(const float *x, int n, int d, int k, uint64_t seed, float *centers,
                           Status *st);
/* Nearest centre of every row (first one on a tie); *inertia (may be NULL) gets the sum of
 * squared distances. */
StatusCode kmeans_predict(const float *x, int n, int d, const float *centers, int k,
                          int *labels, double *inertia, Status *st);

/* ---------------------------------------------------------------- elbow */

typedef struct {
    int k_max;        /* inertia for k = 1..k_max */
    KMeansParams km;  /* k is ignored; the rest applies to every k */
    int silhouette_sample; /* rows for the sampled silhouette, 0 = exact */
} ElbowParams;

typedef struct {
    double *inertia;    /* caller's, k_max; inertia[k-1] for k clusters */
    double *silhouette; /* caller's, k_max; silhouette[0] (k = 1) is NAN */
    int knee_k;         /* the elbow: farthest point below the chord from k = 1 to k_max of the
                         * inertia curve scaled to [0,1]x[0,1] */
    int best_silhouette_k; /* the second opinion: k >= 2 with the highest silhouette */
} ElbowResult;

StatusCode elbow_fit(const float *x, int n, int d, const ElbowParams *p, ElbowResult *out,
                     Status *st);
/* The knee rule alone, on any decreasing curve y[0..count-1] for k = 1..count: 1-based k. */
int elbow_knee(const double *y, int count);

/* ---------------------------------------------------------------- DBSCAN */

typedef struct {
    double eps;       /* neighbourhood radius (Euclidean, inclusive), > 0 */
    int min_samples;  /* a core point has at least this many points within eps, itself included */
} DbscanParams;

/* labels (caller's, n): clusters numbered in order of discovery over the points in index order,
 * border points join the first cluster that reaches them, noise is -1 — scikit-learn's
 * numbering. *n_clusters may be NULL; core (caller's, n, or NULL) gets 1 for core points. */
StatusCode dbscan_fit(const float *x, int n, int d, const DbscanParams *p, int *labels,
                      int *n_clusters, unsigned char *core, Status *st);
/* Distance of every row to its k-th nearest other row, sorted decreasing (caller's, n): the
 * k-distance curve whose knee suggests eps for min_samples = k + 1. */
StatusCode dbscan_kdistance(const float *x, int n, int d, int k, float *dist, Status *st);
/* eps at the knee (elbow_knee's rule) of the (min_samples - 1)-distance curve. */
StatusCode dbscan_suggest_eps(const float *x, int n, int d, int min_samples, double *eps,
                              Status *st);

/* ---------------------------------------------------------------- mean-shift */

typedef struct {
    double bandwidth;  /* flat-kernel radius, > 0 */
    int bin_seeding;   /* seeds from a grid of cell size bandwidth instead of every row */
    int min_bin_freq;  /* with bin_seeding: cells holding fewer rows give no seed (1) */
    int cluster_all;   /* 1: every row joins its nearest centre; 0: rows farther than the
                        * bandwidth from every centre are noise (-1) */
    int max_iter;      /* per seed (300) */
} MeanShiftParams;

MeanShiftParams meanshift_params_default(double bandwidth);

/* scikit-learn's estimate_bandwidth: the mean over (a seeded subsample of n_samples rows, 0 =
 * all) of the distance to the (quantile * rows)-th nearest row of that subsample. */
StatusCode meanshift_estimate_bandwidth(const float *x, int n, int d, double quantile,
                                        int n_samples, uint64_t seed, double *bandwidth,
                                        Status *st);

/* centers: malloc'ed n_centers x d (the caller frees), ordered by decreasing intensity;
 * labels: caller's, n. */
StatusCode meanshift_fit(const float *x, int n, int d, const MeanShiftParams *p,
                         float **centers, int *n_centers, int *labels, Status *st);

/* ---------------------------------------------------------------- hierarchical */

typedef enum { LINKAGE_WARD = 0, LINKAGE_COMPLETE, LINKAGE_AVERAGE, LINKAGE_SINGLE } Linkage;

/* complete and average keep the condensed distance matrix (n(n-1)/2 doubles); beyond this n
 * they refuse (TK_EUNSUPPORTED) rather than ask for gigabytes. Ward and single need O(n). */
#define HIER_CONDENSED_MAX_N 10000

/* Z: caller's, (n-1) x 4 doubles in scipy's format: row i merges clusters Z[i][0] < Z[i][1]
 * (ids < n are rows, n + j is the cluster made by row j) at height Z[i][2] into a cluster of
 * Z[i][3] rows; rows sorted by height (stable), Euclidean distances, ward heights as scipy's. */
StatusCode hier_linkage(const float *x, int n, int d, Linkage method, double *Z, Status *st);
/* scipy's fcluster on a linkage: 'maxclust' (at most k clusters) or 'distance' (cophenetic
 * distance <= t). labels (caller's, n) are fcluster's minus 1: 0.. in left-first tree order. */
StatusCode hier_cut_k(const double *Z, int n, int k, int *labels, Status *st);
StatusCode hier_cut_distance(const double *Z, int n, double t, int *labels, Status *st);
const char *linkage_name(Linkage method);
/* "ward" | "complete" | "average" | "single"; -1 when unknown. */
int linkage_parse(const char *name);

/* ---------------------------------------------------------------- scalers */

/* x' = x * scale + shift per column (min-max to [lo, hi], or standard: zero mean, unit
 * population variance; constant columns get scale 1 as in scikit-learn). */
typedef struct {
    int d;
    double *scale, *shift; /* d each, owned */
} Scaler;

StatusCode scaler_fit_minmax(Scaler *s, const float *x, int n, int d, double lo, double hi,
                             Status *st);
StatusCode scaler_fit_standard(Scaler *s, const float *x, int n, int d, Status *st);
/* out may be x. */
void scaler_transform(const Scaler *s, const float *x, int n, float *out);
void scaler_inverse(const Scaler *s, const float *x, int n, float *out);
void scaler_free(Scaler *s);

/* ---------------------------------------------------------------- PCA */

typedef struct {
    int d, n_components;
    double *mean;                     /* d, owned */
    double *components;               /* n_components x d, rows are unit principal axes */
    double *explained_variance;       /* n_components (divided by n - 1, as scikit-learn) */
    double *explained_variance_ratio; /* n_components */
} Pca;

/* Covariance (double) and cyclic Jacobi eigen-decomposition; signs as scikit-learn's svd_flip
 * (the projection of largest magnitude on each axis is positive). d <= PCA_MAX_D. */
#define PCA_MAX_D 1024
StatusCode pca_fit(Pca *p, const float *x, int n, int d, int n_components, Status *st);
void pca_transform(const Pca *p, const float *x, int n, float *out);            /* n x nc */
void pca_inverse_transform(const Pca *p, const float *y, int n, float *out);    /* n x d */
void pca_free(Pca *p);

/* ---------------------------------------------------------------- metrics
 * Label vectors hold any ints (-1 noise is just another label, as in scikit-learn). */

double metric_inertia(const float *x, int n, int d, const float *centers, const int *labels);
/* Mean silhouette (Euclidean). sample > 0 and < n: on `sample` rows drawn with the seed, as
 * scikit-learn's sample_size. Needs 2 <= distinct labels <= rows - 1. */
StatusCode metric_silhouette(const float *x, int n, int d, const int *labels, int sample,
                             uint64_t seed, double *score, Status *st);
StatusCode metric_ari(const int *a, const int *b, int n, double *ari, Status *st);
/* Normalised mutual information, arithmetic-mean normalisation (scikit-learn's default). */
StatusCode metric_nmi(const int *a, const int *b, int n, double *nmi, Status *st);
/* Minimum-cost assignment of a rows x cols cost matrix (rows <= cols or rows > cols), O(k^3):
 * assign[r] = the column of row r, or -1 for rows left over. */
StatusCode hungarian(const double *cost, int rows, int cols, int *assign, Status *st);
/* Accuracy after matching predicted clusters to true classes one-to-one (Hungarian). */
StatusCode metric_matched_accuracy(const int *truth, const int *pred, int n, double *acc,
                                   Status *st);
/* cm (caller's, n_classes^2): cm[t * n_classes + p] counts truth t predicted p; labels must be
 * in [0, n_classes). */
StatusCode metric_confusion(const int *truth, const int *pred, int n, int n_classes, long *cm,
                            Status *st);

typedef struct {
    double *precision, *recall, *f1; /* caller's, n_classes each (0 when undefined, as sklearn) */
    long *support;                   /* caller's, n_classes */
    double accuracy;
    double macro_precision, macro_recall, macro_f1;
    double weighted_precision, weighted_recall, weighted_f1;
} ClassReport;

StatusCode metric_report(const int *truth, const int *pred, int n, int n_classes,
                         ClassReport *r, Status *st);

/* ---------------------------------------------------------------- splits */

/* is_test (caller's, n): 1 for the ceil(test_fraction * n) test rows, drawn per class in
 * proportion to its size (largest remainders), seeded. Labels >= 0. */
StatusCode split_stratified(const int *y, int n, double test_fraction, uint64_t seed,
                            unsigned char *is_test, Status *st);
/* fold (caller's, n): 0..k-1; every class spread over the folds within one row of even. */
StatusCode split_stratified_kfold(const int *y, int n, int k, uint64_t seed, int *fold,
                                  Status *st);

/* ================================================================ t-SNE, KNN, linear SVM
 * (tsne.c, vptree.c, quadtree.c, knn.c, kdtree.c, svm.c)
 *
 * Neighbour searches are exact, with distances in double; equidistant neighbours are ordered
 * by row index (lowest first). Fitted models own their arrays until *_free. */

/* ---------------------------------------------------------------- kd-tree */

typedef struct {
    int begin, end;    /* rows [begin, end) of the tree order */
    int left, right;   /* child nodes; -1 for a leaf */
} KdNode;              /* followed in memory by its box: the lower, then the upper corner of
                        * its rows (d floats each), so one node is one cache line at d = 6 */

typedef struct {
    int n, d, leaf_size, node_count;
    float *points;     /* n x d in tree order, owned */
    int *index;        /* tree order -> original row, owned */
    unsigned char *nodes; /* node_count records of node_stride bytes, owned */
    size_t node_stride;
} KdTree;

/* Splits on the dimension of widest spread at the median (scikit-learn's rule); d <= 64. */
#define KDTREE_MAX_D 64
StatusCode kdtree_build(KdTree *t, const float *x, int n, int d, int leaf_size, Status *st);
/* The k nearest rows of q (k <= n): idx[k] ascending by (squared distance, row), sqdist[k]
 * their squared distances (both caller's). Thread-safe. */
void kdtree_query(const KdTree *t, const float *q, int k, int *idx, double *sqdist);
void kdtree_free(KdTree *t);

/* ---------------------------------------------------------------- vantage-point tree */

typedef struct {
    int index;         /* the vantage point (original row) */
    double radius;     /* inside child: rows at distance < radius */
    int inside, outside; /* child nodes, -1 when empty */
} VpNode;

typedef struct {
    int n, d;
    const float *x;    /* the caller's data, n x d, which must outlive the tree */
    VpNode *nodes;     /* n nodes, one per row, owned */
    int root;
} VpTree;

/* Vantage points drawn with the seed (Yianilos 1993; as van der Maaten's bhtsne). */
StatusCode vptree_build(VpTree *t, const float *x, int n, int d, uint64_t seed, Status *st);
/* The k nearest rows of q other than row `exclude` (-1: none; k <= rows left): idx[k]
 * ascending by (distance, row), dist[k] their Euclidean distances (both caller's).
 * Thread-safe. */
void vptree_query(const VpTree *t, const float *q, int k, int exclude, int *idx, double *dist);
void vptree_free(VpTree *t);

/* ---------------------------------------------------------------- quadtree (Barnes-Hut) */

typedef struct {
    double sx, sy;           /* sums of the coordinates of the points below */
    double x0, y0, x1, y1;   /* cell bounds */
    int size;                /* points below (duplicates included) */
    int child[4];            /* -1 when absent; all -1 for a leaf */
    int cell;                /* its place in the flattened cells */
    int first, last;         /* a leaf's points in insertion order, linked through
                              * QuadTree.next; -1 for none */
} QuadNode;

/* The tree flattened in depth-first order for the force pass: a cell's subtree is the cells
 * after it up to `skip` (a leaf is the cell whose skip is the next one), so a traversal is
 * one forward sweep with jumps and no stack; float, as scikit-learn's cells, for density. */
typedef struct {
    float cx, cy, size;      /* barycentre and number of points */
    float width2;            /* squared width of the cell */
    int skip;                /* the first cell after this one's subtree */
} QuadCell;

typedef struct {
    QuadNode *nodes;         /* owned; grows geometrically, so rebuilding every iteration
                              * stops allocating after the first few */
    int count, capacity;
    QuadCell *cells;         /* count of them, owned, same growth */
    int cell_capacity;
    int *next;               /* per point, the next point of its leaf or -1, owned */
    int *leaf_order;         /* the points in depth-first leaf order, owned */
    int point_capacity;      /* of next and leaf_order; same growth */
    struct QuadBuild *build; /* quadtree_build's working memory for building subtrees on
                              * several threads, owned (NULL until a large build) */
} QuadTree;

/* Rebuilds the tree over n 2-D points (n x 2, float), reusing the node storage, inserting them
 * in `order` (n indices, or NULL for 0..n-1: an order that keeps neighbours together keeps the
 * insertions in cache). Points closer than 1e-6 in both coordinates share a leaf
 * (scikit-learn's duplicate rule). From QT_PARALLEL_MIN_N points the subtrees below depth 2
 * are built on OpenMP threads; the cells are the same bits as one thread inserting them all. */
#define QT_PARALLEL_MIN_N 4096
StatusCode quadtree_build(QuadTree *t, const float *y, int n, const int *order, Status *st);
/* Barnes-Hut repulsion on one point, scikit-learn's walk exactly (the reference the grouped
 * walk below, which t-SNE runs, is tested against): sum over summarised cells (leaves, or cells whose
 * squared width / squared distance < theta2) of size * q^2 * (p - barycentre) into force[2],
 * and of size * q into *sum_q, with q = 1 / (1 + squared distance); the point's own leaf is
 * skipped. Thread-safe. */
void quadtree_repulsion(const QuadTree *t, const float *p, double theta2, double *force,
                        double *sum_q);
/* The same for QT_GROUP points at once (p: QT_GROUP x 2), walking the union of the cells they
 * need: a cell is summarised only when the criterion holds for every one of them, so each is
 * treated at least as finely as alone. force: QT_GROUP x 2, sum_q: QT_GROUP; float arithmetic
 * (as scikit-learn's), an AVX2 kernel when simd_active() allows, else its scalar twin (the same
 * bits). */
#define QT_GROUP 8
void quadtree_repulsion_group(const QuadTree *t, const float *p, float theta2, double *force,
                              double *sum_q);
/* The n points of the last build in depth-first leaf order (each leaf's in insertion order),
 * so that consecutive ones are close: groups of them share most of their cells. order:
 * caller's, n; TK_EINVAL when the last build was not over n points. */
StatusCode quadtree_order(const QuadTree *t, int n, int *order, Status *st);
void quadtree_free(QuadTree *t);

/* ---------------------------------------------------------------- KNN classifier */

typedef enum { KNN_UNIFORM = 0, KNN_DISTANCE = 1 } KnnWeights;
typedef enum { KNN_AUTO = 0, KNN_KDTREE = 1, KNN_BRUTE = 2 } KnnAlgorithm;

/* AUTO: kd-tree up to this many features, SIMD brute force above. */
#define KNN_KDTREE_MAX_D 12

typedef struct {
    int n, d, k, n_classes;
    KnnWeights weights;
    KnnAlgorithm algorithm; /* the one in use: KNN_KDTREE or KNN_BRUTE */
    int *labels;            /* n, owned */
    KdTree tree;            /* KNN_KDTREE */
    double *blocks;         /* KNN_BRUTE: rows in blocks of 4, feature-major, owned */
} KnnClassifier;

/* Labels are 0..n_classes-1 (n_classes = largest + 1); 1 <= k <= n. */
StatusCode knn_fit(KnnClassifier *m, const float *x, const int *y, int n, int d, int k,
                   KnnWeights weights, KnnAlgorithm algorithm, Status *st);
/* The k nearest training rows of each query: idx (nq x k) ascending by (distance, row), dist
 * (nq x k, Euclidean) may be NULL. OpenMP over queries. */
StatusCode knn_kneighbors(const KnnClassifier *m, const float *q, int nq, int *idx,
                          double *dist, Status *st);
/* scikit-learn's rules: the most (weighted) votes, the lowest label on a tie; with distance
 * weights 1/distance, and a query at distance 0 from some rows is decided by those alone. */
StatusCode knn_predict(const KnnClassifier *m, const float *q, int nq, int *pred, Status *st);
/* proba: nq x n_classes, the normalised (weighted) votes. */
StatusCode knn_predict_proba(const KnnClassifier *m, const float *q, int nq, float *proba,
                             Status *st);
void knn_free(KnnClassifier *m);

/* ---------------------------------------------------------------- linear SVM */

typedef enum { SVM_SQUARED_HINGE = 0, SVM_HINGE = 1 } SvmLoss;
/* OVR: one class against the rest (LinearSVC); OVO: one model per pair of classes and a vote
 * (as SVC(kernel="linear")). */
typedef enum { SVM_OVR = 0, SVM_OVO = 1 } SvmMulticlass;

typedef struct {
    double C;                 /* 1 */
    double tol;               /* on the projected-gradient gap, 1e-4 */
    int max_iter;             /* passes over the data, 1000 */
    double intercept_scaling; /* the constant extra feature (regularised like the rest), 1;
                               * 0 = no intercept */
    SvmLoss loss;
    SvmMulticlass multiclass;
    uint64_t seed;            /* coordinate order */
} SvmParams;

/* scikit-learn's LinearSVC defaults: squared hinge, one-vs-rest, C 1, tol 1e-4, 1000 passes. */
SvmParams svm_params_default(void);

typedef struct {
    int d, n_classes, n_models; /* n_models: 1 for two classes (positive = class 1), else
                                 * n_classes (OVR) or n_classes(n_classes-1)/2 (OVO, pairs
                                 * (0,1), (0,2), ..., positive = the first) */
    SvmMulticlass multiclass;
    float *coef;                /* n_models x d, owned */
    float *intercept;           /* n_models, owned */
    int n_iter;                 /* largest number of passes of any model */
    int converged;              /* every model met tol before max_iter */
} LinearSvm;

/* Dual coordinate descent (Hsieh et al., ICML 2008; liblinear's solver with shrinking), one
 * model per class or pair, OpenMP over models. Labels 0..n_classes-1. */
StatusCode svm_fit(LinearSvm *m, const float *x, const int *y, int n, int d, const SvmParams *p,
                   Status *st);
/* scores: nq x n_models, w.x + b. */
void svm_decision(const LinearSvm *m, const float *q, int nq, float *scores);
/* OVR: the highest score (first on a tie); OVO: the most votes (lowest class on a tie). */
void svm_predict(const LinearSvm *m, const float *q, int nq, int *pred);
void svm_free(LinearSvm *m);

/* ---------------------------------------------------------------- t-SNE */

typedef enum { TSNE_BARNES_HUT = 0, TSNE_EXACT = 1 } TsneMethod;

typedef struct {
    TsneMethod method;
    double perplexity;         /* 30; < n */
    double early_exaggeration; /* 12, for the first 250 iterations */
    double learning_rate;      /* <= 0: 'auto', max(n / early_exaggeration / 4, 50) */
    int n_iter;                /* 1000 (at least 250) */
    int n_iter_without_progress; /* 300 */
    double min_grad_norm;      /* 1e-7 */
    double angle;              /* Barnes-Hut theta, 0.5 */
    uint64_t seed;             /* vantage points */
    /* Called every 50 iterations (may be NULL): iteration done, KL at that point. */
    void (*progress)(void *ctx, int iter, double kl);
    void *progress_ctx;
} TsneParams;

/* scikit-learn 1.2's defaults (Barnes-Hut, PCA initialisation). */
TsneParams tsne_params_default(void);

typedef struct {
    double kl;   /* KL divergence at the last iteration, computed as scikit-learn does */
    int n_iter;  /* iterations run */
} TsneResult;

/* The exact method keeps n x n probabilities (double while calibrating, then float). */
#define TSNE_EXACT_MAX_N 5000

/* embedding: caller's, n x 2. Needs d >= 2 (PCA initialisation). The same seed gives the same
 * bytes whatever the thread count. */
StatusCode tsne_fit(const float *x, int n, int d, const TsneParams *p, float *embedding,
                    TsneResult *res, Status *st);

/* The symmetric joint probabilities, sparse rows (CSR). */
typedef struct {
    int n;
    int *row_start; /* n + 1, owned */
    int *col;       /* row_start[n], owned */
    float *val;     /* row_start[n], owned */
} TsneP;

/* Barnes-Hut's P: perplexity calibrated by binary search (scikit-learn's, tolerance 1e-5) on
 * the min(n - 1, 3 * perplexity + 1) nearest neighbours (vantage-point tree), P + P^T,
 * normalised to sum 1. */
StatusCode tsne_p_neighbors(const float *x, int n, int d, double perplexity, uint64_t seed,
                            TsneP *P, Status *st);
/* Exact method's P: dense n x n (caller's), zero diagonal, every other entry at least DBL_EPSILON. */
StatusCode tsne_p_exact(const float *x, int n, int d, double perplexity, double *P, Status *st);
void tsne_p_free(TsneP *P);

#endif
