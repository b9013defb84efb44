/* checkpoint.c — the SeqAE as a .tkw file (io/io.h): a model file ("takt.seqae": parameters
 * under their PyTorch state_dict names, the min-max scaling, every hyperparameter), so that
 * `takt embed` needs nothing else; and a training checkpoint ("takt.seqae.checkpoint": the
 * same plus Adam's moments and step, the best parameters, the loss history, the RNG and the
 * position in the run). Numbers in metadata are written with enough digits (9 for a float,
 * 17 for a double) to read back to the same bits. */
#include "nn.h"
#include "../io/io.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KIND_MODEL "takt.seqae"
#define KIND_CHECKPOINT "takt.seqae.checkpoint"
/* What happened to the frames before the min-max scaling; files without the key predate it
 * and were all trained on frames as read. */
#define NORMALISE_KEY "normalise"
#define NORMALISE_DEFAULT "minmax"
/* The decoder's input ("repeat" or "first"); files without the key predate the choice and
 * all repeated the latent. */
#define DECODER_INPUT_KEY "decoder_input"
/* "trained" or "fixed" (the decoder's GRU kept at its initial weights); absent: trained. */
#define DECODER_WEIGHTS_KEY "decoder_weights"

static StatusCode meta_int(TkwWriter *w, const char *key, long long v, Status *st)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    return tkw_writer_meta(w, key, buf, st);
}

/* 17 significant digits read back to the same double, 9 to the same float. */
static StatusCode meta_real(TkwWriter *w, const char *key, double v, Status *st)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.17g", v);
    return tkw_writer_meta(w, key, buf, st);
}

static StatusCode meta_float(TkwWriter *w, const char *key, float v, Status *st)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.9g", (double)v);
    return tkw_writer_meta(w, key, buf, st);
}

static StatusCode tensor_1d(TkwWriter *w, const char *name, const float *v, size_t n, Status *st)
{
    const int shape[1] = {(int)n};
    return tkw_writer_tensor(w, name, DTYPE_F32, 1, shape, v, st);
}

/* Metadata and tensors common to model files and checkpoints. */
static StatusCode write_model(TkwWriter *w, const SeqAE *m, const float *params,
                              const MinMax *scale, const char *kind, Status *st)
{
    const SeqAEConfig *c = &m->cfg;
    StatusCode rc = tkw_writer_meta(w, "kind", kind, st);
    const struct {
        const char *key;
        int value;
    } ints[] = {{"features", c->features},     {"seq_len", c->seq_len},
                {"hidden", c->hidden},         {"latent", c->latent},
                {"enc_layers", c->enc_layers}, {"dec_layers", c->dec_layers}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0] && !rc; i++)
        rc = meta_int(w, ints[i].key, ints[i].value, st);
    if (!rc)
        rc = tkw_writer_meta(w, DECODER_INPUT_KEY, seqae_decoder_input_name(c->decoder_input), st);
    if (!rc)
        rc = tkw_writer_meta(w, DECODER_WEIGHTS_KEY, c->fixed_decoder ? "fixed" : "trained", st);
    if (!rc)
        rc = tkw_writer_meta(w, "model",
                             c->decoder_input == SEQAE_DECODER_FIRST
                                 ? "BiLSTM encoder -> [h_n fwd, h_n bwd] -> to_latent -> latent "
                                   "at step 0, zeros after -> BiGRU decoder -> out; input scaled "
                                   "by (x - norm.min) / (norm.max - norm.min)"
                                 : "BiLSTM encoder -> [h_n fwd, h_n bwd] -> to_latent -> latent "
                                   "repeated seq_len times -> BiGRU decoder -> out; input scaled "
                                   "by (x - norm.min) / (norm.max - norm.min)",
                             st);
    char name[64];
    int ndim, shape[2];
    size_t off;
    for (int i = 0; !rc && seqae_tensor_info(m, i, name, sizeof name, &ndim, shape, &off) == 0;
         i++)
        rc = tkw_writer_tensor(w, name, DTYPE_F32, ndim, shape, params + off, st);
    if (!rc)
        rc = tensor_1d(w, "norm.min", scale->min, (size_t)scale->n, st);
    if (!rc)
        rc = tensor_1d(w, "norm.max", scale->max, (size_t)scale->n, st);
    return rc;
}

/* Training settings as metadata (model files and checkpoints). */
static StatusCode write_train_settings(TkwWriter *w, const TrainConfig *c, Status *st)
{
    const struct {
        const char *key;
        long long value;
    } ints[] = {{"train.epochs", c->epochs},
                {"train.batch", c->batch},
                {"train.stride", c->stride},
                {"train.patience", c->patience}};
    StatusCode rc = TK_OK;
    for (size_t i = 0; i < sizeof ints / sizeof ints[0] && !rc; i++)
        rc = meta_int(w, ints[i].key, ints[i].value, st);
    if (!rc)
        rc = meta_float(w, "train.lr", c->lr, st);
    if (!rc)
        rc = meta_float(w, "train.clip", c->clip, st);
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRIu64, c->seed);
    if (!rc)
        rc = tkw_writer_meta(w, "train.seed", buf, st);
    return rc;
}

