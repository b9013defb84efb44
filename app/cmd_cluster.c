/* cmd_cluster.c — `takt cluster DATA.csv --method M -o labels.csv`: clusters the rows of a
 * numeric CSV with k-means (k given, or chosen by the elbow), DBSCAN, mean-shift or
 * hierarchical agglomeration, writes one label per row (-1 = noise), prints the cluster
 * sizes, and on request draws the elbow curve, the k-distance curve, the dendrogram, and a
 * t-SNE map of the rows coloured by cluster. */
#include "../cluster/cluster.h"
#include "app.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLUSTER_VERB "cluster"
#define DEFAULT_K_MAX 10
#define DEFAULT_N_INIT 10       /* scikit-learn 1.2's KMeans default */
#define DEFAULT_MIN_SAMPLES 5   /* scikit-learn's DBSCAN default */
#define BANDWIDTH_QUANTILE 0.3  /* scikit-learn's estimate_bandwidth default */
#define SILHOUETTE_SAMPLE 2000

typedef enum { METHOD_KMEANS, METHOD_DBSCAN, METHOD_MEANSHIFT, METHOD_HIERARCHICAL } Method;

static const char *const method_names[] = {"kmeans", "dbscan", "meanshift", "hierarchical"};

typedef struct {
    const char *data, *out, *plot, *elbow, *dendrogram, *kdist, *ignore;
    Method method;
    int k;              /* 0 = auto */
    int k_max, n_init, min_samples, bin_seeding;
    double eps;         /* NAN = not given, INFINITY = auto (the k-distance knee) */
    double bandwidth;   /* NAN = auto */
    double perplexity;  /* 0 = min(30, (n - 1) / 3) */
    Linkage linkage;
    uint64_t seed;
    /* which method-specific options were given, to refuse those that do not apply */
    const char *k_opt, *eps_opt, *ms_opt, *bw_opt, *link_opt;
} ClusterArgs;

static void cluster_usage(void) {
    printf("usage: takt cluster DATA.csv --method M -o LABELS.csv [options]\n\n"
           "Clusters the rows of DATA.csv (numeric CSV with a header) and writes row,label\n"
           "(label -1 = noise) to LABELS.csv.\n\n"
           "  --method kmeans|dbscan|meanshift|hierarchical   (kmeans)\n"
           "  --k N|auto          clusters for kmeans (auto: the elbow's knee, the default)\n"
           "                      and hierarchical (required)\n"
           "  --k-max N           largest k the elbow tries (%d)\n"
           "  --n-init N          k-means runs from different seeds, best kept (%d)\n"
           "  --eps E|auto        DBSCAN radius, > 0 (required for dbscan; auto: the knee of\n"
           "                      the sorted k-distance curve, k = min-samples - 1)\n"
           "  --min-samples M     DBSCAN core point neighbours, itself included (%d)\n"
           "  --bandwidth B|auto  mean-shift radius (auto: scikit-learn's estimate_bandwidth)\n"
           "  --bin-seeding       mean-shift seeds from a grid instead of every row\n"
           "  --linkage ward|complete|average|single   hierarchical linkage (ward)\n"
           "  --seed S            random seed (0)\n"
           "  --ignore A,B        more columns that are not features (label, seq_id, frame\n"
           "                      and time_s never are)\n"
           "  --plot FILE.png     t-SNE map of the rows coloured by cluster (the data itself\n"
           "                      when it has 1 or 2 feature columns)\n"
           "  --perplexity P      t-SNE perplexity for --plot (min(30, (rows - 1) / 3))\n"
           "  --elbow FILE.png    inertia for k = 1..k-max with the chosen k marked (kmeans)\n"
           "  --dendrogram FILE.png   the merge tree with the cut marked (hierarchical)\n"
           "  --kdist FILE.png    sorted k-distance curve with the suggested eps (dbscan)\n",
           DEFAULT_K_MAX, DEFAULT_N_INIT, DEFAULT_MIN_SAMPLES);
}

