/* optim.c — the optimisers over one flat parameter array: Adam and SGD with momentum exactly
 * as torch.optim 1.13 computes them (single-tensor path, torch/optim/adam.py and sgd.py: the
 * same operation order in float32, bias corrections in double), and gradient-norm clipping as
 * torch.nn.utils.clip_grad_norm_. Adam's update has an AVX2 twin (optim_avx2.c) doing the same
 * float operations in the same order without fusing any, so both give the same bits. */
#include "nn.h"
#include "nn_internal.h"

#include <math.h>
#include <string.h>

void adam_init(Adam *o, float lr, float *m, float *v, size_t n)
{
    o->lr = lr;
    o->beta1 = 0.9f;
    o->beta2 = 0.999f;
    o->eps = 1e-8f;
    o->weight_decay = 0.0f;
    o->step = 0;
    o->n = n;
    o->m = m;
    o->v = v;
    memset(m, 0, n * sizeof(float));
    memset(v, 0, n * sizeof(float));
}

void adam_update_scalar(float *params, const float *grads, float *m, float *v, size_t n,
                        const AdamCoefs *c)
{
    for (size_t i = 0; i < n; i++) {
        const float g = c->wd != 0.0f ? grads[i] + c->wd * params[i] : grads[i];
        m[i] = m[i] * c->beta1 + c->one_minus_b1 * g;
        v[i] = v[i] * c->beta2 + c->one_minus_b2 * g * g;
        const float denom = sqrtf(v[i]) / c->bc2_sqrt + c->eps;
        params[i] = params[i] - c->step_size * (m[i] / denom);
    }
}

/* Parameters per chunk of the parallel loop; element-wise work, so how the chunks fall on
 * threads never changes a result. */
#define ADAM_CHUNK 16384

void adam_step(Adam *o, float *params, const float *grads)
{
    o->step++;
    /* PyTorch takes the betas as Python floats (double) for the corrections. */
    const double b1 = (double)o->beta1, b2 = (double)o->beta2;
    const double bc1 = 1.0 - pow(b1, (double)o->step);
    const double bc2 = 1.0 - pow(b2, (double)o->step);
    const AdamCoefs c = {.beta1 = o->beta1, .beta2 = o->beta2,
                         .one_minus_b1 = (float)(1.0 - b1), .one_minus_b2 = (float)(1.0 - b2),
                         .step_size = (float)((double)o->lr / bc1), .bc2_sqrt = (float)sqrt(bc2),
                         .eps = o->eps, .wd = o->weight_decay};
    const size_t n = o->n, chunks = (n + ADAM_CHUNK - 1) / ADAM_CHUNK;
    const int avx2 = simd_active() >= SIMD_AVX2;
#pragma omp parallel for schedule(static) if (n > 8 * ADAM_CHUNK)
    for (size_t k = 0; k < chunks; k++) {
        const size_t lo = k * ADAM_CHUNK, len = n - lo < ADAM_CHUNK ? n - lo : ADAM_CHUNK;
        const size_t done =
            avx2 ? adam_update_avx2(params + lo, grads + lo, o->m + lo, o->v + lo, len, &c) : 0;
        adam_update_scalar(params + lo + done, grads + lo + done, o->m + lo + done,
                           o->v + lo + done, len - done, &c);
    }
}

void sgd_init(Sgd *o, float lr, float momentum, float *buf, size_t n)
{
    o->lr = lr;
    o->momentum = momentum;
    o->weight_decay = 0.0f;
    o->step = 0;
    o->n = n;
    o->buf = buf;
    if (buf)
        memset(buf, 0, n * sizeof(float));
}

void sgd_step(Sgd *o, float *params, const float *grads)
{
    const int first = o->step == 0;
    o->step++;
    for (size_t i = 0; i < o->n; i++) {
        float g = o->weight_decay != 0.0f ? grads[i] + o->weight_decay * params[i] : grads[i];
        if (o->momentum != 0.0f && o->buf) {
            o->buf[i] = first ? g : o->buf[i] * o->momentum + g;
            g = o->buf[i];
        }
        params[i] -= o->lr * g;
    }
}

float clip_grad_norm(float *grads, size_t n, float max_norm)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += (double)grads[i] * grads[i];
    const float norm = (float)sqrt(sum);
    const float coef = max_norm / (norm + 1e-6f);
    if (coef < 1.0f)
        for (size_t i = 0; i < n; i++)
            grads[i] *= coef;
    return norm;
}
