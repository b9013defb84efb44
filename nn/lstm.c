/* lstm.c — one direction of one LSTM layer over a whole sequence, forward and backward through
 * time side by side. PyTorch's equations and gate order [i, f, g, o]:
 *   i = σ(W_ii x + b_ii + W_hi h + b_hi)   f = σ(...)   g = tanh(...)   o = σ(...)
 *   c' = f ⊙ c + i ⊙ g                      h' = o ⊙ tanh(c')
 * The input projections of all T steps are one GEMM before the recurrence; only the small
 * h W_hh^T product is left per step. Sequences are time-major: row (t*B + b) at stride ld. */
#include "nn.h"
#include "nn_internal.h"

#include <string.h>

void lstm_dir_forward(const RnnWeights *w, RnnTape *tape, const float *x, int ldx, float *y,
                      int ldy, int T, int x_steps, int B, int I, int H, int reverse)
{
    const int G = 4 * H;
    /* gates [T*B x 4H] = X [T*B x I] W_ih^T + b_ih + b_hh (once for a constant input) */
    const int rows = x_steps == 1 ? B : T * B;
    sgemm(GEMM_N, GEMM_T, rows, G, I, 1.0f, x, ldx, w->w_ih, I, 0.0f, tape->gates, G);
    for (int j = 0; j < G; j++)
        tape->bias[j] = w->b_ih[j] + w->b_hh[j];
    vec_add_bias(tape->gates, tape->bias, rows, G);
    rnn_repeat_steps(tape->gates, T, x_steps, (size_t)B * G);

    transpose_weights(w->w_hh, G, H, tape->w_hh_t);
    for (int k = 0; k < T; k++) {
        const int t = step_time(k, T, reverse);
        const int tp = k > 0 ? step_time(k - 1, T, reverse) : -1;
        float *gt = tape->gates + (size_t)t * B * G;
        float *ct = tape->cell + (size_t)t * B * H;
        float *tct = tape->aux + (size_t)t * B * H;
        if (tp >= 0) /* gates [B x 4H] += h_prev [B x H] W_hh^T [H x 4H] */
            rnn_matmul(y + (size_t)tp * B * ldy, ldy, tape->w_hh_t, G, gt, G, B, H, G, 1);
        for (int b = 0; b < B; b++) {
            float *gb = gt + (size_t)b * G;
            vec_sigmoid(gb, 2 * (size_t)H);
            vec_tanh(gb + 2 * H, (size_t)H);
            vec_sigmoid(gb + 3 * H, (size_t)H);
            const float *gi = gb, *gf = gb + H, *gg = gb + 2 * H;
            float *cb = ct + (size_t)b * H;
            if (tp >= 0) {
                const float *cp = tape->cell + ((size_t)tp * B + b) * H;
                for (int j = 0; j < H; j++)
                    cb[j] = gf[j] * cp[j] + gi[j] * gg[j];
            } else {
                for (int j = 0; j < H; j++)
                    cb[j] = gi[j] * gg[j];
            }
            float *tcb = tct + (size_t)b * H;
            memcpy(tcb, cb, (size_t)H * sizeof(float));
            vec_tanh(tcb, (size_t)H);
            vec_mul(y + ((size_t)t * B + b) * ldy, gb + 3 * H, tcb, (size_t)H);
        }
    }
}

void lstm_dir_backward(const RnnWeights *w, const RnnTape *tape, RnnScratch *s, const float *x,
                       int ldx, const float *y, int ldy, const float *dy, int T, int x_steps, int B, int I,
                       int H, int reverse)
{
    const int G = 4 * H;
    memset(s->dh, 0, (size_t)B * H * sizeof(float));
    memset(s->dc, 0, (size_t)B * H * sizeof(float));
    for (int k = T - 1; k >= 0; k--) {
        const int t = step_time(k, T, reverse);
        const int tp = k > 0 ? step_time(k - 1, T, reverse) : -1;
        const float *gt = tape->gates + (size_t)t * B * G;
        float *dgt = s->dgates + (size_t)t * B * G;
        for (int b = 0; b < B; b++) {
            const float *gi = gt + (size_t)b * G, *gf = gi + H, *gg = gi + 2 * H, *go = gi + 3 * H;
            const float *tc = tape->aux + ((size_t)t * B + b) * H;
            const float *cp = tp >= 0 ? tape->cell + ((size_t)tp * B + b) * H : NULL;
            const float *dyb = dy + ((size_t)t * B + b) * ldy;
            float *dhb = s->dh + (size_t)b * H, *dcb = s->dc + (size_t)b * H;
            float *di = dgt + (size_t)b * G, *df = di + H, *dg = di + 2 * H, *dout = di + 3 * H;
            for (int j = 0; j < H; j++) {
                const float dh = dyb[j] + dhb[j];
                const float dc = dcb[j] + dh * go[j] * (1.0f - tc[j] * tc[j]);
                const float cprev = cp ? cp[j] : 0.0f;
                di[j] = dc * gg[j] * gi[j] * (1.0f - gi[j]);
                df[j] = dc * cprev * gf[j] * (1.0f - gf[j]);
                dg[j] = dc * gi[j] * (1.0f - gg[j] * gg[j]);
                dout[j] = dh * tc[j] * go[j] * (1.0f - go[j]);
                dcb[j] = dc * gf[j];
            }
        }
        if (tp >= 0) /* dh_prev [B x H] = dgates [B x 4H] W_hh [4H x H] */
            rnn_matmul(dgt, G, w->w_hh, H, s->dh, H, B, G, H, 0);
    }
    /* Weight gradients over all steps at once: dW_hh += dG_t^T h_prev(t), dW_ih += dG^T X. */
    if (T > 1) {
        const size_t step = (size_t)B;
        const float *dg = reverse ? s->dgates : s->dgates + step * G;
        const float *hp = reverse ? y + step * ldy : y;
        sgemm(GEMM_T, GEMM_N, G, H, (T - 1) * B, 1.0f, dg, G, hp, ldy, 1.0f, w->dw_hh, H);
    }
    const int rows = rnn_sum_steps(s->dgates, T, x_steps, B, G);
    sgemm(GEMM_T, GEMM_N, G, I, rows, 1.0f, s->dgates, G, x, ldx, 1.0f, w->dw_ih, I);
    /* b_ih and b_hh enter every gate the same way: one sum serves both. */
    memset(s->dbias, 0, (size_t)G * sizeof(float));
    column_sums(s->dbias, s->dgates, rows, G);
    vec_add(w->db_ih, s->dbias, (size_t)G);
    vec_add(w->db_hh, s->dbias, (size_t)G);
}
