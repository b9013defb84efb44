/* seqae.c — the keypoint sequence autoencoder ("A — SeqAE" of shared/bench/README.md):
 *   x [B, T, F] -> BiLSTM encoder -> [h_n fwd, h_n bwd] of the top layer -> Linear -> z [B, L]
 *   -> z repeated T times (or at step 0 only, then zeros) -> BiGRU decoder -> per-step
 *   Linear(2H -> F) -> reconstruction,
 * trained on the mean squared reconstruction error (optionally with the decoder GRU kept at
 * its initial weights). Parameters are one flat array in the order
 * of the PyTorch module's state_dict (enc.*, to_latent.*, dec.*, out.*), so PyTorch's
 * initial weights load with one copy. */
#include "nn.h"
#include "nn_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

SeqAEConfig seqae_default_config(void)
{
    return (SeqAEConfig){.features = 66, .seq_len = 40, .hidden = 32, .latent = 32,
                         .enc_layers = 2, .dec_layers = 2};
}

static size_t bind_all(SeqAE *m)
{
    const SeqAEConfig *c = &m->cfg;
    float *p = m->params, *g = m->grads;
    size_t off = rnn_bind(&m->enc, RNN_LSTM, c->features, c->hidden, c->enc_layers, 2, p, g);
    m->to_latent = (Linear){2 * c->hidden, c->latent, p + off, p + off + 2 * c->hidden * c->latent,
                            g + off, g + off + 2 * c->hidden * c->latent};
    off += (size_t)(2 * c->hidden + 1) * c->latent;
    off += rnn_bind(&m->dec, RNN_GRU, c->latent, c->hidden, c->dec_layers, 2, p + off, g + off);
    /* a repeated latent is projected once; FIRST takes the general path */
    m->dec.const_input = c->decoder_input == SEQAE_DECODER_REPEAT;
    m->out = (Linear){2 * c->hidden, c->features, p + off, p + off + 2 * c->hidden * c->features,
                      g + off, g + off + 2 * c->hidden * c->features};
    off += (size_t)(2 * c->hidden + 1) * c->features;
    return off;
}

StatusCode seqae_init(SeqAE *m, const SeqAEConfig *cfg, Status *st)
{
    memset(m, 0, sizeof *m);
    if (cfg->features < 1 || cfg->seq_len < 1 || cfg->hidden < 1 || cfg->latent < 1 ||
        cfg->enc_layers < 1 || cfg->enc_layers > RNN_MAX_LAYERS || cfg->dec_layers < 1 ||
        cfg->dec_layers > RNN_MAX_LAYERS || !seqae_decoder_input_name(cfg->decoder_input))
        return status_fail(st, TK_EINVAL,
                           "seqae: bad configuration (features %d, seq-len %d, hidden %d, "
                           "latent %d, layers %d/%d, decoder input %d)",
                           cfg->features, cfg->seq_len, cfg->hidden, cfg->latent, cfg->enc_layers,
                           cfg->dec_layers, (int)cfg->decoder_input);
    m->cfg = *cfg;
    const size_t two_h = 2 * (size_t)cfg->hidden;
    m->n_params = rnn_param_count(RNN_LSTM, cfg->features, cfg->hidden, cfg->enc_layers, 2) +
                  (two_h + 1) * cfg->latent +
                  rnn_param_count(RNN_GRU, cfg->latent, cfg->hidden, cfg->dec_layers, 2) +
                  (two_h + 1) * cfg->features;
    m->params = calloc(m->n_params, sizeof(float));
    m->grads = calloc(m->n_params, sizeof(float));
    if (!m->params || !m->grads) {
        seqae_free(m);
        return status_fail(st, TK_ENOMEM, "seqae: cannot allocate %zu parameters", m->n_params);
    }
    bind_all(m);
    return TK_OK;
}

const char *seqae_decoder_input_name(SeqAEDecoderInput d)
{
    return d == SEQAE_DECODER_REPEAT ? "repeat" : d == SEQAE_DECODER_FIRST ? "first" : NULL;
}

int seqae_decoder_input_parse(const char *name)
{
    return !strcmp(name, "repeat") ? SEQAE_DECODER_REPEAT
           : !strcmp(name, "first") ? SEQAE_DECODER_FIRST
                                    : -1;
}

void seqae_free(SeqAE *m)
{
    free(m->params);
    free(m->grads);
    m->params = m->grads = NULL;
}

