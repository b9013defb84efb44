/* optim_avx2.c — the AVX2 twin of Adam's update (compiled with -mavx2 -mfma): eight
 * parameters at a time, PyTorch's float operations in PyTorch's order and none fused into a
 * multiply-add (vsqrtps and vdivps round correctly, as sqrtf and / do), so the parameters come
 * out bit-identical to adam_update_scalar's. */
#include "nn.h"
#include "nn_internal.h"

#include <immintrin.h>

size_t adam_update_avx2(float *params, const float *grads, float *m, float *v, size_t n,
                        const AdamCoefs *c)
{
    const __m256 beta1 = _mm256_set1_ps(c->beta1), beta2 = _mm256_set1_ps(c->beta2);
    const __m256 omb1 = _mm256_set1_ps(c->one_minus_b1), omb2 = _mm256_set1_ps(c->one_minus_b2);
    const __m256 step = _mm256_set1_ps(c->step_size), bc2s = _mm256_set1_ps(c->bc2_sqrt);
    const __m256 eps = _mm256_set1_ps(c->eps), wd = _mm256_set1_ps(c->wd);
    const int decay = c->wd != 0.0f;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 p = _mm256_loadu_ps(params + i);
        __m256 g = _mm256_loadu_ps(grads + i);
        if (decay)
            g = _mm256_add_ps(g, _mm256_mul_ps(wd, p));
        const __m256 mv = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(m + i), beta1),
                                        _mm256_mul_ps(omb1, g));
        const __m256 vv = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(v + i), beta2),
                                        _mm256_mul_ps(_mm256_mul_ps(omb2, g), g));
        const __m256 denom = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vv), bc2s), eps);
        _mm256_storeu_ps(m + i, mv);
        _mm256_storeu_ps(v + i, vv);
        _mm256_storeu_ps(params + i, _mm256_sub_ps(p, _mm256_mul_ps(step, _mm256_div_ps(mv, denom))));
    }
    return i;
}
