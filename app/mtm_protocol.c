/* mtm_protocol.c — the seed's evaluation of an MTM-2 classifier: a stratified 80/20 split,
 * 10-fold stratified cross-validation on the 80 %, a refit on the 80 % tested on the 20 %
 * (the comparison table), and the same split under Gaussian noise of growing sigma on the
 * min-max scaled features, re-scaled after the noise (the seed's table 2). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtm.h"

#define MTM_TEST_FRACTION 0.2
#define MTM_CV_FOLDS 10

/* Rows with mask[i] == keep copied into sx, sy; returns how many. */
static int select_rows(const float *x, const int *y, int n, int d, const unsigned char *mask,
                       int keep, float *sx, int *sy)
{
    int m = 0;
    for (int i = 0; i < n; i++)
        if ((mask[i] != 0) == keep) {
            memcpy(sx + (size_t)m * d, x + (size_t)i * d, sizeof(float) * d);
            sy[m++] = y[i];
        }
    return m;
}

/* Fits on (tx, ty), predicts (qx) into pred; times in seconds (may be NULL). */
static StatusCode fit_and_predict(MtmKind kind, const float *tx, const int *ty, int nt,
                                  const float *qx, int nq, int d, int n_classes, uint64_t seed,
                                  float *scratch, int *pred, double *fit_s, double *pred_s,
                                  Status *st)
{
    MtmModel m;
    double t0 = time_now();
    StatusCode rc = mtm_model_fit(&m, kind, tx, ty, nt, d, n_classes, NULL, NULL, seed, st);
    if (rc)
        return rc;
    double t1 = time_now();
    rc = mtm_model_predict(&m, qx, nq, scratch, pred, NULL, st);
    double t2 = time_now();
    mtm_model_free(&m);
    if (fit_s)
        *fit_s = t1 - t0;
    if (pred_s)
        *pred_s = t2 - t1;
    return rc;
}

static double accuracy(const int *truth, const int *pred, int n)
{
    int right = 0;
    for (int i = 0; i < n; i++)
        right += truth[i] == pred[i];
    return n ? (double)right / n : 0.0;
}

typedef struct {
    unsigned char *mask;
    int *fold, *ty, *qy, *pred;
    float *tx, *qx, *scratch;
} Buffers;

static StatusCode buffers_new(Buffers *b, int n, int d, Status *st)
{
    memset(b, 0, sizeof *b);
    b->mask = malloc((size_t)n);
    b->fold = malloc(sizeof(int) * (size_t)n);
    b->ty = malloc(sizeof(int) * (size_t)n);
    b->qy = malloc(sizeof(int) * (size_t)n);
    b->pred = malloc(sizeof(int) * (size_t)n);
    b->tx = malloc(sizeof(float) * (size_t)n * d);
    b->qx = malloc(sizeof(float) * (size_t)n * d);
    b->scratch = malloc(sizeof(float) * (size_t)n * d);
    if (b->mask && b->fold && b->ty && b->qy && b->pred && b->tx && b->qx && b->scratch)
        return TK_OK;
    return status_fail(st, TK_ENOMEM, "mtm: out of memory for %d rows", n);
}

static void buffers_free(Buffers *b)
{
    free(b->mask), free(b->fold), free(b->ty), free(b->qy), free(b->pred);
    free(b->tx), free(b->qx), free(b->scratch);
}