/* Reads the command line into a; returns EXIT_OK or EXIT_USAGE (after printing why). */
static int parse_args(int argc, char **argv, ClusterArgs *a) {
    memset(a, 0, sizeof *a);
    a->k_max = DEFAULT_K_MAX;
    a->n_init = DEFAULT_N_INIT;
    a->min_samples = DEFAULT_MIN_SAMPLES;
    a->eps = NAN;
    a->bandwidth = NAN;
    a->linkage = LINKAGE_WARD;
    int rc = EXIT_OK;
    for (int i = 1; i < argc && rc == EXIT_OK; i++) {
        const char *o = argv[i], *v = NULL;
        if (o[0] != '-' || !o[1]) {
            if (a->data)
                return app_usage_error(CLUSTER_VERB, "one DATA.csv expected, got '%s' and '%s'",
                                       a->data, o);
            a->data = o;
            continue;
        }
        if (!strcmp(o, "--bin-seeding")) {
            a->bin_seeding = 1;
            a->bw_opt = o;
            continue;
        }
        static const char *const with_value[] = {
            "-o", "--method", "--k", "--k-max", "--n-init", "--eps", "--min-samples",
            "--bandwidth", "--linkage", "--seed", "--ignore", "--plot", "--perplexity",
            "--elbow", "--dendrogram", "--kdist", NULL};
        int known = 0;
        for (int w = 0; with_value[w]; w++)
            known |= !strcmp(o, with_value[w]);
        if (!known)
            return app_usage_error(CLUSTER_VERB, "unknown option '%s'", o);
        if (!(v = app_option_value(CLUSTER_VERB, argc, argv, &i)))
            return EXIT_USAGE;
        if (!strcmp(o, "-o")) {
            a->out = v;
        } else if (!strcmp(o, "--plot")) {
            a->plot = v;
        } else if (!strcmp(o, "--elbow")) {
            a->elbow = v;
        } else if (!strcmp(o, "--dendrogram")) {
            a->dendrogram = v;
        } else if (!strcmp(o, "--kdist")) {
            a->kdist = v;
        } else if (!strcmp(o, "--ignore")) {
            a->ignore = v;
        } else if (!strcmp(o, "--method")) {
            int m = -1;
            for (int k = 0; k < 4; k++)
                if (!strcmp(v, method_names[k]))
                    m = k;
            if (m < 0)
                return app_usage_error(CLUSTER_VERB, "--method '%s': expected kmeans, dbscan, "
                                       "meanshift or hierarchical", v);
            a->method = (Method)m;
        } else if (!strcmp(o, "--k")) {
            a->k_opt = o;
            a->k = 0;
            if (strcmp(v, "auto") != 0)
                rc = app_parse_int(CLUSTER_VERB, o, v, 1, 1000000, &a->k);
        } else if (!strcmp(o, "--k-max")) {
            a->k_opt = o;
            rc = app_parse_int(CLUSTER_VERB, o, v, 2, 1000, &a->k_max);
        } else if (!strcmp(o, "--n-init")) {
            a->k_opt = o;
            rc = app_parse_int(CLUSTER_VERB, o, v, 1, 1000, &a->n_init);
        } else if (!strcmp(o, "--eps")) {
            a->eps_opt = o;
            if (!strcmp(v, "auto"))
                a->eps = INFINITY;
            else
                rc = app_parse_double(CLUSTER_VERB, o, v, &a->eps);
        } else if (!strcmp(o, "--min-samples")) {
            a->ms_opt = o;
            rc = app_parse_int(CLUSTER_VERB, o, v, 1, 1000000, &a->min_samples);
        } else if (!strcmp(o, "--bandwidth")) {
            a->bw_opt = o;
            a->bandwidth = NAN;
            if (strcmp(v, "auto") != 0)
                rc = app_parse_double(CLUSTER_VERB, o, v, &a->bandwidth);
        } else if (!strcmp(o, "--linkage")) {
            a->link_opt = o;
            const int l = linkage_parse(v);
            if (l < 0)
                return app_usage_error(CLUSTER_VERB, "--linkage '%s': expected ward, complete, "
                                       "average or single", v);
            a->linkage = (Linkage)l;
        } else if (!strcmp(o, "--seed")) {
            rc = app_parse_seed(CLUSTER_VERB, v, &a->seed);
        } else if (!strcmp(o, "--perplexity")) {
            rc = app_parse_double(CLUSTER_VERB, o, v, &a->perplexity);
        }
    }
    if (rc != EXIT_OK)
        return rc;
    if (!a->data)
        return app_usage_error(CLUSTER_VERB, "missing DATA.csv");
    if (!a->out)
        return app_usage_error(CLUSTER_VERB, "missing -o LABELS.csv");
    const Method m = a->method;
    const char *misplaced = m != METHOD_KMEANS && m != METHOD_HIERARCHICAL && a->k_opt ? a->k_opt
                            : m != METHOD_DBSCAN && (a->eps_opt || a->ms_opt)
                                ? (a->eps_opt ? a->eps_opt : a->ms_opt)
                            : m != METHOD_MEANSHIFT && a->bw_opt       ? a->bw_opt
                            : m != METHOD_HIERARCHICAL && a->link_opt  ? a->link_opt
                            : m != METHOD_KMEANS && a->elbow           ? "--elbow"
                            : m != METHOD_HIERARCHICAL && a->dendrogram ? "--dendrogram"
                            : m != METHOD_DBSCAN && a->kdist           ? "--kdist"
                                                                       : NULL;
    if (misplaced)
        return app_usage_error(CLUSTER_VERB, "%s does not apply to --method %s", misplaced,
                               method_names[m]);
    if (m == METHOD_DBSCAN && isnan(a->eps))
        return app_usage_error(CLUSTER_VERB, "--method dbscan needs --eps");
    if (m == METHOD_HIERARCHICAL && a->k == 0)
        return app_usage_error(CLUSTER_VERB, "--method hierarchical needs --k N");
    return EXIT_OK;
}