/* Tensor i of the state_dict: fills name, shape and offset; returns -1 past the last one. */
int seqae_tensor_info(const SeqAE *m, int i, char *name, size_t name_size, int *ndim,
                      int shape[2], size_t *offset)
{
    static const char *const kinds[4] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};
    const SeqAEConfig *c = &m->cfg;
    const int H = c->hidden, enc_n = c->enc_layers * 8, dec_n = c->dec_layers * 8;
    size_t off = 0;
    for (int part = 0; part < 4; part++) {
        const int is_rnn = part == 0 || part == 2;
        const int count = part == 0 ? enc_n : part == 2 ? dec_n : 2;
        if (i >= count) {
            i -= count;
            if (part == 0)
                off += rnn_param_count(RNN_LSTM, c->features, H, c->enc_layers, 2);
            else if (part == 1)
                off += (size_t)(2 * H + 1) * c->latent;
            else if (part == 2)
                off += rnn_param_count(RNN_GRU, c->latent, H, c->dec_layers, 2);
            continue;
        }
        if (is_rnn) {
            const int gates = part == 0 ? 4 : 3, in0 = part == 0 ? c->features : c->latent;
            /* Walk to tensor i inside this stack, adding up the sizes before it. */
            for (int k = 0; k <= i; k++) {
                const int l = k / 8, kind = k % 4, in = l == 0 ? in0 : 2 * H;
                const int rows = gates * H, cols = kind == 0 ? in : kind == 1 ? H : 1;
                if (k == i) {
                    snprintf(name, name_size, "%s.%s_l%d%s", part == 0 ? "enc" : "dec",
                             kinds[kind], l, (k / 4) % 2 ? "_reverse" : "");
                    *ndim = kind < 2 ? 2 : 1;
                    shape[0] = rows;
                    shape[1] = kind < 2 ? cols : 1;
                    *offset = off;
                    return 0;
                }
                off += (size_t)rows * cols;
            }
        }
        const int rows = part == 1 ? c->latent : c->features;
        snprintf(name, name_size, "%s.%s", part == 1 ? "to_latent" : "out", i ? "bias" : "weight");
        *ndim = i ? 1 : 2;
        shape[0] = rows;
        shape[1] = i ? 1 : 2 * H;
        *offset = off + (i ? (size_t)rows * 2 * H : 0);
        return 0;
    }
    return -1;
}

void seqae_init_params(SeqAE *m, Rng *rng)
{
    char name[64];
    int ndim, shape[2];
    size_t off;
    for (int i = 0; seqae_tensor_info(m, i, name, sizeof name, &ndim, shape, &off) == 0; i++) {
        /* PyTorch: RNN weights U(±1/sqrt(H)); Linear weight and bias U(±1/sqrt(in)). */
        const int is_linear = !strncmp(name, "to_latent", 9) || !strncmp(name, "out", 3);
        const float bound = 1.0f / sqrtf((float)(is_linear ? 2 * m->cfg.hidden : m->cfg.hidden));
        const size_t count = (size_t)shape[0] * shape[1];
        for (size_t j = 0; j < count; j++)
            m->params[off + j] = bound * (2.0f * rng_uniform(rng) - 1.0f);
    }
}

StatusCode seqae_work_plan(const SeqAE *m, SeqAEWork *w, Arena *a, int batch, int train,
                           Status *st)
{
    memset(w, 0, sizeof *w);
    w->batch = batch;
    const SeqAEConfig *c = &m->cfg;
    const size_t T = (size_t)c->seq_len, B = (size_t)batch, F = (size_t)c->features;
    const size_t H2 = 2 * (size_t)c->hidden, L = (size_t)c->latent;
    StatusCode rc = rnn_plan_tape(&m->enc, &w->enc, a, c->seq_len, batch, st);
    if (!rc && train)
        rc = rnn_plan_tape(&m->dec, &w->dec, a, c->seq_len, batch, st);
    /* The decoder's backward pass ends before the encoder's begins: one scratch for both
     * (encoding alone needs none). */
    const Rnn *stacks[2] = {&m->enc, &m->dec};
    RnnBuffers *buffers[2] = {&w->enc, &w->dec};
    if (!rc && train)
        rc = rnn_plan_backward(stacks, buffers, 2, a, st);
    struct {
        float **p;
        size_t n;
    } bufs[] = {{&w->xt, T * B * F},    {&w->hcat, B * H2},     {&w->z, B * L},
                {&w->recon, T * B * F}, {&w->drecon, T * B * F}, {&w->ddec, T * B * H2},
                {&w->dz, B * L},        {&w->dhcat, B * H2}};
    /* The first three are all that encoding needs. */
    const size_t n_bufs = train ? sizeof bufs / sizeof bufs[0] : 3;
    for (size_t i = 0; i < n_bufs && !rc; i++)
        rc = arena_take(a, bufs[i].p, bufs[i].n, "seqae", st);
    if (!rc && train && c->decoder_input == SEQAE_DECODER_FIRST)
        rc = arena_take(a, &w->dec_in, T * B * L, "seqae", st);
    if (!rc && train && c->decoder_input == SEQAE_DECODER_FIRST)
        rc = arena_take(a, &w->ddec_in, T * B * L, "seqae", st);
    /* The encoder's output gradient is formed after the decoder has consumed its own. */
    w->denc = train ? w->ddec : NULL;
    return rc;
}

