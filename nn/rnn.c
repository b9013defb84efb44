/* rnn.c — stacks of LSTM or GRU layers, one or two directions each (PyTorch's nn.LSTM/nn.GRU):
 * parameter binding in state_dict order, memory planning, and the layer-by-layer forward and
 * backward passes. The two directions of a layer are independent until the next layer, so
 * they run on two OpenMP threads when there are two. */
#include "nn.h"
#include "nn_internal.h"

#include <omp.h>
#include <string.h>

int rnn_gate_count(RnnKind kind) { return kind == RNN_LSTM ? 4 : 3; }

static size_t layer_input(int input, int hidden, int dirs, int layer)
{
    return layer == 0 ? (size_t)input : (size_t)dirs * hidden;
}

size_t rnn_param_count(RnnKind kind, int input, int hidden, int layers, int dirs)
{
    const size_t gh = (size_t)rnn_gate_count(kind) * hidden;
    size_t n = 0;
    for (int l = 0; l < layers; l++)
        n += (size_t)dirs * (gh * layer_input(input, hidden, dirs, l) + gh * hidden + 2 * gh);
    return n;
}

size_t rnn_bind(Rnn *r, RnnKind kind, int input, int hidden, int layers, int dirs, float *params,
                float *grads)
{
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->input = input;
    r->hidden = hidden;
    r->layers = layers;
    r->dirs = dirs;
    const size_t gh = (size_t)rnn_gate_count(kind) * hidden;
    size_t off = 0;
    for (int l = 0; l < layers; l++)
        for (int d = 0; d < dirs; d++) {
            RnnWeights *w = &r->w[l][d];
            const size_t sizes[4] = {gh * layer_input(input, hidden, dirs, l), gh * hidden, gh, gh};
            float **p[4] = {&w->w_ih, &w->w_hh, &w->b_ih, &w->b_hh};
            float **g[4] = {&w->dw_ih, &w->dw_hh, &w->db_ih, &w->db_hh};
            for (int i = 0; i < 4; i++) {
                *p[i] = params + off;
                *g[i] = grads ? grads + off : NULL;
                off += sizes[i];
            }
        }
    return off;
}

StatusCode rnn_plan_tape(const Rnn *r, RnnBuffers *b, Arena *a, int T, int B, Status *st)
{
    if (T < 1 || B < 1 || r->layers < 1 || r->layers > RNN_MAX_LAYERS || r->dirs < 1 ||
        r->dirs > 2)
        return status_fail(st, TK_EINVAL, "rnn: bad sizes (T %d, batch %d, %d layers, %d dirs)",
                           T, B, r->layers, r->dirs);
    memset(b, 0, sizeof *b);
    b->T = T;
    b->B = B;
    const size_t tb = (size_t)T * B, H = (size_t)r->hidden, G = (size_t)rnn_gate_count(r->kind);
    const size_t out = tb * r->dirs * H;
    StatusCode rc = TK_OK;
    for (int l = 0; l < r->layers && !rc; l++) {
        rc = arena_take(a, &b->out[l], out, "rnn", st);
        for (int d = 0; d < r->dirs && !rc; d++) {
            /* a constant input's projection gets a block of its own after the T steps */
            const size_t blocks = l == 0 && r->const_input ? tb + B : tb;
            rc = arena_take(a, &b->tape[l][d].gates, blocks * G * H, "rnn", st);
            if (!rc)
                rc = arena_take(a, &b->tape[l][d].cell, tb * H, "rnn", st);
            if (!rc && r->kind == RNN_LSTM)
                rc = arena_take(a, &b->tape[l][d].aux, tb * H, "rnn", st);
            if (!rc)
                rc = arena_take(a, &b->tape[l][d].w_hh_t, G * H * H, "rnn", st);
            if (!rc)
                rc = arena_take(a, &b->tape[l][d].bias, G * H, "rnn", st);
        }
    }
    return rc;
}

static size_t at_least(size_t v, size_t x) { return v > x ? v : x; }

StatusCode rnn_plan_backward(const Rnn *const *rs, RnnBuffers *const *bs, int n, Arena *a,
                             Status *st)
{
    /* The largest need of each buffer over the stacks (an LSTM's wider gates, a GRU's
     * hidden-side gates, a deeper stack's layer gradients). */
    size_t dgates = 0, dgates_h = 0, dh = 0, dc = 0, dbias = 0, dout = 0, dirs = 0, douts = 0;
    for (int i = 0; i < n; i++) {
        const Rnn *r = rs[i];
        const size_t tb = (size_t)bs[i]->T * bs[i]->B, H = (size_t)r->hidden;
        const size_t gh = (size_t)rnn_gate_count(r->kind) * H;
        dgates = at_least(dgates, tb * gh);
        if (r->kind == RNN_GRU)
            dgates_h = at_least(dgates_h, tb * H);
        dh = at_least(dh, (size_t)bs[i]->B * H);
        if (r->kind == RNN_LSTM)
            dc = at_least(dc, (size_t)bs[i]->B * H);
        dbias = at_least(dbias, 4 * H); /* 4H for either kind, see RnnScratch */
        dout = at_least(dout, tb * r->dirs * H);
        dirs = at_least(dirs, (size_t)r->dirs);
        /* layer l's input gradient goes to dout[(layers-1-l) % 2] for l >= 1 */
        douts = at_least(douts, r->layers - 1 < 2 ? (size_t)r->layers - 1 : 2);
    }
    RnnScratch scratch[2] = {{0}};
    float *dout_bufs[2] = {NULL, NULL};
    StatusCode rc = TK_OK;
    for (size_t d = 0; d < dirs && !rc; d++) {
        RnnScratch *s = &scratch[d];
        rc = arena_take(a, &s->dgates, dgates, "rnn", st);
        if (!rc && dgates_h)
            rc = arena_take(a, &s->dgates_h, dgates_h, "rnn", st);
        if (!rc)
            rc = arena_take(a, &s->dh, dh, "rnn", st);
        if (!rc && dc)
            rc = arena_take(a, &s->dc, dc, "rnn", st);
        if (!rc)
            rc = arena_take(a, &s->dbias, dbias, "rnn", st);
    }
    for (size_t i = 0; i < douts && !rc; i++)
        rc = arena_take(a, &dout_bufs[i], dout, "rnn", st);
    for (int i = 0; i < n; i++) {
        memcpy(bs[i]->scratch, scratch, sizeof scratch);
        memcpy(bs[i]->dout, dout_bufs, sizeof dout_bufs);
    }
    return rc;
}

