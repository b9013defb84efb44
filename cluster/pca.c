/* pca.c — principal component analysis from the covariance matrix: centred second moments in
 * double, a cyclic Jacobi eigen-decomposition (exact to rounding for the small d takt meets:
 * joint angles, latents), axes sorted by variance and signed as scikit-learn's svd_flip does, so
 * projections agree with sklearn's PCA(svd_solver="full") to rounding.
 *
 * Jacobi rotations: Golub & Van Loan, "Matrix Computations", 4th ed., §8.5 (the symmetric
 * Schur decomposition and the cyclic sweep). */
#include "cluster.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define JACOBI_MAX_SWEEPS 100

/* Eigen-decomposition of the symmetric d x d matrix a (destroyed; the eigenvalues end on its
 * diagonal); v gets the eigenvectors as columns. */
static void jacobi_eigen(double *a, double *v, int d)
{
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++)
            v[(size_t)i * d + j] = i == j;
    for (int sweep = 0; sweep < JACOBI_MAX_SWEEPS; sweep++) {
        double off = 0.0, diag = 0.0;
        for (int p = 0; p < d; p++) {
            diag += a[(size_t)p * d + p] * a[(size_t)p * d + p];
            for (int q = p + 1; q < d; q++)
                off += a[(size_t)p * d + q] * a[(size_t)p * d + q];
        }
        if (off <= 1e-30 * diag || off == 0.0)
            break;
        for (int p = 0; p < d; p++)
            for (int q = p + 1; q < d; q++) {
                const double apq = a[(size_t)p * d + q];
                if (apq == 0.0)
                    continue;
                const double app = a[(size_t)p * d + p], aqq = a[(size_t)q * d + q];
                const double theta = (aqq - app) / (2.0 * apq);
                const double t = (theta >= 0 ? 1.0 : -1.0) /
                                 (fabs(theta) + sqrt(theta * theta + 1.0));
                const double c = 1.0 / sqrt(t * t + 1.0), s = t * c;
                for (int k = 0; k < d; k++) {
                    const double akp = a[(size_t)k * d + p], akq = a[(size_t)k * d + q];
                    a[(size_t)k * d + p] = c * akp - s * akq;
                    a[(size_t)k * d + q] = s * akp + c * akq;
                }
                for (int k = 0; k < d; k++) {
                    const double apk = a[(size_t)p * d + k], aqk = a[(size_t)q * d + k];
                    a[(size_t)p * d + k] = c * apk - s * aqk;
                    a[(size_t)q * d + k] = s * apk + c * aqk;
                }
                for (int k = 0; k < d; k++) {
                    const double vkp = v[(size_t)k * d + p], vkq = v[(size_t)k * d + q];
                    v[(size_t)k * d + p] = c * vkp - s * vkq;
                    v[(size_t)k * d + q] = s * vkp + c * vkq;
                }
            }
    }
}

void pca_free(Pca *p)
{
    free(p->mean);
    free(p->components);
    free(p->explained_variance);
    free(p->explained_variance_ratio);
    memset(p, 0, sizeof *p);
}

