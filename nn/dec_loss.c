/* dec_loss.c — the clustering loss of Deep Embedded Clustering (Xie, Girshick, Farhadi, ICML
 * 2016), which IDEC (Guo, Gao, Liu, Yin, IJCAI 2017) adds to the reconstruction loss: a
 * Student's t soft assignment of latent vectors to cluster centres (DEC eq. 1, alpha = 1), the
 * sharpened target distribution (eq. 3) and KL(P || Q) with its gradients for the latent
 * vectors and the centres (eq. 4-5), P held constant as the papers do between target updates.
 * Every buffer is the caller's; rows are independent, so the threaded loops give the same bytes
 * whatever the thread count. */
#include "nn.h"

#include <math.h>
#include <string.h>

/* 1 / (1 + |z - mu_j|^2) for every centre into w[k]; returns their sum. */
static double kernel_row(const float *z, int d, const float *mu, int k, double *w)
{
    double sum = 0;
    for (int j = 0; j < k; j++) {
        double d2 = 0;
        for (int c = 0; c < d; c++) {
            const double diff = (double)z[c] - mu[(size_t)j * d + c];
            d2 += diff * diff;
        }
        w[j] = 1.0 / (1.0 + d2);
        sum += w[j];
    }
    return sum;
}

void dec_soft_assign(const float *z, int n, int d, const float *mu, int k, float *q)
{
#pragma omp parallel for schedule(static) if (n > 256)
    for (int i = 0; i < n; i++) {
        double w[DEC_MAX_K];
        const double sum = kernel_row(z + (size_t)i * d, d, mu, k, w);
        for (int j = 0; j < k; j++)
            q[(size_t)i * k + j] = (float)(w[j] / sum);
    }
}

void dec_target(const float *q, int n, int k, double *f, float *p)
{
    /* Cluster frequencies f_j = sum_i q_ij, summed in row order (one thread) so that they do
     * not depend on the thread count. */
    for (int j = 0; j < k; j++)
        f[j] = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < k; j++)
            f[j] += q[(size_t)i * k + j];
#pragma omp parallel for schedule(static) if (n > 256)
    for (int i = 0; i < n; i++) {
        double t[DEC_MAX_K], sum = 0;
        for (int j = 0; j < k; j++) {
            const double qij = q[(size_t)i * k + j];
            t[j] = f[j] > 0 ? qij * qij / f[j] : 0;
            sum += t[j];
        }
        for (int j = 0; j < k; j++)
            p[(size_t)i * k + j] = sum > 0 ? (float)(t[j] / sum) : 0.0f;
    }
}

int dec_argmax(const float *q, int k)
{
    int best = 0;
    for (int j = 1; j < k; j++)
        if (q[j] > q[best])
            best = j;
    return best;
}

float dec_kl_loss(const float *z, int n, int d, const float *mu, int k, const float *p,
                  float scale, float *q, float *dz, float *dmu)
{
    double loss = 0;
    /* d KL / d z_i = 2 sum_j w_ij (p_ij - q_ij)(z_i - mu_j), and the opposite for mu_j
     * (DEC eq. 4-5 with alpha = 1), times scale / n for the mean over the rows. */
    const double g = 2.0 * scale / n;
    for (int i = 0; i < n; i++) {
        const float *zi = z + (size_t)i * d;
        const float *pi = p + (size_t)i * k;
        double w[DEC_MAX_K], gz[DEC_MAX_LATENT] = {0};
        const double sum = kernel_row(zi, d, mu, k, w);
        for (int j = 0; j < k; j++) {
            const double qij = w[j] / sum;
            q[(size_t)i * k + j] = (float)qij;
            if (pi[j] > 0)
                loss += pi[j] * (log((double)pi[j]) - log(qij));
            const double coef = g * w[j] * (pi[j] - qij);
            for (int c = 0; c < d; c++) {
                const double v = coef * ((double)zi[c] - mu[(size_t)j * d + c]);
                gz[c] += v;
                if (dmu)
                    dmu[(size_t)j * d + c] -= (float)v;
            }
        }
        if (dz)
            for (int c = 0; c < d; c++)
                dz[(size_t)i * d + c] = (float)gz[c];
    }
    return (float)(loss / n);
}
