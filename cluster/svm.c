/* svm.c — linear support vector machines by dual coordinate descent (Hsieh, Chang, Lin,
 * Keerthi, Sundararajan, "A Dual Coordinate Descent Method for Large-scale Linear SVM",
 * ICML 2008, Algorithm 1 with the shrinking of section 3.2), the solver liblinear runs for
 * scikit-learn's LinearSVC: squared hinge (L2 loss: D_ii = 1/(2C), no upper bound) or hinge
 * (L1 loss: D_ii = 0, alpha <= C), the intercept as one more feature of constant value
 * intercept_scaling (so it is regularised too, as in liblinear), coordinates visited in a
 * seeded random order each pass, stopping when the spread of the projected gradient over a
 * full pass is at most tol. Multi-class by one-vs-rest or one-vs-one, one model per OpenMP
 * task, each with its own random stream, so results do not depend on the thread count. */
#include "cluster.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define SVM_MAX_CLASSES 1024
/* A row costs a few dozen multiply-adds: below this many rows threads cost more than they
 * save. */
#define SVM_PARALLEL_MIN_ROWS 65536

SvmParams svm_params_default(void)
{
    return (SvmParams){.C = 1.0,
                       .tol = 1e-4,
                       .max_iter = 1000,
                       .intercept_scaling = 1.0,
                       .loss = SVM_SQUARED_HINGE,
                       .multiclass = SVM_OVR,
                       .seed = 0};
}

/* The training rows as the caller gave them (float, n x d: half the bytes of double, so the
 * randomly visited rows stay in L2; every product is still taken in double) and the intercept
 * as one more feature of constant value bias (0 = none). */
typedef struct {
    const float *x;
    const double *norm2; /* ||x_i||^2 including the intercept feature */
    int n, d;
    double bias;
} Design;

static double row_dot(const Design *ds, const double *w, const float *xi)
{
    double dot = 0;
    for (int j = 0; j < ds->d; j++)
        dot += w[j] * xi[j];
    return dot + w[ds->d] * ds->bias;
}

static void row_axpy(const Design *ds, double step, const float *xi, double *w)
{
    for (int j = 0; j < ds->d; j++)
        w[j] += step * xi[j];
    w[ds->d] += step * ds->bias;
}

/* One binary problem over rows[0..count-1] with labels sign[i] = +1 / -1, written into w
 * (width). Returns the passes made. Working arrays (count each) are the caller's. */
static int solve_binary(const Design *ds, const int *rows, const signed char *sign, int count,
                        const SvmParams *p, uint64_t stream, double *w, double *alpha,
                        double *qd, int *order)
{
    const double diag = p->loss == SVM_SQUARED_HINGE ? 0.5 / p->C : 0.0;
    const double upper = p->loss == SVM_SQUARED_HINGE ? INFINITY : p->C;
    memset(w, 0, (size_t)(ds->d + 1) * sizeof(double));
    for (int s = 0; s < count; s++) {
        alpha[s] = 0;
        qd[s] = diag + ds->norm2[rows[s]];
        order[s] = s;
    }
    Rng rng;
    rng_seed(&rng, p->seed, stream);
    double pg_max_old = INFINITY, pg_min_old = -INFINITY;
    int active = count, iter = 0;
    while (iter < p->max_iter) {
        double pg_max = -INFINITY, pg_min = INFINITY;
        for (int s = 0; s < active; s++) {
            const int j = s + (int)rng_below(&rng, (uint64_t)(active - s));
            const int t = order[s];
            order[s] = order[j];
            order[j] = t;
        }
        for (int s = 0; s < active; s++) {
            const int i = order[s];
            const float *xi = ds->x + (size_t)rows[i] * ds->d;
            if (s + 1 < active) /* the next row is a random one: fetch it while this one runs */
                __builtin_prefetch(ds->x + (size_t)rows[order[s + 1]] * ds->d);
            const double g = sign[i] * row_dot(ds, w, xi) - 1 + alpha[i] * diag;
            double pg = 0;
            /* Shrinking: a variable at a bound whose gradient points outward by more than
             * last pass's extreme is unlikely to move; drop it until the next full check. */
            if (alpha[i] == 0) {
                if (g > pg_max_old) {
                    active--;
                    order[s] = order[active];
                    order[active] = i;
                    s--;
                    continue;
                }
                if (g < 0)
                    pg = g;
            } else if (alpha[i] == upper) {
                if (g < pg_min_old) {
                    active--;
                    order[s] = order[active];
                    order[active] = i;
                    s--;
                    continue;
                }
                if (g > 0)
                    pg = g;
            } else {
                pg = g;
            }
            pg_max = pg > pg_max ? pg : pg_max;
            pg_min = pg < pg_min ? pg : pg_min;
            if (fabs(pg) > 1e-12) {
                const double old = alpha[i];
                const double moved = old - g / qd[i];
                alpha[i] = moved > 0.0 ? (moved < upper ? moved : upper) : 0.0;
                row_axpy(ds, (alpha[i] - old) * sign[i], xi, w);
            }
        }
        iter++;
        if (pg_max - pg_min <= p->tol) {
            if (active == count)
                break;
            /* converged on the shrunk set: check again over every variable */
            active = count;
            pg_max_old = INFINITY;
            pg_min_old = -INFINITY;
            continue;
        }
        pg_max_old = pg_max <= 0 ? INFINITY : pg_max;
        pg_min_old = pg_min >= 0 ? -INFINITY : pg_min;
    }
    return iter;
}