static StatusCode save_model(const SeqAE *m, const MinMax *scale, const char *normalise,
                             const TrainState *trained, const char *path, Status *st)
{
    if (strcmp(normalise, "minmax") && strcmp(normalise, "body"))
        return status_fail(st, TK_EINVAL, "%s: normalisation '%s': expected minmax or body",
                           path, normalise);
    TkwWriter *w;
    StatusCode rc = tkw_writer_new(&w, st);
    if (rc)
        return rc;
    rc = write_model(w, m, m->params, scale, KIND_MODEL, st);
    if (!rc)
        rc = tkw_writer_meta(w, NORMALISE_KEY, normalise, st);
    if (!rc && trained)
        rc = write_train_settings(w, &trained->cfg, st);
    if (!rc && trained)
        rc = meta_int(w, "train.epochs_run", trained->epoch, st);
    if (!rc && trained)
        rc = meta_float(w, "train.best_loss", trained->best_val, st);
    if (!rc)
        rc = tkw_writer_save(w, path, st);
    tkw_writer_free(w);
    return rc;
}

StatusCode seqae_save(const SeqAE *m, const MinMax *scale, const char *normalise,
                      const char *path, Status *st)
{
    return save_model(m, scale, normalise, NULL, path, st);
}

StatusCode seqae_save_trained(const TrainState *s, const char *path, Status *st)
{
    return save_model(&s->model, &s->scale, NORMALISE_DEFAULT, s, path, st);
}

static StatusCode get_long(const TkwFile *f, const char *key, long long lo, long long hi,
                           long long *out, Status *st)
{
    const char *v = tkw_meta(f, key);
    if (!v)
        return status_fail(st, TK_EFORMAT, "%s: metadata '%s' missing", f->path, key);
    char *end;
    errno = 0;
    const long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi)
        return status_fail(st, TK_EFORMAT, "%s: metadata '%s' = '%s' is not an integer in [%lld, "
                           "%lld]", f->path, key, v, lo, hi);
    *out = x;
    return TK_OK;
}

static StatusCode get_int(const TkwFile *f, const char *key, int lo, int hi, int *out, Status *st)
{
    long long x;
    StatusCode rc = get_long(f, key, lo, hi, &x, st);
    if (!rc)
        *out = (int)x;
    return rc;
}

static StatusCode get_real(const TkwFile *f, const char *key, double *out, Status *st)
{
    const char *v = tkw_meta(f, key);
    if (!v)
        return status_fail(st, TK_EFORMAT, "%s: metadata '%s' missing", f->path, key);
    char *end;
    *out = strtod(v, &end);
    if (end == v || *end)
        return status_fail(st, TK_EFORMAT, "%s: metadata '%s' = '%s' is not a number", f->path,
                           key, v);
    return TK_OK;
}

static StatusCode check_kind(const TkwFile *f, const char *want, Status *st)
{
    const char *kind = tkw_meta(f, "kind");
    if (kind && !strcmp(kind, want))
        return TK_OK;
    return status_fail(st, TK_EFORMAT, "%s: not a %s file (its kind is '%s')", f->path,
                       !strcmp(want, KIND_MODEL) ? "SeqAE model" : "SeqAE training checkpoint",
                       kind ? kind : "not given");
}

static StatusCode read_config(const TkwFile *f, SeqAEConfig *c, Status *st)
{
    StatusCode rc = get_int(f, "features", 1, 1 << 20, &c->features, st);
    if (!rc)
        rc = get_int(f, "seq_len", 1, 1 << 20, &c->seq_len, st);
    if (!rc)
        rc = get_int(f, "hidden", 1, 1 << 16, &c->hidden, st);
    if (!rc)
        rc = get_int(f, "latent", 1, 1 << 16, &c->latent, st);
    if (!rc)
        rc = get_int(f, "enc_layers", 1, RNN_MAX_LAYERS, &c->enc_layers, st);
    if (!rc)
        rc = get_int(f, "dec_layers", 1, RNN_MAX_LAYERS, &c->dec_layers, st);
    const char *dec_in = tkw_meta(f, DECODER_INPUT_KEY);
    const int d = dec_in ? seqae_decoder_input_parse(dec_in) : SEQAE_DECODER_REPEAT;
    if (!rc && d < 0)
        rc = status_fail(st, TK_EFORMAT, "%s: metadata '%s' = '%s': expected repeat or first",
                         f->path, DECODER_INPUT_KEY, dec_in);
    if (!rc)
        c->decoder_input = (SeqAEDecoderInput)d;
    const char *dec_w = tkw_meta(f, DECODER_WEIGHTS_KEY);
    if (!rc && dec_w && strcmp(dec_w, "trained") && strcmp(dec_w, "fixed"))
        rc = status_fail(st, TK_EFORMAT, "%s: metadata '%s' = '%s': expected trained or fixed",
                         f->path, DECODER_WEIGHTS_KEY, dec_w);
    c->fixed_decoder = dec_w && !strcmp(dec_w, "fixed");
    return rc;
}