/* ---------------------------------------------------------------- methods */

static StatusCode write_labels(const char *path, const int *labels, int n, Status *st) {
    AtomicFile out;
    StatusCode code = atomic_open(&out, path, st);
    if (code != TK_OK)
        return code;
    fprintf(out.fp, "row,label\n");
    for (int i = 0; i < n; i++)
        fprintf(out.fp, "%d,%d\n", i, labels[i]);
    return atomic_commit(&out, st);
}

/* The elbow curve for k = 1..k_max, its knee, and (when png) its plot with `chosen` marked. */
static StatusCode run_elbow(const ClusterArgs *a, const Features *f, int *knee, Status *st) {
    const int k_max = a->k_max < f->n ? a->k_max : f->n;
    double *inertia = malloc(sizeof *inertia * (size_t)k_max);
    double *silhouette = malloc(sizeof *silhouette * (size_t)k_max);
    if (!inertia || !silhouette) {
        free(inertia);
        free(silhouette);
        return status_fail(st, TK_ENOMEM, "out of memory");
    }
    ElbowParams p = {.k_max = k_max, .km = kmeans_params_default(1),
                     .silhouette_sample = f->n > SILHOUETTE_SAMPLE ? SILHOUETTE_SAMPLE : 0};
    p.km.n_init = a->n_init;
    p.km.seed = a->seed;
    ElbowResult r = {.inertia = inertia, .silhouette = silhouette};
    Progress prog;
    progress_start(&prog, "elbow (k-means for each k)", k_max, "k");
    StatusCode code = elbow_fit(f->x, f->n, f->d, &p, &r, st);
    progress_end(&prog, NULL);
    if (code == TK_OK) {
        *knee = r.knee_k;
        printf("elbow: knee at k = %d (silhouette prefers k = %d)\n", r.knee_k,
               r.best_silhouette_k);
    }
    if (code == TK_OK && a->elbow) {
        const int chosen = a->k > 0 ? a->k : r.knee_k;
        char mark[64];
        if (chosen == r.knee_k)
            snprintf(mark, sizeof mark, "k = %d (knee)", chosen);
        else
            snprintf(mark, sizeof mark, "k = %d (knee at %d)", chosen, r.knee_k);
        PlotSeries s = {"inertia", NULL, inertia, k_max, 1};
        LinePlotOptions o = {{0, 0, "Elbow: k-means inertia by k", "k (clusters)", "inertia"},
                             0, chosen, mark};
        code = plot_lines(a->elbow, &o, &s, 1, st);
    }
    free(inertia);
    free(silhouette);
    return code;
}

