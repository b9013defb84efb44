/* dropout.c — inverted dropout (PyTorch's nn.Dropout in training mode), forward and backward:
 * each value is kept with probability 1 - p and scaled by 1/(1 - p), so that evaluation needs
 * no rescaling. The mask holds the factor each value was multiplied by. */
#include "nn.h"

#include <string.h>

void dropout_forward(const float *x, float *y, float *mask, size_t n, float p, Rng *rng)
{
    if (p <= 0.0f) {
        if (y != x)
            memcpy(y, x, n * sizeof(float));
        for (size_t i = 0; i < n; i++)
            mask[i] = 1.0f;
        return;
    }
    const float keep_scale = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++) {
        mask[i] = rng_uniform(rng) < p ? 0.0f : keep_scale;
        y[i] = x[i] * mask[i];
    }
}

void dropout_backward(const float *dy, const float *mask, float *dx, size_t n)
{
    vec_mul(dx, dy, mask, n);
}
