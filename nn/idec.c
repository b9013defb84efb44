/* idec.c — Improved Deep Embedded Clustering (Guo, Gao, Liu, Yin, IJCAI 2017) on the sequence
 * autoencoder: after reconstruction training, encoder, decoder and cluster centres are
 * fine-tuned together on L = MSE + gamma * KL(P || Q) (nn/dec_loss.c). Keeping the
 * reconstruction term is what IDEC adds to DEC: it stops the clustering loss from distorting
 * the latent space until every window sits on a centre. The target P is recomputed over every
 * window each update_interval steps and held constant in between; training stops when fewer
 * than tol of the windows change cluster between two updates (the papers' rule) or after
 * max_steps. All memory is taken before the loop. */
#include "nn.h"
#include "nn_internal.h"

#include <stdlib.h>
#include <string.h>

IdecConfig idec_default_config(int k)
{
    return (IdecConfig){.k = k, .gamma = 0.1f, .update_interval = 140, .tol = 0.001f,
                        .max_steps = 1000, .batch = 64, .lr = 1e-3f, .seed = 0};
}

typedef struct {
    SeqAEWork w;
    float *z, *q, *p;   /* [n x L], [n x k], [n x k]: every window */
    float *x;           /* [batch, T, F] */
    float *pb, *qb, *dz; /* the batch's rows of P, its Q, the clustering loss's latent gradient */
    float *dmu;         /* [k x L] */
    float *adam_m, *adam_v, *cm, *cv;
    double *f;          /* [k] */
    int *label, *order;
} IdecBuffers;

static StatusCode plan(const SeqAE *m, IdecBuffers *b, Arena *a, int n, int F, const IdecConfig *c,
                       Status *st)
{
    const size_t L = (size_t)m->cfg.latent, K = (size_t)c->k, B = (size_t)c->batch;
    StatusCode rc = seqae_work_plan(m, &b->w, a, c->batch, 1, st);
    struct {
        float **p;
        size_t count;
    } bufs[] = {{&b->z, n * L},      {&b->q, n * K},
                {&b->p, n * K},      {&b->x, B * m->cfg.seq_len * F},
                {&b->pb, B * K},     {&b->qb, B * K},
                {&b->dz, B * L},     {&b->dmu, K * L},
                {&b->adam_m, m->n_params}, {&b->adam_v, m->n_params},
                {&b->cm, K * L},     {&b->cv, K * L}};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0] && !rc; i++)
        rc = arena_take(a, bufs[i].p, bufs[i].count, "idec", st);
    /* The integer and double buffers are carved as floats of the same size or more. */
    float *f = NULL, *label = NULL, *order = NULL;
    if (!rc)
        rc = arena_take(a, &f, 2 * K, "idec", st);
    if (!rc)
        rc = arena_take(a, &label, (size_t)n, "idec", st);
    if (!rc)
        rc = arena_take(a, &order, (size_t)n, "idec", st);
    b->f = (double *)f;
    b->label = (int *)label;
    b->order = (int *)order;
    return rc;
}

/* Every window's latent vector, Q and P; labels become argmax Q and *changed the share of
 * windows whose label moved. */
static void update_target(SeqAE *m, IdecBuffers *b, const Keypoints *k, const int *starts, int n,
                          const IdecConfig *c, const float *centers, float *changed)
{
    const int T = m->cfg.seq_len, L = m->cfg.latent;
    for (int i = 0; i < n; i += c->batch) {
        const int B = n - i < c->batch ? n - i : c->batch;
        windows_gather(k, starts + i, NULL, B, T, b->x);
        seqae_encode(m, &b->w, b->x, B, b->z + (size_t)i * L);
    }
    dec_soft_assign(b->z, n, L, centers, c->k, b->q);
    dec_target(b->q, n, c->k, b->f, b->p);
    int moved = 0;
    for (int i = 0; i < n; i++) {
        const int l = dec_argmax(b->q + (size_t)i * c->k, c->k);
        moved += l != b->label[i];
        b->label[i] = l;
    }
    *changed = (float)moved / n;
}

StatusCode idec_fit(SeqAE *m, const Keypoints *k, const int *starts, int n, const IdecConfig *c,
                    float *centers, IdecCallback cb, void *user, IdecResult *res, Status *st)
{
    memset(res, 0, sizeof *res);
    const int L = m->cfg.latent, K = c->k;
    if (K < 1 || K > DEC_MAX_K || L > DEC_MAX_LATENT || n < K || c->batch < 1 ||
        c->update_interval < 1 || c->max_steps < 0 || !(c->gamma >= 0) || !(c->lr > 0))
        return status_fail(st, TK_EINVAL,
                           "idec: bad settings (k %d of at most %d, latent %d, %d windows, batch "
                           "%d, update interval %d, max steps %d, gamma %g, lr %g)",
                           K, DEC_MAX_K, L, n, c->batch, c->update_interval, c->max_steps,
                           c->gamma, c->lr);
    if (k->n_features != m->cfg.features)
        return status_fail(st, TK_EINVAL, "idec: %d features per frame, the model takes %d",
                           k->n_features, m->cfg.features);
    Arena measure, arena = {0};
    IdecBuffers b;
    arena_init_measure(&measure);
    plan(m, &b, &measure, n, k->n_features, c, st);
    StatusCode rc = arena_init(&arena, measure.peak, st);
    if (!rc)
        rc = plan(m, &b, &arena, n, k->n_features, c, st);
    if (rc) {
        arena_free(&arena);
        return rc;
    }
    Adam model_opt, centre_opt;
    adam_init(&model_opt, c->lr, b.adam_m, b.adam_v, m->n_params);
    adam_init(&centre_opt, c->lr, b.cm, b.cv, (size_t)K * L);
    Rng rng;
    rng_seed(&rng, c->seed, 3);
    for (int i = 0; i < n; i++)
        b.label[i] = -1;
    int pos = n; /* a fresh shuffle before the first step */
    for (;;) {
        if (res->steps % c->update_interval == 0 || res->steps == c->max_steps) {
            update_target(m, &b, k, starts, n, c, centers, &res->changed);
            res->updates++;
            if (cb)
                cb(user, res, c);
            if (res->updates > 1 && res->changed < c->tol) {
                res->converged = 1;
                break;
            }
        }
        if (res->steps >= c->max_steps)
            break;
        if (pos >= n) {
            for (int i = 0; i < n; i++)
                b.order[i] = i;
            rng_shuffle_int(&rng, b.order, (size_t)n);
            pos = 0;
        }
        const int B = n - pos < c->batch ? n - pos : c->batch;
        const int *idx = b.order + pos;
        windows_gather(k, starts, idx, B, m->cfg.seq_len, b.x);
        for (int i = 0; i < B; i++)
            memcpy(b.pb + (size_t)i * K, b.p + (size_t)idx[i] * K, sizeof(float) * K);
        memset(m->grads, 0, m->n_params * sizeof(float));
        memset(b.dmu, 0, sizeof(float) * K * L);
        res->rec_loss = seqae_forward(m, &b.w, b.x, B, 1);
        res->kl_loss = dec_kl_loss(b.w.z, B, L, centers, K, b.pb, c->gamma, b.qb, b.dz, b.dmu);
        seqae_backward(m, &b.w, B, b.dz);
        adam_step(&model_opt, m->params, m->grads);
        adam_step(&centre_opt, centers, b.dmu);
        pos += B;
        res->steps++;
        if (cb)
            cb(user, res, c);
    }
    arena_free(&arena);
    return TK_OK;
}