StatusCode mtm_compare(MtmKind kind, const float *x, const int *y, int n, int d, int n_classes,
                       uint64_t seed, MtmCompareRow *row, Status *st)
{
    memset(row, 0, sizeof *row);
    row->kind = kind;
    Buffers b;
    StatusCode rc = buffers_new(&b, n, d, st);
    if (!rc)
        rc = split_stratified(y, n, MTM_TEST_FRACTION, seed, b.mask, st);
    if (rc)
        goto done;
    /* The 80 % (rows with mask 0) go first into a buffer of their own. */
    float *x80 = malloc(sizeof(float) * (size_t)n * d);
    int *y80 = malloc(sizeof(int) * (size_t)n);
    if (!x80 || !y80) {
        free(x80), free(y80);
        rc = status_fail(st, TK_ENOMEM, "mtm: out of memory for %d rows", n);
        goto done;
    }
    const int n80 = select_rows(x, y, n, d, b.mask, 0, x80, y80);
    rc = split_stratified_kfold(y80, n80, MTM_CV_FOLDS, seed, b.fold, st);
    double sum = 0.0, sum2 = 0.0;
    for (int k = 0; !rc && k < MTM_CV_FOLDS; k++) {
        for (int i = 0; i < n80; i++)
            b.mask[i] = b.fold[i] == k;
        const int nt = select_rows(x80, y80, n80, d, b.mask, 0, b.tx, b.ty);
        const int nq = select_rows(x80, y80, n80, d, b.mask, 1, b.qx, b.qy);
        rc = fit_and_predict(kind, b.tx, b.ty, nt, b.qx, nq, d, n_classes, seed, b.scratch,
                             b.pred, NULL, NULL, st);
        const double acc = accuracy(b.qy, b.pred, nq);
        sum += acc;
        sum2 += acc * acc;
    }
    if (!rc) {
        row->cv_mean = sum / MTM_CV_FOLDS;
        /* numpy's std (ddof 0), as the seed's cross_val_score(...).std(). */
        row->cv_sd = sqrt(fmax(0.0, sum2 / MTM_CV_FOLDS - row->cv_mean * row->cv_mean));
        rc = split_stratified(y, n, MTM_TEST_FRACTION, seed, b.mask, st);
    }
    if (!rc) {
        const int nq = select_rows(x, y, n, d, b.mask, 1, b.qx, b.qy);
        double pred_s;
        rc = fit_and_predict(kind, x80, y80, n80, b.qx, nq, d, n_classes, seed, b.scratch,
                             b.pred, &row->fit_s, &pred_s, st);
        row->test_accuracy = accuracy(b.qy, b.pred, nq);
        row->infer_us_per_sample = nq ? pred_s * 1e6 / nq : 0.0;
    }
    free(x80), free(y80);
done:
    buffers_free(&b);
    return rc;
}

#define MTM_NOISE_STEPS 11 /* sigma 0, 0.05, .., 0.5 */

StatusCode mtm_noise(MtmKind kind, const float *x, const int *y, int n, int d, int n_classes,
                     int runs, uint64_t seed, MtmNoiseRow *rows, Status *st)
{
    Buffers b;
    float *noisy = malloc(sizeof(float) * (size_t)n * d);
    double *prec = malloc(sizeof(double) * n_classes), *rec = malloc(sizeof(double) * n_classes);
    double *f1 = malloc(sizeof(double) * n_classes);
    long *support = malloc(sizeof(long) * n_classes);
    Scaler sc = {0};
    StatusCode rc = buffers_new(&b, n, d, st);
    if (!rc && (!noisy || !prec || !rec || !f1 || !support))
        rc = status_fail(st, TK_ENOMEM, "mtm: out of memory for %d rows", n);
    if (!rc)
        rc = scaler_fit_minmax(&sc, x, n, d, 0.0, 1.0, st);
    for (int s = 0; !rc && s < MTM_NOISE_STEPS; s++) {
        MtmNoiseRow *r = &rows[s];
        memset(r, 0, sizeof *r);
        r->sigma = 0.05 * s;
        double sum[4] = {0}, sum2[4] = {0};
        for (int run = 0; !rc && run < runs; run++) {
            Rng rng;
            rng_seed(&rng, seed, (uint64_t)(s * runs + run));
            scaler_transform(&sc, x, n, noisy);
            for (size_t i = 0; i < (size_t)n * d; i++)
                noisy[i] += (float)r->sigma * rng_normal(&rng);
            rc = split_stratified(y, n, MTM_TEST_FRACTION, seed + (uint64_t)run, b.mask, st);
            if (rc)
                break;
            const int nt = select_rows(noisy, y, n, d, b.mask, 0, b.tx, b.ty);
            const int nq = select_rows(noisy, y, n, d, b.mask, 1, b.qx, b.qy);
            rc = fit_and_predict(kind, b.tx, b.ty, nt, b.qx, nq, d, n_classes, seed + (uint64_t)run,
                                 b.scratch, b.pred, NULL, NULL, st);
            ClassReport cr = {.precision = prec, .recall = rec, .f1 = f1, .support = support};
            if (!rc)
                rc = metric_report(b.qy, b.pred, nq, n_classes, &cr, st);
            if (rc)
                break;
            const double v[4] = {cr.accuracy, cr.weighted_precision, cr.weighted_recall,
                                 cr.weighted_f1};
            for (int k = 0; k < 4; k++)
                sum[k] += v[k], sum2[k] += v[k] * v[k];
        }
        for (int k = 0; k < 4; k++) {
            r->mean[k] = sum[k] / runs;
            r->sd[k] = sqrt(fmax(0.0, sum2[k] / runs - r->mean[k] * r->mean[k]));
        }
    }
    scaler_free(&sc);
    buffers_free(&b);
    free(noisy), free(prec), free(rec), free(f1), free(support);
    return rc;
}