static StatusCode run_kmeans(const ClusterArgs *a, const Features *f, int *labels, Status *st) {
    int k = a->k;
    if (k > f->n)
        return status_fail(st, TK_EINVAL, "%s: --k %d is more than the %d rows", a->data, k,
                           f->n);
    if (k == 0 || a->elbow) {
        int knee = 0;
        if (run_elbow(a, f, &knee, st) != TK_OK)
            return app_status_prefix(st, a->data);
        if (k == 0)
            k = knee;
    }
    KMeansParams p = kmeans_params_default(k);
    p.n_init = a->n_init;
    p.seed = a->seed;
    float *centers = malloc(sizeof *centers * (size_t)k * f->d);
    if (!centers)
        return status_fail(st, TK_ENOMEM, "out of memory for %d centres", k);
    KMeansResult r = {.centers = centers, .labels = labels};
    Progress prog;
    progress_start(&prog, "k-means", 0, NULL);
    StatusCode code = kmeans_fit(f->x, f->n, f->d, &p, &r, st);
    progress_end(&prog, NULL);
    free(centers);
    if (code != TK_OK)
        return app_status_prefix(st, a->data);
    printf("k-means: k = %d, inertia %.6g, %d iterations (best of %d runs)\n", k, r.inertia,
           r.n_iter, a->n_init);
    return TK_OK;
}

/* The distance of every row to its k-th nearest other row, sorted decreasing: its knee (the
 * elbow rule) separates the dense rows from the noise, and suggests eps. */
static StatusCode kdistance_eps(const ClusterArgs *a, const Features *f, double *eps,
                                Status *st) {
    const int k = a->min_samples > 1 ? a->min_samples - 1 : 1;
    if (k >= f->n)
        return status_fail(st, TK_EINVAL, "%s: the k-distance needs more than %d rows (has %d)",
                           a->data, k, f->n);
    float *dist = malloc(sizeof *dist * (size_t)f->n);
    double *curve = malloc(sizeof *curve * (size_t)f->n);
    StatusCode code = dist && curve ? dbscan_kdistance(f->x, f->n, f->d, k, dist, st)
                                    : status_fail(st, TK_ENOMEM, "out of memory");
    if (code == TK_OK) {
        for (int i = 0; i < f->n; i++)
            curve[i] = dist[i];
        const int knee = elbow_knee(curve, f->n);
        *eps = curve[knee - 1];
        printf("k-distance (k = %d): knee at row %d of %d suggests eps %.6g\n", k, knee, f->n,
               *eps);
        if (a->kdist) {
            char mark[64], y_label[64];
            snprintf(mark, sizeof mark, "eps = %.4g", *eps);
            snprintf(y_label, sizeof y_label, "distance to neighbour %d", k);
            PlotSeries s = {NULL, NULL, curve, f->n, f->n <= 200};
            LinePlotOptions o = {{0, 0, "DBSCAN: sorted k-distances", "rows, by decreasing "
                                  "distance", y_label}, 0, knee, mark};
            code = plot_lines(a->kdist, &o, &s, 1, st);
        }
    } else {
        code = app_status_prefix(st, a->data);
    }
    free(dist);
    free(curve);
    return code;
}