StatusCode rnn_plan(const Rnn *r, RnnBuffers *b, Arena *a, int T, int B, Status *st)
{
    StatusCode rc = rnn_plan_tape(r, b, a, T, B, st);
    return rc ? rc : rnn_plan_backward(&r, &b, 1, a, st);
}

/* Below this many hidden values per direction (T*B*H) a layer takes less time than waking a
 * second thread costs. */
#define RNN_PARALLEL_MIN_WORK 16384

/* Threads for the directions of one layer: both at once when OpenMP has two to give and the
 * layer is big enough. The result is the same either way. */
static int direction_threads(const Rnn *r, int T, int B)
{
    return r->dirs > 1 && (long)T * B * r->hidden >= RNN_PARALLEL_MIN_WORK && !omp_in_parallel() &&
                   omp_get_max_threads() > 1
               ? 2
               : 1;
}

void rnn_forward(const Rnn *r, RnnBuffers *b, const float *x, int T, int B)
{
    const int H = r->hidden, ldy = r->dirs * H;
    const float *in = x;
    int in_dim = r->input;
    for (int l = 0; l < r->layers; l++) {
        const int x_steps = l == 0 && r->const_input ? 1 : T;
#pragma omp parallel for num_threads(direction_threads(r, T, B)) schedule(static, 1)
        for (int d = 0; d < r->dirs; d++) {
            if (r->kind == RNN_LSTM)
                lstm_dir_forward(&r->w[l][d], &b->tape[l][d], in, in_dim, b->out[l] + d * H, ldy,
                                 T, x_steps, B, in_dim, H, d);
            else
                gru_dir_forward(&r->w[l][d], &b->tape[l][d], in, in_dim, b->out[l] + d * H, ldy, T,
                                x_steps, B, in_dim, H, d);
        }
        in = b->out[l];
        in_dim = ldy;
    }
}

void rnn_backward(const Rnn *r, RnnBuffers *b, const float *x, const float *dy, float *dx, int T,
                  int B)
{
    const int H = r->hidden, ldy = r->dirs * H, G = rnn_gate_count(r->kind) * H;
    const float *dcur = dy;
    for (int l = r->layers - 1; l >= 0; l--) {
        const float *in = l == 0 ? x : b->out[l - 1];
        const int in_dim = l == 0 ? r->input : ldy;
        const int x_steps = l == 0 && r->const_input ? 1 : T;
#pragma omp parallel for num_threads(direction_threads(r, T, B)) schedule(static, 1)
        for (int d = 0; d < r->dirs; d++) {
            if (r->kind == RNN_LSTM)
                lstm_dir_backward(&r->w[l][d], &b->tape[l][d], &b->scratch[d], in, in_dim,
                                  b->out[l] + d * H, ldy, dcur + d * H, T, x_steps, B, in_dim, H,
                                  d);
            else
                gru_dir_backward(&r->w[l][d], &b->tape[l][d], &b->scratch[d], in, in_dim,
                                 b->out[l] + d * H, ldy, dcur + d * H, T, x_steps, B, in_dim, H,
                                 d);
        }
        float *dprev = l == 0 ? dx : b->dout[(r->layers - 1 - l) % 2];
        if (!dprev)
            continue;
        /* d(input) [T*B x I] = sum over directions of dgates [T*B x G] W_ih [G x I] (B rows
         * of step-summed dgates for a constant input) */
        const int rows = x_steps == 1 ? B : T * B;
        for (int d = 0; d < r->dirs; d++)
            sgemm(GEMM_N, GEMM_N, rows, in_dim, G, 1.0f, b->scratch[d].dgates, G,
                  r->w[l][d].w_ih, in_dim, d ? 1.0f : 0.0f, dprev, in_dim);
        dcur = dprev;
    }
}

int rnn_sum_steps(float *dgates, int T, int x_steps, int B, int G)
{
    if (x_steps != 1)
        return T * B;
    const size_t block = (size_t)B * G;
    for (int t = 1; t < T; t++)
        vec_add(dgates, dgates + (size_t)t * block, block);
    return B;
}

const float *rnn_output(const Rnn *r, const RnnBuffers *b) { return b->out[r->layers - 1]; }