/* Model m's two classes: OVO pair m in the order (0,1), (0,2), ..., (1,2), ...; OVR class m
 * (negative = every other class, -1); two classes: positive 1, negative 0. */
static void model_classes(const LinearSvm *s, int m, int *pos, int *neg)
{
    *pos = *neg = 0;
    if (s->n_classes == 2) {
        *pos = 1;
        *neg = 0;
        return;
    }
    if (s->multiclass == SVM_OVR) {
        *pos = m;
        *neg = -1;
        return;
    }
    for (int a = 0; a < s->n_classes; a++) {
        const int pairs = s->n_classes - 1 - a;
        if (m < pairs) {
            *pos = a;
            *neg = a + 1 + m;
            return;
        }
        m -= pairs;
    }
}

StatusCode svm_fit(LinearSvm *m, const float *x, const int *y, int n, int d, const SvmParams *p,
                   Status *st)
{
    memset(m, 0, sizeof *m);
    StatusCode rc = cluster_check_data("svm: training data", x, n, d, st);
    if (rc != TK_OK)
        return rc;
    if (!(p->C > 0) || !(p->tol > 0) || p->max_iter < 1 || !(p->intercept_scaling >= 0))
        return status_fail(st, TK_EINVAL,
                           "svm: C = %g, tol = %g, max_iter = %d, intercept_scaling = %g (need "
                           "C > 0, tol > 0, max_iter >= 1, intercept_scaling >= 0)",
                           p->C, p->tol, p->max_iter, p->intercept_scaling);
    int n_classes = 0;
    for (int i = 0; i < n; i++) {
        if (y[i] < 0 || y[i] >= SVM_MAX_CLASSES)
            return status_fail(st, TK_EINVAL, "svm: row %d: label %d is not a class in 0..%d", i,
                               y[i], SVM_MAX_CLASSES - 1);
        if (y[i] + 1 > n_classes)
            n_classes = y[i] + 1;
    }
    if (n_classes < 2)
        return status_fail(st, TK_EINVAL, "svm: every row has label 0; need two classes");
    const int has_bias = p->intercept_scaling > 0;
    m->d = d;
    m->n_classes = n_classes;
    m->multiclass = p->multiclass;
    m->n_models = n_classes == 2 ? 1
                  : p->multiclass == SVM_OVR ? n_classes
                                             : n_classes * (n_classes - 1) / 2;
    const int threads = threads_max();
    double *norm2 = malloc((size_t)n * sizeof(double));
    m->coef = malloc((size_t)m->n_models * d * sizeof(float));
    m->intercept = malloc((size_t)m->n_models * sizeof(float));
    /* per thread: w (d + 1), alpha, qd (n each), rows, order (n each), sign (n) */
    const size_t per_thread = (size_t)(d + 1) * sizeof(double) + 2 * (size_t)n * sizeof(double) +
                              2 * (size_t)n * sizeof(int) + (size_t)n;
    const size_t stride = (per_thread + 63) / 64 * 64;
    unsigned char *work = malloc(stride * threads);
    int *iters = malloc((size_t)m->n_models * sizeof(int));
    if (!norm2 || !m->coef || !m->intercept || !work || !iters) {
        free(norm2);
        free(work);
        free(iters);
        svm_free(m);
        return status_fail(st, TK_ENOMEM, "svm: cannot allocate for %d rows x %d features", n, d);
    }
    const double bias = has_bias ? p->intercept_scaling : 0.0;
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int j = 0; j < d; j++)
            s += (double)x[(size_t)i * d + j] * x[(size_t)i * d + j];
        norm2[i] = s + bias * bias;
    }
    const Design ds = {x, norm2, n, d, bias};
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (int model = 0; model < m->n_models; model++) {
        unsigned char *own = work + stride * omp_get_thread_num();
        double *w = (double *)own;
        double *alpha = w + d + 1;
        double *qd = alpha + n;
        int *rows = (int *)(qd + n);
        int *order = rows + n;
        signed char *sign = (signed char *)(order + n);
        int pos, neg, count = 0;
        model_classes(m, model, &pos, &neg);
        for (int i = 0; i < n; i++) {
            if (y[i] == pos || neg < 0 || y[i] == neg) {
                rows[count] = i;
                sign[count] = y[i] == pos ? 1 : -1;
                count++;
            }
        }
        iters[model] = solve_binary(&ds, rows, sign, count, p, (uint64_t)model, w, alpha, qd,
                                    order);
        for (int j = 0; j < d; j++)
            m->coef[(size_t)model * d + j] = (float)w[j];
        m->intercept[model] = has_bias ? (float)(w[d] * p->intercept_scaling) : 0.0f;
    }
    m->converged = 1;
    for (int model = 0; model < m->n_models; model++) {
        m->n_iter = iters[model] > m->n_iter ? iters[model] : m->n_iter;
        /* a model that stopped at max_iter did not meet tol (liblinear's warning case) */
        if (iters[model] >= p->max_iter)
            m->converged = 0;
    }
    free(norm2);
    free(work);
    free(iters);
    return TK_OK;
}

