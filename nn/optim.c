/* optim.c — the optimisers over one flat parameter array: Adam and SGD with momentum exactly
 * as torch.optim 1.13 computes them (single-tensor path, torch/optim/adam.py and sgd.py: the
 * same operation order in float32, bias corrections in double), and gradient-norm clipping as
 * torch.nn.utils.clip_grad_norm_. */
#include "nn.h"

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

void adam_step(Adam *o, float *params, const float *grads)
{
    o->step++;
    /* PyTorch takes the betas as Python floats (double) for the corrections. */
    const double b1 = (double)o->beta1, b2 = (double)o->beta2;
    const double bc1 = 1.0 - pow(b1, (double)o->step);
    const double bc2 = 1.0 - pow(b2, (double)o->step);
    const float step_size = (float)((double)o->lr / bc1);
    const float bc2_sqrt = (float)sqrt(bc2);
    const float one_minus_b1 = (float)(1.0 - b1), one_minus_b2 = (float)(1.0 - b2);
    const float beta1 = o->beta1, beta2 = o->beta2, eps = o->eps, wd = o->weight_decay;
    float *m = o->m, *v = o->v;
    const size_t n = o->n;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) {
        const float g = wd != 0.0f ? grads[i] + wd * params[i] : grads[i];
        m[i] = m[i] * beta1 + one_minus_b1 * g;
        v[i] = v[i] * beta2 + one_minus_b2 * g * g;
        const float denom = sqrtf(v[i]) / bc2_sqrt + eps;
        params[i] = params[i] - step_size * (m[i] / denom);
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
