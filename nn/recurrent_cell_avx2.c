/* recurrent_cell_avx2.c — AVX2/FMA twins of the fused LSTM and GRU step kernels of
 * recurrent_cell.c (compiled with -mavx2 -mfma; H % 8 == 0). Eight hidden units at a time: the
 * gate activations (vec_math_avx2.h), the cell update and the output of one batch row in one
 * go while the row is in L1, instead of one pass over the step per operation. */
#include "nn.h"
#include "nn_internal.h"
#include "../core/vec_math_avx2.h"

void lstm_cell_forward_avx2(float *g, const float *c_prev, float *c, float *tc, float *h,
                            int ldh, int B, int H)
{
    for (int b = 0; b < B; b++) {
        float *gi = g + (size_t)b * 4 * H, *gf = gi + H, *gg = gi + 2 * H, *go = gi + 3 * H;
        const float *cp = c_prev ? c_prev + (size_t)b * H : NULL;
        float *cb = c + (size_t)b * H, *tcb = tc + (size_t)b * H, *hb = h + (size_t)b * ldh;
        /* Two passes over the row: the gate activations, one kind per loop (independent
         * iterations with few live constants, which pipeline well), then the cell update. */
        for (int j = 0; j < 2 * H; j += 8)
            _mm256_storeu_ps(gi + j, sigmoid256(_mm256_loadu_ps(gi + j)));
        for (int j = 0; j < H; j += 8)
            _mm256_storeu_ps(gg + j, tanh256(_mm256_loadu_ps(gg + j)));
        for (int j = 0; j < H; j += 8)
            _mm256_storeu_ps(go + j, sigmoid256(_mm256_loadu_ps(go + j)));
        for (int j = 0; j < H; j += 8) {
            const __m256 ig = _mm256_mul_ps(_mm256_loadu_ps(gi + j), _mm256_loadu_ps(gg + j));
            const __m256 cv =
                cp ? _mm256_fmadd_ps(_mm256_loadu_ps(gf + j), _mm256_loadu_ps(cp + j), ig) : ig;
            const __m256 t = tanh256(cv);
            _mm256_storeu_ps(cb + j, cv);
            _mm256_storeu_ps(tcb + j, t);
            _mm256_storeu_ps(hb + j, _mm256_mul_ps(_mm256_loadu_ps(go + j), t));
        }
    }
}

/* s (1 - s): the derivative of the sigmoid through its output. */
static inline __m256 dsigmoid(__m256 s)
{
    return _mm256_mul_ps(s, _mm256_sub_ps(_mm256_set1_ps(1.0f), s));
}

/* 1 - t^2: the derivative of tanh through its output. */
static inline __m256 dtanh(__m256 t)
{
    return _mm256_fnmadd_ps(t, t, _mm256_set1_ps(1.0f));
}

void lstm_cell_backward_avx2(const float *g, const float *tc, const float *c_prev,
                             const float *dy, int ldy, const float *dh_next, float *dc,
                             float *dg, float *dbias, int B, int H)
{
    for (int b = 0; b < B; b++) {
        const float *gi = g + (size_t)b * 4 * H, *gf = gi + H, *gg = gi + 2 * H, *go = gi + 3 * H;
        const float *tcb = tc + (size_t)b * H, *dyb = dy + (size_t)b * ldy;
        const float *dhb = dh_next + (size_t)b * H;
        const float *cp = c_prev ? c_prev + (size_t)b * H : NULL;
        float *dcb = dc + (size_t)b * H;
        float *di = dg + (size_t)b * 4 * H;
        for (int j = 0; j < H; j += 8) {
            const __m256 i = _mm256_loadu_ps(gi + j), f = _mm256_loadu_ps(gf + j);
            const __m256 gv = _mm256_loadu_ps(gg + j), o = _mm256_loadu_ps(go + j);
            const __m256 t = _mm256_loadu_ps(tcb + j);
            const __m256 dh = _mm256_add_ps(_mm256_loadu_ps(dyb + j), _mm256_loadu_ps(dhb + j));
            const __m256 dcv =
                _mm256_fmadd_ps(_mm256_mul_ps(dh, o), dtanh(t), _mm256_loadu_ps(dcb + j));
            const __m256 cprev = cp ? _mm256_loadu_ps(cp + j) : _mm256_setzero_ps();
            const __m256 d[4] = {_mm256_mul_ps(_mm256_mul_ps(dcv, gv), dsigmoid(i)),
                                 _mm256_mul_ps(_mm256_mul_ps(dcv, cprev), dsigmoid(f)),
                                 _mm256_mul_ps(_mm256_mul_ps(dcv, i), dtanh(gv)),
                                 _mm256_mul_ps(_mm256_mul_ps(dh, t), dsigmoid(o))};
            for (int q = 0; q < 4; q++) {
                float *db = dbias + q * H + j;
                _mm256_storeu_ps(di + q * H + j, d[q]);
                _mm256_storeu_ps(db, _mm256_add_ps(_mm256_loadu_ps(db), d[q]));
            }
            _mm256_storeu_ps(dcb + j, _mm256_mul_ps(dcv, f));
        }
    }
}

