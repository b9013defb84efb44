/* loss.c — mean squared error and softmax cross-entropy (plain, or with label smoothing added
 * on top), each with its gradient. Sums run in
 * double so that the loss of a large batch does not depend on the rounding of partial sums.
 * The MSE has an AVX2 twin (loss_avx2.c): the same gradient bits, the sum in another order. */
#include "nn.h"
#include "nn_internal.h"

#include <math.h>

double mse_sum_scalar(const float *pred, const float *target, size_t n, float scale,
                      float *dpred)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        const float d = pred[i] - target[i];
        sum += (double)d * d;
        if (dpred)
            dpred[i] = scale * d;
    }
    return sum;
}

float mse_loss(const float *pred, const float *target, size_t n, float *dpred)
{
    const float scale = 2.0f / (float)n;
    size_t done = 0;
    double sum = 0.0;
    if (simd_active() >= SIMD_AVX2)
        sum = mse_sum_avx2(pred, target, n, scale, dpred, &done);
    sum += mse_sum_scalar(pred + done, target + done, n - done, scale, dpred ? dpred + done : NULL);
    return (float)(sum / (double)n);
}

float softmax_xent_loss(const float *logits, const int *labels, int n, int c, float *probs,
                        float *dlogits)
{
    double total = 0.0;
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * c;
        float *p = probs + (size_t)i * c;
        /* Shift by the maximum so that exp never overflows (log-sum-exp). */
        float zmax = z[0];
        for (int j = 1; j < c; j++)
            zmax = z[j] > zmax ? z[j] : zmax;
        double sum = 0.0;
        for (int j = 0; j < c; j++) {
            p[j] = expf(z[j] - zmax);
            sum += p[j];
        }
        for (int j = 0; j < c; j++)
            p[j] = (float)(p[j] / sum);
        total += log(sum) - (double)(z[labels[i]] - zmax);
        if (dlogits) {
            float *dz = dlogits + (size_t)i * c;
            for (int j = 0; j < c; j++)
                dz[j] = (p[j] - (j == labels[i] ? 1.0f : 0.0f)) / (float)n;
        }
    }
    return (float)(total / n);
}

float softmax_xent_smooth(const float *logits, const int *labels, int n, int c, float eps,
                          float xent, float *dlogits)
{
    /* Targets (1 - eps) one-hot + eps / c: the loss is (1 - eps) xent plus eps times the mean
     * over the classes of -log p_j = lse - z_j, i.e. lse - mean(z) per row; the gradient moves
     * eps (onehot - 1 / c) / n from the plain one. */
    double uniform = 0.0;
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * c;
        float zmax = z[0];
        for (int j = 1; j < c; j++)
            zmax = z[j] > zmax ? z[j] : zmax;
        double sum = 0.0, zsum = 0.0;
        for (int j = 0; j < c; j++) {
            sum += exp((double)(z[j] - zmax));
            zsum += (double)(z[j] - zmax);
        }
        uniform += log(sum) - zsum / c;
        if (dlogits) {
            float *dz = dlogits + (size_t)i * c;
            for (int j = 0; j < c; j++)
                dz[j] += eps * ((j == labels[i] ? 1.0f : 0.0f) - 1.0f / (float)c) / (float)n;
        }
    }
    return (float)((1.0 - eps) * xent + eps * uniform / n);
}