/* Encoder and latent: x [B, T, F] -> w->z [B, L]. */
static void encode(const SeqAE *m, SeqAEWork *w, const float *x, int B)
{
    const int T = m->cfg.seq_len, H = m->cfg.hidden;
    to_time_major(x, w->xt, B, T, m->cfg.features);
    rnn_forward(&m->enc, &w->enc, w->xt, T, B);
    const float *top = rnn_output(&m->enc, &w->enc);
    /* h_n of the forward direction is its output at T-1, of the reverse direction at 0. */
    for (int b = 0; b < B; b++) {
        memcpy(w->hcat + (size_t)b * 2 * H, top + ((size_t)(T - 1) * B + b) * 2 * H,
               (size_t)H * sizeof(float));
        memcpy(w->hcat + (size_t)b * 2 * H + H, top + (size_t)b * 2 * H + H,
               (size_t)H * sizeof(float));
    }
    linear_forward(&m->to_latent, w->hcat, w->z, B);
}

void seqae_encode(const SeqAE *m, SeqAEWork *w, const float *x, int B, float *z)
{
    encode(m, w, x, B);
    memcpy(z, w->z, (size_t)B * m->cfg.latent * sizeof(float));
}

float seqae_forward(SeqAE *m, SeqAEWork *w, const float *x, int B, int train)
{
    const int T = m->cfg.seq_len, F = m->cfg.features;
    const size_t TB = (size_t)T * B;
    const size_t BL = (size_t)B * m->cfg.latent;
    const int first = m->cfg.decoder_input == SEQAE_DECODER_FIRST;
    encode(m, w, x, B);
    if (first) {
        /* time-major: step 0 is the first [B, L] block */
        memcpy(w->dec_in, w->z, BL * sizeof(float));
        memset(w->dec_in + BL, 0, (TB - B) * m->cfg.latent * sizeof(float));
    }
    /* REPEAT: z repeated T times (const_input) */
    rnn_forward(&m->dec, &w->dec, first ? w->dec_in : w->z, T, B);
    linear_forward(&m->out, rnn_output(&m->dec, &w->dec), w->recon, (int)TB);
    return mse_loss(w->recon, w->xt, TB * F, train ? w->drecon : NULL);
}

void seqae_backward(SeqAE *m, SeqAEWork *w, int B, const float *dz_extra)
{
    const int T = m->cfg.seq_len, H = m->cfg.hidden;
    const size_t TB = (size_t)T * B;
    const int first = m->cfg.decoder_input == SEQAE_DECODER_FIRST;
    const float *dec_out = rnn_output(&m->dec, &w->dec);
    linear_backward(&m->out, dec_out, w->drecon, w->ddec, (int)TB);
    /* REPEAT: rnn_backward sums the latent's gradient over the steps. FIRST: the latent's
     * gradient is step 0's block of the input gradient. */
    float *dz = first ? w->ddec_in : w->dz;
    rnn_backward(&m->dec, &w->dec, first ? w->dec_in : w->z, w->ddec, dz, T, B);
    if (dz_extra)
        vec_add(dz, dz_extra, (size_t)B * m->cfg.latent);
    linear_backward(&m->to_latent, w->hcat, dz, w->dhcat, B);
    /* Fixed decoder weights: a zero gradient leaves Adam's moments, and so the weights, at
     * exactly zero change (training uses no weight decay). */
    if (m->cfg.fixed_decoder)
        memset(m->dec.w[0][0].dw_ih, 0,
               rnn_param_count(RNN_GRU, m->cfg.latent, H, m->cfg.dec_layers, 2) * sizeof(float));
    memset(w->denc, 0, TB * 2 * H * sizeof(float));
    for (int b = 0; b < B; b++) {
        memcpy(w->denc + ((size_t)(T - 1) * B + b) * 2 * H, w->dhcat + (size_t)b * 2 * H,
               (size_t)H * sizeof(float));
        memcpy(w->denc + (size_t)b * 2 * H + H, w->dhcat + (size_t)b * 2 * H + H,
               (size_t)H * sizeof(float));
    }
    rnn_backward(&m->enc, &w->enc, w->xt, w->denc, NULL, T, B);
}

float seqae_step(SeqAE *m, SeqAEWork *w, const float *x, int B, int train)
{
    const float loss = seqae_forward(m, w, x, B, train);
    if (train)
        seqae_backward(m, w, B, NULL);
    return loss;
}