void svm_decision(const LinearSvm *m, const float *q, int nq, float *scores)
{
#pragma omp parallel for schedule(static) if (nq >= SVM_PARALLEL_MIN_ROWS)
    for (long r = 0; r < nq; r++) {
        const float *qr = q + r * m->d;
        for (int model = 0; model < m->n_models; model++) {
            const float *w = m->coef + (size_t)model * m->d;
            double s = m->intercept[model];
            for (int j = 0; j < m->d; j++)
                s += (double)w[j] * qr[j];
            scores[r * m->n_models + model] = (float)s;
        }
    }
}

void svm_predict(const LinearSvm *m, const float *q, int nq, int *pred)
{
#pragma omp parallel for schedule(static) if (nq >= SVM_PARALLEL_MIN_ROWS)
    for (long r = 0; r < nq; r++) {
        const float *qr = q + r * m->d;
        int votes[SVM_MAX_CLASSES];
        if (m->multiclass == SVM_OVO && m->n_models > 1)
            memset(votes, 0, (size_t)m->n_classes * sizeof(int));
        double best = -INFINITY;
        int best_class = 0;
        for (int model = 0; model < m->n_models; model++) {
            const float *w = m->coef + (size_t)model * m->d;
            double s = m->intercept[model];
            for (int j = 0; j < m->d; j++)
                s += (double)w[j] * qr[j];
            if (m->n_models == 1) {
                best_class = s > 0;
            } else if (m->multiclass == SVM_OVR) {
                if (s > best) {
                    best = s;
                    best_class = model;
                }
            } else {
                int pos, neg;
                model_classes(m, model, &pos, &neg);
                votes[s > 0 ? pos : neg]++;
            }
        }
        if (m->multiclass == SVM_OVO && m->n_models > 1) {
            best_class = 0;
            for (int c = 1; c < m->n_classes; c++)
                if (votes[c] > votes[best_class])
                    best_class = c;
        }
        pred[r] = best_class;
    }
}

void svm_free(LinearSvm *m)
{
    free(m->coef);
    free(m->intercept);
    memset(m, 0, sizeof *m);
}
