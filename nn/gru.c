/* gru.c — one direction of one GRU layer over a whole sequence, forward and backward through
 * time side by side. PyTorch's equations and gate order [r, z, n]:
 *   r = σ(W_ir x + b_ir + W_hr h + b_hr)    z = σ(W_iz x + b_iz + W_hz h + b_hz)
 *   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))    h' = (1 - z) ⊙ n + z ⊙ h
 * The input projections of all T steps are one GEMM; per step, h W_hh^T is split into the
 * [r, z] part (added to the gates in place) and the n part (kept on the tape, because backward
 * needs W_hn h + b_hn apart from the input side). Time-major, row (t*B + b) at stride ld. */
#include "nn.h"
#include "nn_internal.h"

#include <string.h>

void gru_dir_forward(const RnnWeights *w, RnnTape *tape, const float *x, int ldx, float *y,
                     int ldy, int T, int x_steps, int B, int I, int H, int reverse)
{
    const int G = 3 * H;
    /* gates [T*B x 3H] = X W_ih^T; a constant input's [B x 3H] is projected once, into the
     * block after the last step (see rnn_plan_tape), with its biases added there: b_ih, and b_hh's
     * r and z parts (b_hn stays inside r ⊙ (W_hn h + b_hn)). */
    float *proj = x_steps == 1 ? tape->gates + (size_t)T * B * G : NULL;
    sgemm(GEMM_N, GEMM_T, proj ? B : T * B, G, I, 1.0f, x, ldx, w->w_ih, I, 0.0f,
          proj ? proj : tape->gates, G);
    for (int j = 0; j < G; j++)
        tape->bias[j] = j < 2 * H ? w->b_ih[j] + w->b_hh[j] : w->b_ih[j];
    /* Otherwise each step adds the biases in its products, the first step here. */
    vec_add_bias(proj ? proj : tape->gates + (size_t)step_time(0, T, reverse) * B * G,
                 tape->bias, B, G);
    const float *step_bias = proj ? NULL : tape->bias;

    transpose_weights(w->w_hh, G, H, tape->w_hh_t);
    for (int k = 0; k < T; k++) {
        const int t = step_time(k, T, reverse);
        const int tp = k > 0 ? step_time(k - 1, T, reverse) : -1;
        float *gt = tape->gates + (size_t)t * B * G;
        float *hn = tape->cell + (size_t)t * B * H;
        const float *hprev = tp >= 0 ? y + (size_t)tp * B * ldy : NULL;
        if (hprev) {
            /* [r z] = proj + bias + h_prev W_h[rz]^T; n = proj + b_in (a product of depth 0,
             * the input side only); hn = b_hn + h_prev W_hn^T */
            const float *init = proj ? proj : gt;
            rnn_matmul(hprev, ldy, tape->w_hh_t, G, init, G, step_bias, gt, G, B, H, 2 * H);
            rnn_matmul(hprev, ldy, tape->w_hh_t, G, init + 2 * H, G,
                       step_bias ? step_bias + 2 * H : NULL, gt + 2 * H, G, B, 0, H);
            rnn_matmul(hprev, ldy, tape->w_hh_t + 2 * H, G, NULL, 0, w->b_hh + 2 * H, hn, H, B, H,
                       H);
        } else {
            if (proj)
                memcpy(gt, proj, (size_t)B * G * sizeof(float));
            memset(hn, 0, (size_t)B * H * sizeof(float));
            vec_add_bias(hn, w->b_hh + 2 * H, B, H);
        }
        gru_cell_forward(gt, hn, hprev, y + (size_t)t * B * ldy, ldy, B, H);
    }
}

void gru_dir_backward(const RnnWeights *w, const RnnTape *tape, RnnScratch *s, const float *x,
                      int ldx, const float *y, int ldy, const float *dy, int T, int x_steps, int B, int I,
                      int H, int reverse)
{
    const int G = 3 * H;
    memset(s->dh, 0, (size_t)B * H * sizeof(float));
    memset(s->dbias, 0, (size_t)(G + H) * sizeof(float));
    for (int k = T - 1; k >= 0; k--) {
        const int t = step_time(k, T, reverse);
        const int tp = k > 0 ? step_time(k - 1, T, reverse) : -1;
        const float *gt = tape->gates + (size_t)t * B * G;
        const float *hn = tape->cell + (size_t)t * B * H;
        float *dgx = s->dgates + (size_t)t * B * G;
        float *dhn = s->dgates_h + (size_t)t * B * H;
        gru_cell_backward(gt, hn, tp >= 0 ? y + (size_t)tp * B * ldy : NULL,
                          dy + (size_t)t * B * ldy, ldy, s->dh, dgx, dhn, s->dbias, B, H);
        if (tp >= 0) {
            /* dh_prev += [dr dz dhn] [B x 3H] W_hh [3H x H]: the [r z] rows of W_hh with the
             * input side's gradients, then the n rows, each product continuing the other's
             * sums (the same terms in the same order as one product over 3H). */
            rnn_matmul(dgx, G, w->w_hh, H, s->dh, H, NULL, s->dh, H, B, 2 * H, H);
            rnn_matmul(dhn, H, w->w_hh + (size_t)2 * H * H, H, s->dh, H, NULL, s->dh, H, B, H, H);
        }
    }
    /* Bias gradients (summed by the cell kernel): b_ih gets [r z n] of the input side, b_hh
     * the same [r z] and its own n. */
    vec_add(w->db_ih, s->dbias, (size_t)G);
    vec_add(w->db_hh, s->dbias, (size_t)(2 * H));
    vec_add(w->db_hh + 2 * H, s->dbias + G, (size_t)H);
    if (T > 1) {
        /* dW_hh [3H x H] += dG_h^T h_prev over the steps that have one: rows [r z] from the
         * input side's gradients, rows n from the hidden side's own. */
        const size_t step = (size_t)B;
        const float *dg = reverse ? s->dgates : s->dgates + step * G;
        const float *dhn = reverse ? s->dgates_h : s->dgates_h + step * H;
        const float *hp = reverse ? y + step * ldy : y;
        sgemm(GEMM_T, GEMM_N, 2 * H, H, (T - 1) * B, 1.0f, dg, G, hp, ldy, 1.0f, w->dw_hh, H);
        sgemm(GEMM_T, GEMM_N, H, H, (T - 1) * B, 1.0f, dhn, H, hp, ldy, 1.0f,
              w->dw_hh + (size_t)2 * H * H, H);
    }
    const int rows = rnn_sum_steps(s->dgates, T, x_steps, B, G);
    sgemm(GEMM_T, GEMM_N, G, I, rows, 1.0f, s->dgates, G, x, ldx, 1.0f, w->dw_ih, I);
}