StatusCode pca_fit(Pca *p, const float *x, int n, int d, int n_components, Status *st)
{
    memset(p, 0, sizeof *p);
    StatusCode rc = cluster_check_data("PCA", x, n, d, st);
    if (rc != TK_OK)
        return rc;
    if (n < 2)
        return status_fail(st, TK_EINVAL, "PCA: needs at least 2 rows, got %d", n);
    if (d > PCA_MAX_D)
        return status_fail(st, TK_EUNSUPPORTED, "PCA: %d columns, more than the %d supported",
                           d, PCA_MAX_D);
    const int limit = n < d ? n : d;
    if (n_components < 1 || n_components > limit)
        return status_fail(st, TK_EINVAL, "PCA: %d components, must be 1..%d", n_components,
                           limit);
    double *cov = calloc((size_t)d * d, sizeof *cov), *vec = malloc((size_t)d * d * sizeof *vec);
    double *centred = malloc((size_t)d * sizeof *centred);
    int *order = malloc((size_t)d * sizeof *order);
    p->mean = calloc((size_t)d, sizeof *p->mean);
    p->components = malloc((size_t)n_components * d * sizeof *p->components);
    p->explained_variance = malloc((size_t)n_components * sizeof(double));
    p->explained_variance_ratio = malloc((size_t)n_components * sizeof(double));
    if (!cov || !vec || !centred || !order || !p->mean || !p->components ||
        !p->explained_variance || !p->explained_variance_ratio) {
        rc = status_fail(st, TK_ENOMEM, "PCA: cannot allocate for %d columns", d);
        goto done;
    }
    p->d = d;
    p->n_components = n_components;
    for (size_t i = 0; i < (size_t)n; i++)
        for (int j = 0; j < d; j++)
            p->mean[j] += x[i * d + j];
    for (int j = 0; j < d; j++)
        p->mean[j] /= n;
    for (size_t i = 0; i < (size_t)n; i++) {
        for (int j = 0; j < d; j++)
            centred[j] = x[i * d + j] - p->mean[j];
        for (int a = 0; a < d; a++)
            for (int b = a; b < d; b++)
                cov[(size_t)a * d + b] += centred[a] * centred[b];
    }
    for (int a = 0; a < d; a++)
        for (int b = a; b < d; b++)
            cov[(size_t)b * d + a] = cov[(size_t)a * d + b] /= (n - 1);
    jacobi_eigen(cov, vec, d);
    double total = 0.0;
    for (int j = 0; j < d; j++) {
        order[j] = j;
        total += cov[(size_t)j * d + j] > 0 ? cov[(size_t)j * d + j] : 0.0;
    }
    for (int a = 1; a < d; a++) /* insertion sort by decreasing eigenvalue, stable */
        for (int b = a; b > 0 && cov[(size_t)order[b] * d + order[b]] >
                                     cov[(size_t)order[b - 1] * d + order[b - 1]];
             b--) {
            const int t = order[b];
            order[b] = order[b - 1];
            order[b - 1] = t;
        }
    for (int c = 0; c < n_components; c++) {
        const int e = order[c];
        const double ev = cov[(size_t)e * d + e];
        p->explained_variance[c] = ev > 0 ? ev : 0.0;
        p->explained_variance_ratio[c] = total > 0 ? p->explained_variance[c] / total : 0.0;
        double *axis = p->components + (size_t)c * d;
        for (int j = 0; j < d; j++)
            axis[j] = vec[(size_t)j * d + e];
        /* svd_flip (u-based): the score of largest magnitude on this axis is made positive. */
        double best = 0.0;
        for (size_t i = 0; i < (size_t)n; i++) {
            double s = 0.0;
            for (int j = 0; j < d; j++)
                s += (x[i * d + j] - p->mean[j]) * axis[j];
            if (fabs(s) > fabs(best))
                best = s;
        }
        if (best < 0)
            for (int j = 0; j < d; j++)
                axis[j] = -axis[j];
    }
done:
    free(cov);
    free(vec);
    free(centred);
    free(order);
    if (rc != TK_OK)
        pca_free(p);
    return rc;
}

void pca_transform(const Pca *p, const float *x, int n, float *out)
{
    const int d = p->d, nc = p->n_components;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++)
        for (int c = 0; c < nc; c++) {
            double s = 0.0;
            for (int j = 0; j < d; j++)
                s += (x[(size_t)i * d + j] - p->mean[j]) * p->components[(size_t)c * d + j];
            out[(size_t)i * nc + c] = (float)s;
        }
}

void pca_inverse_transform(const Pca *p, const float *y, int n, float *out)
{
    const int d = p->d, nc = p->n_components;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++) {
            double s = p->mean[j];
            for (int c = 0; c < nc; c++)
                s += (double)y[(size_t)i * nc + c] * p->components[(size_t)c * d + j];
            out[(size_t)i * d + j] = (float)s;
        }
}
