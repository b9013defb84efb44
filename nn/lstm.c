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
    /* gates [T*B x 4H] = X [T*B x I] W_ih^T; a constant input's [B x 4H] is projected once,
     * into the block after the last step (see rnn_plan_tape), with b_ih + b_hh added there. */
    float *proj = x_steps == 1 ? tape->gates + (size_t)T * B * G : NULL;
    sgemm(GEMM_N, GEMM_T, proj ? B : T * B, G, I, 1.0f, x, ldx, w->w_ih, I, 0.0f,
          proj ? proj : tape->gates, G);
    for (int j = 0; j < G; j++)
        tape->bias[j] = w->b_ih[j] + w->b_hh[j];
    /* Otherwise each step adds the biases in its product, the first step here. */
    vec_add_bias(proj ? proj : tape->gates + (size_t)step_time(0, T, reverse) * B * G,
                 tape->bias, B, G);
    const float *step_bias = proj ? NULL : tape->bias;

    transpose_weights(w->w_hh, G, H, tape->w_hh_t);
    for (int k = 0; k < T; k++) {
        const int t = step_time(k, T, reverse);
        const int tp = k > 0 ? step_time(k - 1, T, reverse) : -1;
        float *gt = tape->gates + (size_t)t * B * G;
        float *ct = tape->cell + (size_t)t * B * H;
        float *tct = tape->aux + (size_t)t * B * H;
        if (tp >= 0) /* gates [B x 4H] = proj + bias + h_prev [B x H] W_hh^T [H x 4H] */
            rnn_matmul(y + (size_t)tp * B * ldy, ldy, tape->w_hh_t, G, proj ? proj : gt, G,
                       step_bias, gt, G, B, H, G);
        else if (proj)
            memcpy(gt, proj, (size_t)B * G * sizeof(float));
        lstm_cell_forward(gt, tp >= 0 ? tape->cell + (size_t)tp * B * H : NULL, ct, tct,
                          y + (size_t)t * B * ldy, ldy, B, H);
    }
}

void lstm_dir_backward(const RnnWeights *w, const RnnTape *tape, RnnScratch *s, const float *x,
                       int ldx, const float *y, int ldy, const float *dy, int T, int x_steps, int B, int I,
                       int H, int reverse)
{
    const int G = 4 * H;
    memset(s->dh, 0, (size_t)B * H * sizeof(float));
    memset(s->dc, 0, (size_t)B * H * sizeof(float));
    memset(s->dbias, 0, (size_t)G * sizeof(float));
    for (int k = T - 1; k >= 0; k--) {
        const int t = step_time(k, T, reverse);
        const int tp = k > 0 ? step_time(k - 1, T, reverse) : -1;
        const float *gt = tape->gates + (size_t)t * B * G;
        float *dgt = s->dgates + (size_t)t * B * G;
        lstm_cell_backward(gt, tape->aux + (size_t)t * B * H,
                           tp >= 0 ? tape->cell + (size_t)tp * B * H : NULL,
                           dy + (size_t)t * B * ldy, ldy, s->dh, s->dc, dgt, s->dbias, B, H);
        if (tp >= 0) /* dh_prev [B x H] = dgates [B x 4H] W_hh [4H x H] */
            rnn_matmul(dgt, G, w->w_hh, H, NULL, 0, NULL, s->dh, H, B, G, H);
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
    vec_add(w->db_ih, s->dbias, (size_t)G);
    vec_add(w->db_hh, s->dbias, (size_t)G);
}