static StatusCode run_dbscan(const ClusterArgs *a, const Features *f, int *labels, Status *st) {
    double eps = a->eps;
    if (!(eps > 0))
        return status_fail(st, TK_EINVAL, "--eps %g: the DBSCAN radius must be > 0", eps);
    if (isinf(eps) || a->kdist) {
        double suggested = eps;
        StatusCode code = kdistance_eps(a, f, &suggested, st);
        if (code != TK_OK)
            return code;
        if (isinf(eps))
            eps = suggested;
    }
    DbscanParams p = {eps, a->min_samples};
    int n_clusters = 0;
    if (dbscan_fit(f->x, f->n, f->d, &p, labels, &n_clusters, NULL, st) != TK_OK)
        return app_status_prefix(st, a->data);
    printf("DBSCAN: eps %g, min_samples %d: %d clusters\n", eps, a->min_samples, n_clusters);
    return TK_OK;
}

static StatusCode run_meanshift(const ClusterArgs *a, const Features *f, int *labels,
                                Status *st) {
    double bandwidth = a->bandwidth;
    if (!isnan(bandwidth) && !(bandwidth > 0))
        return status_fail(st, TK_EINVAL, "--bandwidth %g: must be > 0 (or auto)", bandwidth);
    if (isnan(bandwidth)) {
        if (meanshift_estimate_bandwidth(f->x, f->n, f->d, BANDWIDTH_QUANTILE, 0, a->seed,
                                         &bandwidth, st) != TK_OK)
            return app_status_prefix(st, a->data);
        printf("mean-shift: estimated bandwidth %.6g (quantile %.1f)\n", bandwidth,
               BANDWIDTH_QUANTILE);
    }
    MeanShiftParams p = meanshift_params_default(bandwidth);
    p.bin_seeding = a->bin_seeding;
    float *centers = NULL;
    int n_centers = 0;
    Progress prog;
    progress_start(&prog, "mean-shift", 0, NULL);
    StatusCode code = meanshift_fit(f->x, f->n, f->d, &p, &centers, &n_centers, labels, st);
    progress_end(&prog, NULL);
    free(centers);
    if (code != TK_OK)
        return app_status_prefix(st, a->data);
    printf("mean-shift: bandwidth %.6g: %d clusters\n", bandwidth, n_centers);
    return TK_OK;
}

/* A height between the merge that leaves k clusters and the next one (scipy's rows are
 * sorted by height): where the dendrogram is cut. */
static double cut_height_for_k(const double *Z, int n, int k) {
    if (k <= 1)
        return Z[4 * (n - 2) + 2] * 1.02 + 1e-12;
    if (k >= n)
        return Z[2] / 2;
    return (Z[4 * (n - k - 1) + 2] + Z[4 * (n - k) + 2]) / 2;
}

static StatusCode run_hierarchical(const ClusterArgs *a, const Features *f, int *labels,
                                   Status *st) {
    if (a->k > f->n)
        return status_fail(st, TK_EINVAL, "%s: --k %d is more than the %d rows", a->data, a->k,
                           f->n);
    double *Z = malloc(sizeof *Z * 4 * (size_t)(f->n > 1 ? f->n - 1 : 1));
    if (!Z)
        return status_fail(st, TK_ENOMEM, "out of memory for the linkage of %d rows", f->n);
    Progress prog;
    progress_start(&prog, "hierarchical linkage", 0, NULL);
    StatusCode code = hier_linkage(f->x, f->n, f->d, a->linkage, Z, st);
    progress_end(&prog, NULL);
    if (code == TK_OK)
        code = hier_cut_k(Z, f->n, a->k, labels, st);
    if (code != TK_OK) {
        free(Z);
        return app_status_prefix(st, a->data);
    }
    printf("hierarchical (%s linkage): cut into k = %d clusters\n", linkage_name(a->linkage),
           a->k);
    if (a->dendrogram) {
        char title[128];
        snprintf(title, sizeof title, "Dendrogram (%s linkage), cut at k = %d",
                 linkage_name(a->linkage), a->k);
        DendrogramOptions o = {{0, 0, title, NULL, "merge height"},
                               cut_height_for_k(Z, f->n, a->k), 0};
        code = plot_dendrogram(a->dendrogram, &o, Z, f->n, st);
    }
    free(Z);
    return code;
}

/* ---------------------------------------------------------------- report and plot */