void gru_cell_forward_avx2(float *g, const float *hn, const float *h_prev, float *h, int ldh,
                           int B, int H)
{
    for (int b = 0; b < B; b++) {
        float *rp = g + (size_t)b * 3 * H, *zp = rp + H, *np = rp + 2 * H;
        const float *hnb = hn + (size_t)b * H;
        const float *hp = h_prev ? h_prev + (size_t)b * ldh : NULL;
        float *hb = h + (size_t)b * ldh;
        /* As in the LSTM kernel: the r and z activations in a loop of their own first. */
        for (int j = 0; j < 2 * H; j += 8)
            _mm256_storeu_ps(rp + j, sigmoid256(_mm256_loadu_ps(rp + j)));
        for (int j = 0; j < H; j += 8) {
            const __m256 r = _mm256_loadu_ps(rp + j), z = _mm256_loadu_ps(zp + j);
            const __m256 n =
                tanh256(_mm256_fmadd_ps(r, _mm256_loadu_ps(hnb + j), _mm256_loadu_ps(np + j)));
            /* h' = (1 - z) n + z h = n + z (h - n) */
            const __m256 hv = hp ? _mm256_fmadd_ps(z, _mm256_sub_ps(_mm256_loadu_ps(hp + j), n), n)
                                 : _mm256_fnmadd_ps(z, n, n);
            _mm256_storeu_ps(np + j, n);
            _mm256_storeu_ps(hb + j, hv);
        }
    }
}

void gru_cell_backward_avx2(const float *g, const float *hn, const float *h_prev,
                            const float *dy, int ldh, float *dh, float *dgx, float *dhn,
                            float *dbias, int B, int H)
{
    for (int b = 0; b < B; b++) {
        const float *rp = g + (size_t)b * 3 * H, *zp = rp + H, *np = rp + 2 * H;
        const float *hnb = hn + (size_t)b * H;
        const float *hp = h_prev ? h_prev + (size_t)b * ldh : NULL;
        const float *dyb = dy + (size_t)b * ldh;
        float *dhb = dh + (size_t)b * H;
        float *dxr = dgx + (size_t)b * 3 * H, *dxz = dxr + H, *dxn = dxr + 2 * H;
        float *dhnb = dhn + (size_t)b * H;
        for (int j = 0; j < H; j += 8) {
            const __m256 r = _mm256_loadu_ps(rp + j), z = _mm256_loadu_ps(zp + j);
            const __m256 n = _mm256_loadu_ps(np + j);
            const __m256 dhv = _mm256_add_ps(_mm256_loadu_ps(dyb + j), _mm256_loadu_ps(dhb + j));
            const __m256 hprev = hp ? _mm256_loadu_ps(hp + j) : _mm256_setzero_ps();
            const __m256 one_minus_z = _mm256_sub_ps(_mm256_set1_ps(1.0f), z);
            const __m256 dn = _mm256_mul_ps(_mm256_mul_ps(dhv, one_minus_z), dtanh(n));
            const __m256 dz =
                _mm256_mul_ps(_mm256_mul_ps(dhv, _mm256_sub_ps(hprev, n)), dsigmoid(z));
            const __m256 dr =
                _mm256_mul_ps(_mm256_mul_ps(dn, _mm256_loadu_ps(hnb + j)), dsigmoid(r));
            const __m256 dhn_v = _mm256_mul_ps(dn, r);
            _mm256_storeu_ps(dxr + j, dr);
            _mm256_storeu_ps(dxz + j, dz);
            _mm256_storeu_ps(dxn + j, dn);
            _mm256_storeu_ps(dhnb + j, dhn_v);
            _mm256_storeu_ps(dhb + j, _mm256_mul_ps(dhv, z));
            const __m256 d[4] = {dr, dz, dn, dhn_v};
            for (int q = 0; q < 4; q++) {
                float *db = dbias + q * H + j;
                _mm256_storeu_ps(db, _mm256_add_ps(_mm256_loadu_ps(db), d[q]));
            }
        }
    }
}
