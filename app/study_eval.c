/* study_eval.c — how well the unsupervised actions match labels a person gave: the truth file
 * is read row for row beside the input, scored with the Hungarian-matched accuracy, ARI, NMI
 * and per-class precision/recall/F1, and the seed's unseen-recording protocol. The truth only
 * ever enters here, after the clustering. */
#include "study.h"
#include "../cluster/cluster.h"

#include <stdlib.h>
#include <string.h>

void study_free_names(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

StatusCode study_read_truth(const char *path, const Keypoints *k, int *ids, char ***names,
                            int *n_names, Status *st)
{
    static const char *const text_cols[] = {"label", NULL};
    CsvReader *r;
    StatusCode rc = csv_reader_open(&r, path, text_cols, st);
    if (rc)
        return rc;
    const int cols = csv_reader_cols(r);
    int c_label = -1, c_frame = -1, c_seq = -1;
    for (int c = 0; c < cols; c++) {
        const char *name = csv_reader_name(r, c);
        if (!strcmp(name, "label"))
            c_label = c;
        else if (!strcmp(name, "frame"))
            c_frame = c;
        else if (!strcmp(name, "seq_id"))
            c_seq = c;
    }
    char **strings = calloc((size_t)k->n_frames + 1, sizeof *strings);
    float *values = malloc(sizeof *values * (size_t)cols);
    const char **text = malloc(sizeof *text * (size_t)cols);
    if (!strings || !values || !text)
        rc = status_fail(st, TK_ENOMEM, "%s: cannot hold %d labels", path, k->n_frames);
    else if (c_label < 0 || c_frame < 0)
        rc = status_fail(st, TK_EFORMAT, "%s: line 1: needs the columns frame and label "
                         "(and seq_id for a multi-sequence input)", path);
    int n = 0;
    while (!rc) {
        int got;
        rc = csv_reader_next(r, values, text, &got, st);
        if (rc || !got)
            break;
        if (n >= k->n_frames) {
            rc = status_fail(st, TK_EFORMAT, "%s: line %ld: more rows than the input's %d "
                             "frames", path, csv_reader_line(r), k->n_frames);
            break;
        }
        if ((int)values[c_frame] != k->frame[n] ||
            (c_seq >= 0 && (int)values[c_seq] != k->seq[n])) {
            rc = status_fail(st, TK_EFORMAT, "%s: line %ld: frame %d (sequence %d) where the "
                             "input's row %d is frame %d (sequence %d)", path,
                             csv_reader_line(r), (int)values[c_frame],
                             c_seq >= 0 ? (int)values[c_seq] : 0, n, k->frame[n], k->seq[n]);
            break;
        }
        strings[n] = strdup(text[c_label]);
        if (!strings[n])
            rc = status_fail(st, TK_ENOMEM, "%s: out of memory", path);
        n++;
    }
    if (!rc && n != k->n_frames)
        rc = status_fail(st, TK_EFORMAT, "%s: %d label rows for %d input frames", path, n,
                         k->n_frames);
    char **sorted = NULL;
    if (!rc)
        rc = labels_to_ids(strings, n, ids, &sorted, n_names, st);
    if (!rc) {
        /* Own copies of the distinct names, so the row strings can go. */
        *names = calloc((size_t)*n_names, sizeof **names);
        for (int i = 0; *names && i < *n_names; i++)
            (*names)[i] = strdup(sorted[i]);
        if (!*names)
            rc = status_fail(st, TK_ENOMEM, "%s: out of memory", path);
    }
    free(sorted);
    if (strings)
        for (int i = 0; i < n; i++)
            free(strings[i]);
    free(strings);
    free(values);
    free(text);
    csv_reader_close(r);
    return rc;
}

void study_scores_free(StudyScores *s)
{
    free(s->precision);
    free(s->recall);
    free(s->f1);
    free(s->support);
    free(s->cluster_to_class);
    free(s->confusion);
    memset(s, 0, sizeof *s);
}

/* assign[k]: the true class each cluster is matched to (maximum total agreement), -1 = none. */
static StatusCode match_clusters(const int *truth, int n_classes, const int *pred, int k, int n,
                                 int *assign, Status *st)
{
    double *cost = calloc((size_t)k * n_classes, sizeof *cost);
    if (!cost)
        return status_fail(st, TK_ENOMEM, "evaluation: out of memory");
    for (int i = 0; i < n; i++)
        if (pred[i] >= 0 && pred[i] < k)
            cost[(size_t)pred[i] * n_classes + truth[i]] -= 1.0;
    StatusCode rc = hungarian(cost, k, n_classes, assign, st);
    free(cost);
    return rc;
}

StatusCode study_score(const int *truth, int n_classes, const int *pred, int k, int n,
                       StudyScores *s, Status *st)
{
    memset(s, 0, sizeof *s);
    s->n_classes = n_classes;
    s->k = k;
    s->precision = calloc((size_t)n_classes, sizeof *s->precision);
    s->recall = calloc((size_t)n_classes, sizeof *s->recall);
    s->f1 = calloc((size_t)n_classes, sizeof *s->f1);
    s->support = calloc((size_t)n_classes, sizeof *s->support);
    s->cluster_to_class = calloc((size_t)k, sizeof *s->cluster_to_class);
    s->confusion = calloc((size_t)n_classes * (k + 1), sizeof *s->confusion);
    long *tp = calloc((size_t)n_classes * 2, sizeof *tp), *predicted = tp + n_classes;
    StatusCode rc = TK_OK;
    if (!s->precision || !s->recall || !s->f1 || !s->support || !s->cluster_to_class ||
        !s->confusion || !tp)
        rc = status_fail(st, TK_ENOMEM, "evaluation: out of memory");
    if (!rc)
        rc = metric_matched_accuracy(truth, pred, n, &s->accuracy, st);
    if (!rc)
        rc = metric_ari(truth, pred, n, &s->ari, st);
    if (!rc)
        rc = metric_nmi(truth, pred, n, &s->nmi, st);
    if (!rc)
        rc = match_clusters(truth, n_classes, pred, k, n, s->cluster_to_class, st);
    if (!rc) {
        for (int i = 0; i < n; i++) {
            const int m = pred[i] >= 0 ? s->cluster_to_class[pred[i]] : -1;
            s->support[truth[i]]++;
            s->confusion[(size_t)truth[i] * (k + 1) + (pred[i] >= 0 ? pred[i] : k)]++;
            if (m >= 0)
                predicted[m]++;
            if (m == truth[i])
                tp[m]++;
        }
        for (int c = 0; c < n_classes; c++) {
            s->precision[c] = predicted[c] ? (double)tp[c] / predicted[c] : 0;
            s->recall[c] = s->support[c] ? (double)tp[c] / s->support[c] : 0;
            const double pr = s->precision[c] + s->recall[c];
            s->f1[c] = pr > 0 ? 2 * s->precision[c] * s->recall[c] / pr : 0;
        }
    }
    free(tp);
    if (rc)
        study_scores_free(s);
    return rc;
}

StatusCode study_holdout(const float *z, int n_windows, int d, const int *starts, int len,
                         const Keypoints *k, const int *truth, int n_classes, int n_clusters,
                         int min_frames, uint64_t seed, StudyHoldout *h, Status *st)
{
    memset(h, 0, sizeof *h);
    const int n = k->n_frames, cut = n * 4 / 5;
    int n_fit = 0;
    while (n_fit < n_windows && starts[n_fit] + window_frames(k, starts[n_fit], len) <= cut)
        n_fit++;
    if (n_fit < n_clusters)
        return status_fail(st, TK_EINVAL, "unseen-recording protocol: %d windows in the first "
                           "80 %% of the frames, fewer than %d clusters", n_fit, n_clusters);
    float *centers = malloc(sizeof(float) * (size_t)n_clusters * d);
    int *win = malloc(sizeof(int) * (size_t)n_windows);
    int *votes = malloc(sizeof(int) * (size_t)n_clusters);
    int *frame = malloc(sizeof(int) * (size_t)n);
    int *assign = malloc(sizeof(int) * (size_t)n_clusters);
    float *conf = malloc(sizeof(float) * (size_t)n);
    StudySegment *segs = NULL;
    int n_segs = 0;
    StatusCode rc = TK_OK;
    if (!centers || !win || !votes || !frame || !assign || !conf)
        rc = status_fail(st, TK_ENOMEM, "unseen-recording protocol: out of memory");
    if (!rc) {
        KMeansParams p = kmeans_params_default(n_clusters);
        p.seed = seed;
        p.n_init = 4;
        KMeansResult res = {.centers = centers, .labels = win};
        rc = kmeans_fit(z, n_fit, d, &p, &res, st);
    }
    /* Every window, the held-out ones included, goes to its nearest training centre. */
    if (!rc)
        rc = kmeans_predict(z, n_windows, d, centers, n_clusters, win, NULL, st);
    if (!rc) {
        study_vote_frames(starts, n_windows, len, win, n_clusters, k, votes, frame, conf);
        rc = study_segments(frame, conf, n, min_frames, &segs, &n_segs, st);
    }
    if (!rc)
        rc = match_clusters(truth, n_classes, frame, n_clusters, cut, assign, st);
    if (!rc && n > cut) {
        long correct = 0;
        for (int f = cut; f < n; f++)
            correct += frame[f] >= 0 && assign[frame[f]] == truth[f];
        h->frame_accuracy = (double)correct / (n - cut);
        for (int a = cut; a < n;) {
            int b = a, hits = 0;
            while (b < n && truth[b] == truth[a] && k->seq[b] == k->seq[a]) {
                hits += frame[b] >= 0 && assign[frame[b]] == truth[b];
                b++;
            }
            h->operations++;
            h->recognised += 2 * hits > b - a;
            a = b;
        }
    }
    free(segs);
    free(centers);
    free(win);
    free(votes);
    free(frame);
    free(assign);
    free(conf);
    return rc;
}