/* Parameters by name into params, and the scaling (allocated). */
static StatusCode read_model(const TkwFile *f, const SeqAE *m, float *params, MinMax *scale,
                             Status *st)
{
    char name[64];
    int ndim, shape[2];
    size_t off;
    StatusCode rc = TK_OK;
    for (int i = 0; !rc && seqae_tensor_info(m, i, name, sizeof name, &ndim, shape, &off) == 0;
         i++)
        rc = tkw_read_f32(f, name, params + off, (size_t)shape[0] * shape[1], st);
    const int n = m->cfg.features;
    scale->n = n;
    scale->min = malloc(sizeof(float) * (size_t)n);
    scale->max = malloc(sizeof(float) * (size_t)n);
    if (!rc && (!scale->min || !scale->max))
        rc = status_fail(st, TK_ENOMEM, "%s: cannot allocate the scaling", f->path);
    if (!rc)
        rc = tkw_read_f32(f, "norm.min", scale->min, (size_t)n, st);
    if (!rc)
        rc = tkw_read_f32(f, "norm.max", scale->max, (size_t)n, st);
    if (rc)
        minmax_free(scale);
    return rc;
}

StatusCode seqae_load(SeqAE *m, MinMax *scale, const char *path, Status *st)
{
    memset(m, 0, sizeof *m);
    memset(scale, 0, sizeof *scale);
    TkwFile f;
    StatusCode rc = tkw_open(&f, path, st);
    if (rc)
        return rc;
    SeqAEConfig c;
    rc = check_kind(&f, KIND_MODEL, st);
    if (!rc)
        rc = read_config(&f, &c, st);
    if (!rc)
        rc = seqae_init(m, &c, st);
    if (!rc) {
        rc = read_model(&f, m, m->params, scale, st);
        if (rc)
            seqae_free(m);
    }
    tkw_close(&f);
    return rc;
}

StatusCode seqae_normalisation(const char *path, char *out, size_t size, Status *st)
{
    TkwFile f;
    StatusCode rc = tkw_open(&f, path, st);
    if (rc)
        return rc;
    const char *v = tkw_meta(&f, NORMALISE_KEY);
    rc = check_kind(&f, KIND_MODEL, st);
    if (!rc && !v)
        v = NORMALISE_DEFAULT;
    if (!rc && strcmp(v, "minmax") && strcmp(v, "body"))
        rc = status_fail(st, TK_EFORMAT, "%s: metadata '%s' = '%s': expected minmax or body",
                         path, NORMALISE_KEY, v);
    if (!rc && strlen(v) >= size)
        rc = status_fail(st, TK_EINVAL, "%s: metadata '%s' = '%s' does not fit %zu bytes", path,
                         NORMALISE_KEY, v, size);
    if (!rc)
        snprintf(out, size, "%s", v);
    tkw_close(&f);
    return rc;
}

StatusCode checkpoint_save(const TrainState *s, const char *path, Status *st)
{
    TkwWriter *w;
    StatusCode rc = tkw_writer_new(&w, st);
    if (rc)
        return rc;
    const TrainConfig *c = &s->cfg;
    rc = write_model(w, &s->model, s->model.params, &s->scale, KIND_CHECKPOINT, st);
    if (!rc)
        rc = write_train_settings(w, c, st);
    const struct {
        const char *key;
        long long value;
    } ints[] = {{"train.n_frames", s->n_frames}, {"train.epoch", s->epoch},
                {"train.step", s->step},         {"train.bad_epochs", s->bad_epochs},
                {"train.finished", s->finished}, {"adam.step", s->adam.step}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0] && !rc; i++)
        rc = meta_int(w, ints[i].key, ints[i].value, st);
    const struct {
        const char *key;
        double value;
    } reals[] = {{"train.epoch_loss", s->epoch_loss}};
    for (size_t i = 0; i < sizeof reals / sizeof reals[0] && !rc; i++)
        rc = meta_real(w, reals[i].key, reals[i].value, st);
    if (!rc)
        rc = meta_float(w, "train.best_val", s->best_val, st);
    char buf[96];
    if (!rc) {
        snprintf(buf, sizeof buf, "%016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %016" PRIx64,
                 s->epoch_rng.s[0], s->epoch_rng.s[1], s->epoch_rng.s[2], s->epoch_rng.s[3]);
        rc = tkw_writer_meta(w, "train.rng", buf, st);
    }
    const size_t n = s->model.n_params;
    if (!rc)
        rc = tensor_1d(w, "adam.m", s->adam_m, n, st);
    if (!rc)
        rc = tensor_1d(w, "adam.v", s->adam_v, n, st);
    if (!rc)
        rc = tensor_1d(w, "best.params", s->best_params, n, st);
    if (!rc)
        rc = tensor_1d(w, "history.train_loss", s->train_loss, (size_t)c->epochs, st);
    if (!rc)
        rc = tensor_1d(w, "history.val_loss", s->val_loss, (size_t)c->epochs, st);
    if (!rc)
        rc = tkw_writer_save(w, path, st);
    tkw_writer_free(w);
    return rc;
}