static void print_sizes(const int *labels, int n) {
    int max = -1;
    for (int i = 0; i < n; i++)
        max = labels[i] > max ? labels[i] : max;
    int *count = calloc((size_t)max + 2, sizeof *count);
    if (!count)
        return;
    for (int i = 0; i < n; i++)
        count[labels[i] + 1]++;
    printf("cluster  rows\n");
    for (int c = 0; c <= max; c++)
        printf("%7d  %d\n", c, count[c + 1]);
    if (count[0])
        printf("  noise  %d\n", count[0]);
    free(count);
}

static StatusCode cluster_plot(const ClusterArgs *a, const Features *f, const int *labels,
                               Status *st) {
    char title[256];
    if (f->d == 1) {
        /* One feature: its value against the row number. */
        float *xy = malloc(sizeof *xy * 2 * (size_t)f->n);
        if (!xy)
            return status_fail(st, TK_ENOMEM, "out of memory for the plot of %d rows", f->n);
        for (int i = 0; i < f->n; i++) {
            xy[2 * i] = (float)i;
            xy[2 * i + 1] = f->x[i];
        }
        snprintf(title, sizeof title, "%s clusters", method_names[a->method]);
        PlotStyle style = {0, 0, title, "row", f->table.names[f->columns[0]]};
        StatusCode code = plot_scatter(a->plot, &style, xy, f->n, labels, NULL, 0, st);
        free(xy);
        return code;
    }
    if (f->d == 2) {
        snprintf(title, sizeof title, "%s clusters", method_names[a->method]);
        PlotStyle style = {0, 0, title, f->table.names[f->columns[0]],
                           f->table.names[f->columns[1]]};
        return plot_scatter(a->plot, &style, f->x, f->n, labels, NULL, 0, st);
    }
    double perplexity = a->perplexity > 0 ? a->perplexity : fmin(30.0, (f->n - 1) / 3.0);
    float *embedding = malloc(sizeof *embedding * 2 * (size_t)f->n);
    if (!embedding)
        return status_fail(st, TK_ENOMEM, "out of memory for the t-SNE of %d rows", f->n);
    StatusCode code = app_tsne(f->x, f->n, f->d, perplexity, 0, 0, a->seed, embedding, NULL, st);
    if (code != TK_OK)
        code = app_status_prefix(st, a->data);
    snprintf(title, sizeof title, "t-SNE of the rows, coloured by %s cluster",
             method_names[a->method]);
    if (code == TK_OK)
        code = app_tsne_plot(a->plot, title, embedding, f->n, labels, NULL, 0, st);
    free(embedding);
    return code;
}

int cmd_cluster(int argc, char **argv) {
    if (app_wants_help(argc, argv)) {
        cluster_usage();
        return EXIT_OK;
    }
    ClusterArgs a;
    int rc = parse_args(argc, argv, &a);
    if (rc != EXIT_OK)
        return rc;
    Status st = {0};
    Features f;
    if (features_load(&f, a.data, a.ignore, &st) != TK_OK)
        return app_fail(&st);
    int *labels = malloc(sizeof *labels * (size_t)f.n);
    StatusCode code = labels ? TK_OK : status_fail(&st, TK_ENOMEM, "out of memory");
    if (code == TK_OK) {
        printf("%s: %d rows x %d features\n", a.data, f.n, f.d);
        switch (a.method) {
        case METHOD_KMEANS:
            code = run_kmeans(&a, &f, labels, &st);
            break;
        case METHOD_DBSCAN:
            code = run_dbscan(&a, &f, labels, &st);
            break;
        case METHOD_MEANSHIFT:
            code = run_meanshift(&a, &f, labels, &st);
            break;
        case METHOD_HIERARCHICAL:
            code = run_hierarchical(&a, &f, labels, &st);
            break;
        }
    }
    if (code == TK_OK)
        code = write_labels(a.out, labels, f.n, &st);
    if (code == TK_OK)
        print_sizes(labels, f.n);
    if (code == TK_OK && a.plot)
        code = cluster_plot(&a, &f, labels, &st);
    free(labels);
    features_free(&f);
    return code == TK_OK ? EXIT_OK : app_fail(&st);
}
