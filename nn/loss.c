/* loss.c — mean squared error and softmax cross-entropy, each with its gradient. Sums run in
 * double so that the loss of a large batch does not depend on the rounding of partial sums. */
#include "nn.h"

#include <math.h>

float mse_loss(const float *pred, const float *target, size_t n, float *dpred)
{
    double sum = 0.0;
    const float scale = 2.0f / (float)n;
    for (size_t i = 0; i < n; i++) {
        const float d = pred[i] - target[i];
        sum += (double)d * d;
        if (dpred)
            dpred[i] = scale * d;
    }
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