static StatusCode read_checkpoint(const TkwFile *f, TrainState *s, Status *st)
{
    SeqAEConfig mc;
    TrainConfig c = train_default_config();
    long long v[10];
    double lr, clip, epoch_loss, best_val;
    const char *keys[10] = {"train.epochs", "train.batch",  "train.stride", "train.patience",
                            "train.n_frames", "train.epoch", "train.step", "train.bad_epochs",
                            "train.finished", "adam.step"};
    StatusCode rc = check_kind(f, KIND_CHECKPOINT, st);
    if (!rc)
        rc = read_config(f, &mc, st);
    for (int i = 0; i < 10 && !rc; i++)
        rc = get_long(f, keys[i], i == 3 || i >= 5 ? 0 : 1, 1LL << 40, &v[i], st);
    if (!rc)
        rc = get_real(f, "train.lr", &lr, st);
    if (!rc)
        rc = get_real(f, "train.clip", &clip, st);
    if (!rc)
        rc = get_real(f, "train.epoch_loss", &epoch_loss, st);
    if (!rc)
        rc = get_real(f, "train.best_val", &best_val, st);
    const char *seed = tkw_meta(f, "train.seed"), *rng = tkw_meta(f, "train.rng");
    uint64_t r[4];
    if (!rc && (!seed || !rng ||
                sscanf(rng, "%" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64, &r[0], &r[1], &r[2],
                       &r[3]) != 4))
        rc = status_fail(st, TK_EFORMAT, "%s: metadata 'train.seed' or 'train.rng' missing or "
                         "malformed", f->path);
    if (rc)
        return rc;
    c.epochs = (int)v[0];
    c.batch = (int)v[1];
    c.stride = (int)v[2];
    c.patience = (int)v[3];
    c.seq_len = mc.seq_len;
    c.hidden = mc.hidden;
    c.latent = mc.latent;
    c.lr = (float)lr;
    c.clip = (float)clip;
    c.seed = strtoull(seed, NULL, 10);
    c.decoder_input = mc.decoder_input;
    c.fixed_decoder = mc.fixed_decoder;
    rc = train_state_alloc(s, &c, mc.features, st);
    if (rc)
        return rc;
    s->n_frames = (int)v[4];
    s->epoch = (int)v[5];
    s->step = (int)v[6];
    s->bad_epochs = (int)v[7];
    s->finished = (int)v[8];
    s->adam.step = (long)v[9];
    s->epoch_loss = epoch_loss;
    s->best_val = (float)best_val;
    memcpy(s->epoch_rng.s, r, sizeof r);
    const size_t n = s->model.n_params;
    rc = read_model(f, &s->model, s->model.params, &s->scale, st);
    if (!rc)
        rc = tkw_read_f32(f, "adam.m", s->adam_m, n, st);
    if (!rc)
        rc = tkw_read_f32(f, "adam.v", s->adam_v, n, st);
    if (!rc)
        rc = tkw_read_f32(f, "best.params", s->best_params, n, st);
    if (!rc)
        rc = tkw_read_f32(f, "history.train_loss", s->train_loss, (size_t)c.epochs, st);
    if (!rc)
        rc = tkw_read_f32(f, "history.val_loss", s->val_loss, (size_t)c.epochs, st);
    if (rc)
        train_state_free(s);
    return rc;
}

StatusCode checkpoint_load(TrainState *s, const char *path, Status *st)
{
    memset(s, 0, sizeof *s);
    TkwFile f;
    StatusCode rc = tkw_open(&f, path, st);
    if (rc)
        return rc;
    rc = read_checkpoint(&f, s, st);
    tkw_close(&f);
    return rc;
}
