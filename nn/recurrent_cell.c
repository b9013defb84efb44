/* recurrent_cell.c — the element-wise part of one LSTM or GRU step for a batch, forward and
 * backward, each fused into one pass over the step's gates (gate activations, cell update,
 * output, and in backward the gate gradients): the scalar twins, and the dispatch to the AVX2
 * twins in recurrent_cell_avx2.c (which need H % 8 == 0). The scalar forward uses libm's expf
 * and tanhf, so it is also the accuracy reference for the vectorised approximations.
 * Equations and gate orders are PyTorch's (see lstm.c and gru.c). */
#include "nn.h"
#include "nn_internal.h"

#include <math.h>

static inline float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

void lstm_cell_forward_scalar(float *g, const float *c_prev, float *c, float *tc, float *h,
                              int ldh, int B, int H)
{
    for (int b = 0; b < B; b++) {
        float *gi = g + (size_t)b * 4 * H, *gf = gi + H, *gg = gi + 2 * H, *go = gi + 3 * H;
        const float *cp = c_prev ? c_prev + (size_t)b * H : NULL;
        float *cb = c + (size_t)b * H, *tcb = tc + (size_t)b * H, *hb = h + (size_t)b * ldh;
        for (int j = 0; j < H; j++) {
            gi[j] = sigmoidf(gi[j]);
            gf[j] = sigmoidf(gf[j]);
            gg[j] = tanhf(gg[j]);
            go[j] = sigmoidf(go[j]);
            cb[j] = cp ? gf[j] * cp[j] + gi[j] * gg[j] : gi[j] * gg[j];
            tcb[j] = tanhf(cb[j]);
            hb[j] = go[j] * tcb[j];
        }
    }
}

void lstm_cell_backward_scalar(const float *g, const float *tc, const float *c_prev,
                               const float *dy, int ldy, const float *dh_next, float *dc,
                               float *dg, float *dbias, int B, int H)
{
    for (int b = 0; b < B; b++) {
        const float *gi = g + (size_t)b * 4 * H, *gf = gi + H, *gg = gi + 2 * H, *go = gi + 3 * H;
        const float *tcb = tc + (size_t)b * H, *dyb = dy + (size_t)b * ldy;
        const float *dhb = dh_next + (size_t)b * H;
        const float *cp = c_prev ? c_prev + (size_t)b * H : NULL;
        float *dcb = dc + (size_t)b * H;
        float *di = dg + (size_t)b * 4 * H, *df = di + H, *dgg = di + 2 * H, *dout = di + 3 * H;
        for (int j = 0; j < H; j++) {
            const float dh = dyb[j] + dhb[j];
            const float dcj = dcb[j] + dh * go[j] * (1.0f - tcb[j] * tcb[j]);
            const float cprev = cp ? cp[j] : 0.0f;
            di[j] = dcj * gg[j] * gi[j] * (1.0f - gi[j]);
            df[j] = dcj * cprev * gf[j] * (1.0f - gf[j]);
            dgg[j] = dcj * gi[j] * (1.0f - gg[j] * gg[j]);
            dout[j] = dh * tcb[j] * go[j] * (1.0f - go[j]);
            dcb[j] = dcj * gf[j];
        }
        for (int j = 0; j < 4 * H; j++)
            dbias[j] += di[j];
    }
}

void gru_cell_forward_scalar(float *g, const float *hn, const float *h_prev, float *h, int ldh,
                             int B, int H)
{
    for (int b = 0; b < B; b++) {
        float *r = g + (size_t)b * 3 * H, *z = r + H, *n = r + 2 * H;
        const float *hnb = hn + (size_t)b * H;
        const float *hp = h_prev ? h_prev + (size_t)b * ldh : NULL;
        float *hb = h + (size_t)b * ldh;
        for (int j = 0; j < H; j++) {
            r[j] = sigmoidf(r[j]);
            z[j] = sigmoidf(z[j]);
            n[j] = tanhf(n[j] + r[j] * hnb[j]);
            hb[j] = (1.0f - z[j]) * n[j] + (hp ? z[j] * hp[j] : 0.0f);
        }
    }
}

void gru_cell_backward_scalar(const float *g, const float *hn, const float *h_prev,
                              const float *dy, int ldh, float *dh, float *dgx, float *dhn,
                              float *dbias, int B, int H)
{
    for (int b = 0; b < B; b++) {
        const float *r = g + (size_t)b * 3 * H, *z = r + H, *n = r + 2 * H;
        const float *hnb = hn + (size_t)b * H;
        const float *hp = h_prev ? h_prev + (size_t)b * ldh : NULL;
        const float *dyb = dy + (size_t)b * ldh;
        float *dhb = dh + (size_t)b * H;
        float *dxr = dgx + (size_t)b * 3 * H, *dxz = dxr + H, *dxn = dxr + 2 * H;
        float *dhnb = dhn + (size_t)b * H;
        for (int j = 0; j < H; j++) {
            const float dhj = dyb[j] + dhb[j];
            const float hprev = hp ? hp[j] : 0.0f;
            const float dn = dhj * (1.0f - z[j]) * (1.0f - n[j] * n[j]);
            const float dz = dhj * (hprev - n[j]) * z[j] * (1.0f - z[j]);
            const float dr = dn * hnb[j] * r[j] * (1.0f - r[j]);
            dxr[j] = dr;
            dxz[j] = dz;
            dxn[j] = dn;
            dhnb[j] = dn * r[j];
            dhb[j] = dhj * z[j]; /* the direct path h' <- z ⊙ h */
        }
        for (int j = 0; j < 3 * H; j++)
            dbias[j] += dxr[j];
        for (int j = 0; j < H; j++)
            dbias[3 * H + j] += dhnb[j];
    }
}

static int use_avx2(int H) { return simd_active() >= SIMD_AVX2 && H % 8 == 0; }

void lstm_cell_forward(float *g, const float *c_prev, float *c, float *tc, float *h, int ldh,
                       int B, int H)
{
    if (use_avx2(H))
        lstm_cell_forward_avx2(g, c_prev, c, tc, h, ldh, B, H);
    else
        lstm_cell_forward_scalar(g, c_prev, c, tc, h, ldh, B, H);
}

void lstm_cell_backward(const float *g, const float *tc, const float *c_prev, const float *dy,
                        int ldy, const float *dh_next, float *dc, float *dg, float *dbias, int B,
                        int H)
{
    if (use_avx2(H))
        lstm_cell_backward_avx2(g, tc, c_prev, dy, ldy, dh_next, dc, dg, dbias, B, H);
    else
        lstm_cell_backward_scalar(g, tc, c_prev, dy, ldy, dh_next, dc, dg, dbias, B, H);
}

void gru_cell_forward(float *g, const float *hn, const float *h_prev, float *h, int ldh, int B,
                      int H)
{
    if (use_avx2(H))
        gru_cell_forward_avx2(g, hn, h_prev, h, ldh, B, H);
    else
        gru_cell_forward_scalar(g, hn, h_prev, h, ldh, B, H);
}

void gru_cell_backward(const float *g, const float *hn, const float *h_prev, const float *dy,
                       int ldh, float *dh, float *dgx, float *dhn, float *dbias, int B, int H)
{
    if (use_avx2(H))
        gru_cell_backward_avx2(g, hn, h_prev, dy, ldh, dh, dgx, dhn, dbias, B, H);
    else
        gru_cell_backward_scalar(g, hn, h_prev, dy, ldh, dh, dgx, dhn, dbias, B, H);
}
