/* test_seqae_weak.c — the SeqAE's weak decoders: decoder_input = FIRST (the latent at the
 * decoder's step 0, zeros after) and fixed_decoder (the decoder GRU kept at its initial
 * weights): outputs, loss, every parameter gradient and the parameters after 3 Adam steps
 * against PyTorch (tests/data/seqae_weak/make_golden.py, 1e-5 relative with a 1e-6 absolute
 * floor, as tests/test_nn_golden.c); the choices survive a model file and a checkpoint, and a
 * model file without them (written before they existed) loads as REPEAT, trained decoder. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../io/io.h"
#include "../nn/nn.h"
#include "testutil.h"

#define GOLDEN_DIR "tests/data/seqae_weak/"

static const char *prefix = "";

static float *golden(const char *name, size_t count)
{
    char full[128];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    return test_golden_f32(GOLDEN_DIR, full, count);
}

static const SeqAEConfig small_first = {.features = 5, .seq_len = 6, .hidden = 8, .latent = 4,
                                        .enc_layers = 2, .dec_layers = 2,
                                        .decoder_input = SEQAE_DECODER_FIRST};

static void check_against_pytorch(const SeqAEConfig *cfg)
{
    const int B = 3, T = 6, F = 5;
    Status st = {0};
    SeqAE m;
    cr_assert_eq(seqae_init(&m, cfg, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(m.dec.const_input, cfg->decoder_input == SEQAE_DECODER_REPEAT);
    float *p0 = golden("params.bin", m.n_params);
    memcpy(m.params, p0, m.n_params * sizeof(float));
    float *x = golden("x.bin", (size_t)B * T * F);

    Arena measure, arena;
    SeqAEWork w;
    arena_init_measure(&measure);
    seqae_work_plan(&m, &w, &measure, B, 1, &st);
    cr_assert_eq(arena_init(&arena, measure.peak, &st), TK_OK);
    cr_assert_eq(seqae_work_plan(&m, &w, &arena, B, 1, &st), TK_OK, "%s", st.msg);

    memset(m.grads, 0, m.n_params * sizeof(float));
    const float loss = seqae_step(&m, &w, x, B, 1);
    float *want_loss = golden("loss.bin", 1);
    test_expect_torch_close("loss", &loss, want_loss, 1);

    float *want_out = golden("out.bin", (size_t)B * T * F);
    float recon[3 * 6 * 5];
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            memcpy(recon + ((size_t)b * T + t) * F, w.recon + ((size_t)t * B + b) * F,
                   F * sizeof(float));
    test_expect_torch_close("reconstruction", recon, want_out, (size_t)B * T * F);

    float *want_grads = golden("grads.bin", m.n_params);
    char name[64];
    int ndim, shape[2];
    size_t off;
    for (int i = 0; seqae_tensor_info(&m, i, name, sizeof name, &ndim, shape, &off) == 0; i++)
        test_expect_torch_close(name, m.grads + off, want_grads + off, (size_t)shape[0] * shape[1]);

    memcpy(m.params, p0, m.n_params * sizeof(float));
    float *mom = calloc(m.n_params, sizeof(float)), *var = calloc(m.n_params, sizeof(float));
    Adam adam;
    adam_init(&adam, 1e-2f, mom, var, m.n_params);
    for (int s = 0; s < 3; s++) {
        memset(m.grads, 0, m.n_params * sizeof(float));
        seqae_step(&m, &w, x, B, 1);
        adam_step(&adam, m.params, m.grads);
    }
    float *want_adam = golden("adam3.bin", m.n_params);
    test_expect_torch_close("params after 3 Adam steps", m.params, want_adam, m.n_params);

    free(mom);
    free(var);
    free(p0);
    free(x);
    free(want_loss);
    free(want_out);
    free(want_grads);
    free(want_adam);
    arena_free(&arena);
    seqae_free(&m);
}

Test(seqae_weak, first_input_matches_pytorch) { check_against_pytorch(&small_first); }

Test(seqae_weak, fixed_decoder_matches_pytorch)
{
    SeqAEConfig cfg = small_first;
    cfg.decoder_input = SEQAE_DECODER_REPEAT;
    cfg.fixed_decoder = 1;
    prefix = "fixed_";
    check_against_pytorch(&cfg);
}

/* Copies a model file leaving out the metadata keys that start with key_prefix. */
static void copy_without_key(const char *from, const char *to, const char *key_prefix)
{
    Status st = {0};
    TkwFile f;
    TkwWriter *w;
    cr_assert_eq(tkw_open(&f, from, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(tkw_writer_new(&w, &st), TK_OK);
    for (int i = 0; i < f.n_meta; i++)
        if (strncmp(f.meta[i].key, key_prefix, strlen(key_prefix)))
            cr_assert_eq(tkw_writer_meta(w, f.meta[i].key, f.meta[i].value, &st), TK_OK);
    for (int i = 0; i < f.n_tensors; i++) {
        const TkwTensor *t = &f.tensors[i];
        float *v = malloc(sizeof(float) * t->count);
        cr_assert_eq(tkw_read_f32(&f, t->name, v, t->count, &st), TK_OK, "%s", st.msg);
        cr_assert_eq(tkw_writer_tensor(w, t->name, DTYPE_F32, t->ndim, t->shape, v, &st), TK_OK);
        free(v);
    }
    cr_assert_eq(tkw_writer_save(w, to, &st), TK_OK, "%s", st.msg);
    tkw_writer_free(w);
    tkw_close(&f);
}

Test(seqae_weak, model_file_keeps_the_choice_and_old_files_load_as_repeat)
{
    Status st = {0};
    SeqAE m, back;
    MinMax scale = {0}, back_scale;
    SeqAEConfig cfg = small_first;
    cfg.fixed_decoder = 1;
    cr_assert_eq(seqae_init(&m, &cfg, &st), TK_OK, "%s", st.msg);
    Rng rng;
    rng_seed(&rng, 7, 0);
    seqae_init_params(&m, &rng);
    float lo[5] = {0}, hi[5] = {1, 1, 1, 1, 1};
    scale.n = 5;
    scale.min = lo;
    scale.max = hi;
    const char *dir = test_tmpdir();
    char path[4200], old[4200];
    snprintf(path, sizeof path, "%s/first.tkw", dir);
    snprintf(old, sizeof old, "%s/old.tkw", dir);
    cr_assert_eq(seqae_save(&m, &scale, "minmax", path, &st), TK_OK, "%s", st.msg);

    cr_assert_eq(seqae_load(&back, &back_scale, path, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(back.cfg.decoder_input, SEQAE_DECODER_FIRST);
    cr_assert_eq(back.dec.const_input, 0);
    cr_assert_eq(back.cfg.fixed_decoder, 1);
    cr_assert_eq(memcmp(back.params, m.params, m.n_params * sizeof(float)), 0);
    seqae_free(&back);
    minmax_free(&back_scale);

    copy_without_key(path, old, "decoder_");
    cr_assert_eq(seqae_load(&back, &back_scale, old, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(back.cfg.decoder_input, SEQAE_DECODER_REPEAT);
    cr_assert_eq(back.dec.const_input, 1, "REPEAT keeps the constant-input path");
    cr_assert_eq(back.cfg.fixed_decoder, 0);
    seqae_free(&back);
    minmax_free(&back_scale);
    seqae_free(&m);
}

Test(seqae_weak, checkpoint_keeps_the_choice)
{
    enum { FRAMES = 60, FEAT = 4 };
    Keypoints k;
    Status st = {0};
    cr_assert_eq(keypoints_alloc(&k, FRAMES, FEAT, &st), TK_OK);
    for (int f = 0; f < FRAMES; f++) {
        k.frame[f] = f;
        k.time_s[f] = f / 30.0f;
        k.present[f] = 1;
        for (int j = 0; j < FEAT; j++)
            k.x[f * FEAT + j] = sinf(0.3f * f + j);
    }
    TrainConfig c = train_default_config();
    c.seq_len = 5;
    c.hidden = 4;
    c.latent = 3;
    c.batch = 4;
    c.decoder_input = SEQAE_DECODER_FIRST;
    c.fixed_decoder = 1;
    TrainState s, back;
    cr_assert_eq(train_state_new(&s, &c, &k, &st), TK_OK, "%s", st.msg);
    char path[4200];
    snprintf(path, sizeof path, "%s/first.ckpt", test_tmpdir());
    cr_assert_eq(checkpoint_save(&s, path, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(checkpoint_load(&back, path, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(back.model.cfg.decoder_input, SEQAE_DECODER_FIRST);
    cr_assert_eq(back.model.dec.const_input, 0);
    cr_assert_eq(back.model.cfg.fixed_decoder, 1);
    train_state_free(&back);
    train_state_free(&s);
    keypoints_free(&k);
}

Test(seqae_weak, unknown_decoder_input_is_refused)
{
    cr_assert_eq(seqae_decoder_input_parse("first"), SEQAE_DECODER_FIRST);
    cr_assert_eq(seqae_decoder_input_parse("repeat"), SEQAE_DECODER_REPEAT);
    cr_assert_eq(seqae_decoder_input_parse("second"), -1);
    SeqAEConfig bad = small_first;
    bad.decoder_input = (SeqAEDecoderInput)7;
    SeqAE m;
    Status st = {0};
    cr_assert_eq(seqae_init(&m, &bad, &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "decoder input 7"), "%s", st.msg);
}
