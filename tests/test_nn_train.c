/* test_nn_train.c — the training engine around the SeqAE: keypoint CSVs in both formats,
 * scaling and windows, the loss going down, model files and checkpoints (round trip, a file
 * of another kind refused), and determinism: the same seed gives the same model file byte for
 * byte, and a run interrupted in the middle of an epoch and resumed from its checkpoint gives
 * the same bytes as an uninterrupted one. */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../io/io.h"
#include "../nn/nn.h"
#include "testutil.h"

/* A keypoints CSV as `takt pose` writes it: 33 landmarks x (x, y, z, v); nobody in view in
 * frames 5..7. The motion is periodic so that an autoencoder has something to learn. */
static void write_pose_csv(const char *path, int frames)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "frame,time_s,pose");
    for (int i = 0; i < 33; i++)
        fprintf(f, ",x%d,y%d,z%d,v%d", i, i, i, i);
    fprintf(f, "\n");
    for (int r = 0; r < frames; r++) {
        const int present = r < 5 || r > 7;
        fprintf(f, "%d,%.4f,%d", r, r / 30.0, present);
        for (int i = 0; i < 33; i++) {
            const double ph = 0.3 * r + 0.2 * i;
            if (present)
                fprintf(f, ",%.5f,%.5f,%.5f,0.9", 0.5 + 0.2 * sin(ph), 0.5 + 0.1 * cos(ph),
                        i == 0 ? 0.25 : -0.1 * sin(ph));
            else
                fprintf(f, ",0,0,0,0");
        }
        fprintf(f, "\n");
    }
    fclose(f);
}

Test(nn_train, reads_pose_csv_scales_and_windows)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/kp.csv", test_tmpdir());
    write_pose_csv(path, 100);
    Keypoints k;
    Status st = {0};
    cr_assert_eq(keypoints_read(&k, path, 0, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(k.n_frames, 100);
    cr_assert_eq(k.n_features, 99, "x, y, z of 33 landmarks, no visibility");
    cr_assert_eq(k.present[6], 0);
    cr_assert_float_eq(k.time_s[30], 1.0f, 1e-6);
    Keypoints kxy;
    cr_assert_eq(keypoints_read(&kxy, path, 1, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(kxy.n_features, 66);
    cr_assert_float_eq(kxy.x[1 * 66 + 2], k.x[1 * 99 + 3], 0, "x1 follows y0 without z0");

    MinMax s;
    cr_assert_eq(minmax_fit(&s, &k, 0, 70, &st), TK_OK);
    minmax_apply(&s, &k);
    for (int r = 0; r < 70; r++)
        for (int j = 0; j < 99; j++) {
            const float v = k.x[r * 99 + j];
            cr_assert(v >= 0.0f && v <= 1.0f, "row %d feature %d scaled to %g", r, j, v);
        }
    cr_assert_eq(k.x[3 * 99 + 2], 0.0f, "the constant z0 maps to 0");
    for (int j = 0; j < 99; j++)
        cr_assert_eq(k.x[6 * 99 + j], 0.0f, "a frame without a person stays zeros");

    int *starts, n;
    cr_assert_eq(windows_make(&k, 0, 70, 40, 7, &starts, &n, &st), TK_OK);
    cr_assert_eq(n, 5); /* 0, 7, 14, 21, 28; 35 would end at 75 */
    cr_assert_eq(starts[4], 28);
    free(starts);
    /* Windows never span two sequences. */
    for (int r = 50; r < 100; r++)
        k.seq[r] = 1;
    cr_assert_eq(windows_make(&k, 0, 100, 40, 10, &starts, &n, &st), TK_OK);
    cr_assert_eq(n, 4, "0, 10 in sequence 0 (20 would cross), 50, 60 in sequence 1 (got %d)", n);
    cr_assert_eq(starts[1], 10);
    cr_assert_eq(starts[2], 50);
    cr_assert_eq(starts[3], 60);
    free(starts);
    minmax_free(&s);
    keypoints_free(&k);
    keypoints_free(&kxy);
}

Test(nn_train, bad_csv_names_file_line_and_column)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/bad.csv", test_tmpdir());
    FILE *f = fopen(path, "w");
    fprintf(f, "frame,time_s,pose,x0,y0,z0,v0\n0,0,1,0.5,0.5,0,1\n1,0.03,1,0.5,abc,0,1\n");
    fclose(f);
    Keypoints k;
    Status st = {0};
    cr_assert_neq(keypoints_read(&k, path, 0, &st), TK_OK);
    cr_assert_not_null(strstr(st.msg, "bad.csv"), "%s", st.msg);
    cr_assert_not_null(strstr(st.msg, "3"), "line 3 named: %s", st.msg);
    /* NaN, infinity and a short row are refused the same way. */
    const char *bad_rows[3] = {"1,0.03,1,nan,0.5,0,1", "1,0.03,1,0.5,inf,0,1", "1,0.03,1,0.5"};
    for (int i = 0; i < 3; i++) {
        f = fopen(path, "w");
        fprintf(f, "frame,time_s,pose,x0,y0,z0,v0\n0,0,1,0.5,0.5,0,1\n%s\n", bad_rows[i]);
        fclose(f);
        cr_assert_neq(keypoints_read(&k, path, 0, &st), TK_OK, "'%s' accepted", bad_rows[i]);
        cr_assert_not_null(strstr(st.msg, "bad.csv"), "%s", st.msg);
        cr_assert_not_null(strstr(st.msg, "3"), "line 3 named: %s", st.msg);
    }
    f = fopen(path, "w");
    fprintf(f, "a,b,c\n1,2,3\n");
    fclose(f);
    cr_assert_eq(keypoints_read(&k, path, 0, &st), TK_EFORMAT);
    cr_assert_not_null(strstr(st.msg, "neither a keypoints CSV"), "%s", st.msg);
}

/* A small configuration that trains in well under a second. */
static TrainConfig small_config(void)
{
    TrainConfig c = train_default_config();
    c.epochs = 4;
    c.batch = 8;
    c.seq_len = 10;
    c.stride = 2;
    c.hidden = 8;
    c.latent = 4;
    c.lr = 1e-2f;
    c.patience = 0;
    return c;
}

static void load_small_data(Keypoints *k)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/train.csv", test_tmpdir());
    write_pose_csv(path, 160);
    Status st = {0};
    cr_assert_eq(keypoints_read(k, path, 1, &st), TK_OK, "%s", st.msg);
}

typedef struct {
    int stop_epoch, stop_step;
    volatile sig_atomic_t flag;
} StopAt;

static void stop_at(void *user, const TrainState *s, int step, int steps, float loss)
{
    StopAt *a = user;
    if (s->epoch == a->stop_epoch && step == a->stop_step)
        a->flag = 1;
}

/* Trains from scratch (or from `resume`) and writes the model file to `model`. */
static void train_to_file(const Keypoints *k, const TrainConfig *c, const char *model,
                          const char *ckpt, StopAt *stop, TrainState *out_state)
{
    TrainState s;
    Status st = {0};
    cr_assert_eq(train_state_new(&s, c, k, &st), TK_OK, "%s", st.msg);
    TrainIo io = {.checkpoint = ckpt, .stop = stop ? &stop->flag : NULL,
                  .callback = stop ? stop_at : NULL, .user = stop};
    int stopped;
    cr_assert_eq(train_run(&s, k, &io, &stopped, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(stopped, stop != NULL);
    if (!stopped)
        cr_assert_eq(seqae_save_trained(&s, model, &st), TK_OK, "%s", st.msg);
    if (out_state)
        *out_state = s;
    else
        train_state_free(&s);
}

static int same_bytes(const char *a, const char *b)
{
    size_t na, nb;
    void *pa = test_read_file(a, &na), *pb = test_read_file(b, &nb);
    cr_assert(pa && pb);
    const int same = na == nb && !memcmp(pa, pb, na);
    free(pa);
    free(pb);
    return same;
}

Test(nn_train, loss_decreases_and_same_seed_gives_same_bytes)
{
    Keypoints k;
    load_small_data(&k);
    const TrainConfig c = small_config();
    const char *dir = test_tmpdir();
    char a[4200], b[4200], d[4200];
    snprintf(a, sizeof a, "%s/a.tkw", dir);
    snprintf(b, sizeof b, "%s/b.tkw", dir);
    snprintf(d, sizeof d, "%s/d.tkw", dir);
    TrainState s;
    train_to_file(&k, &c, a, NULL, NULL, &s);
    cr_assert(s.train_loss[3] < 0.7f * s.train_loss[0], "training loss %g -> %g",
              s.train_loss[0], s.train_loss[3]);
    cr_assert(isfinite(s.val_loss[3]));
    train_state_free(&s);
    train_to_file(&k, &c, b, NULL, NULL, NULL);
    cr_assert(same_bytes(a, b), "same seed, same thread count: identical model files");
    TrainConfig other = c;
    other.seed = 1;
    train_to_file(&k, &other, d, NULL, NULL, NULL);
    cr_assert(!same_bytes(a, d), "another seed gives another model");
    keypoints_free(&k);
}

Test(nn_train, resume_mid_epoch_is_bit_identical)
{
    Keypoints k;
    load_small_data(&k);
    const TrainConfig c = small_config();
    const char *dir = test_tmpdir();
    char straight[4200], resumed[4200], ckpt[4200];
    snprintf(straight, sizeof straight, "%s/straight.tkw", dir);
    snprintf(resumed, sizeof resumed, "%s/resumed.tkw", dir);
    snprintf(ckpt, sizeof ckpt, "%s/resumed.tkw.ckpt", dir);
    train_to_file(&k, &c, straight, NULL, NULL, NULL);

    StopAt stop = {.stop_epoch = 1, .stop_step = 3};
    train_to_file(&k, &c, resumed, ckpt, &stop, NULL);
    TrainState s;
    Status st = {0};
    cr_assert_eq(checkpoint_load(&s, ckpt, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(s.epoch, 1);
    cr_assert_eq(s.step, 3);
    TrainIo io = {.checkpoint = ckpt};
    int stopped;
    cr_assert_eq(train_run(&s, &k, &io, &stopped, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(stopped, 0);
    cr_assert_eq(seqae_save_trained(&s, resumed, &st), TK_OK);
    cr_assert(same_bytes(straight, resumed), "interrupted + resumed == straight");
    train_state_free(&s);
    keypoints_free(&k);
}

Test(nn_train, model_file_round_trip_and_wrong_kind)
{
    Keypoints k;
    load_small_data(&k);
    TrainConfig c = small_config();
    c.epochs = 1;
    const char *dir = test_tmpdir();
    char model[4200], ckpt[4200];
    snprintf(model, sizeof model, "%s/m.tkw", dir);
    snprintf(ckpt, sizeof ckpt, "%s/m.tkw.ckpt", dir);
    TrainState s;
    Status st = {0};
    cr_assert_eq(train_state_new(&s, &c, &k, &st), TK_OK);
    TrainIo io = {.checkpoint = ckpt};
    int stopped;
    cr_assert_eq(train_run(&s, &k, &io, &stopped, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(seqae_save_trained(&s, model, &st), TK_OK, "%s", st.msg);

    TkwFile f;
    cr_assert_eq(tkw_open(&f, model, &st), TK_OK, "%s", st.msg);
    cr_assert_str_eq(tkw_meta(&f, "kind"), "takt.seqae");
    cr_assert_str_eq(tkw_meta(&f, "hidden"), "8");
    cr_assert_str_eq(tkw_meta(&f, "train.batch"), "8");
    cr_assert_str_eq(tkw_meta(&f, "train.epochs_run"), "1");
    cr_assert_not_null(tkw_meta(&f, "train.lr"));
    tkw_close(&f);

    SeqAE m;
    MinMax scale;
    cr_assert_eq(seqae_load(&m, &scale, model, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(m.cfg.hidden, 8);
    cr_assert_eq(m.cfg.latent, 4);
    cr_assert_eq(m.cfg.seq_len, 10);
    cr_assert_eq(m.cfg.features, 66);
    cr_assert_eq(memcmp(m.params, s.model.params, m.n_params * sizeof(float)), 0);
    cr_assert_eq(memcmp(scale.min, s.scale.min, 66 * sizeof(float)), 0);
    cr_assert_eq(memcmp(scale.max, s.scale.max, 66 * sizeof(float)), 0);
    seqae_free(&m);
    minmax_free(&scale);

    /* A checkpoint is not a model, a model is not a checkpoint, and neither is another file. */
    cr_assert_eq(seqae_load(&m, &scale, ckpt, &st), TK_EFORMAT);
    cr_assert_not_null(strstr(st.msg, "not a SeqAE model"), "%s", st.msg);
    TrainState s2;
    cr_assert_eq(checkpoint_load(&s2, model, &st), TK_EFORMAT);
    cr_assert_not_null(strstr(st.msg, "not a SeqAE training checkpoint"), "%s", st.msg);
    char other[4200];
    snprintf(other, sizeof other, "%s/other.tkw", dir);
    TkwWriter *w;
    cr_assert_eq(tkw_writer_new(&w, &st), TK_OK);
    cr_assert_eq(tkw_writer_meta(w, "kind", "blazepose.landmark", &st), TK_OK);
    cr_assert_eq(tkw_writer_save(w, other, &st), TK_OK);
    tkw_writer_free(w);
    cr_assert_eq(seqae_load(&m, &scale, other, &st), TK_EFORMAT);
    cr_assert_not_null(strstr(st.msg, "blazepose.landmark"), "%s", st.msg);
    train_state_free(&s);
    keypoints_free(&k);
}

Test(nn_train, fewer_frames_than_a_window_is_an_error)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/short.csv", test_tmpdir());
    write_pose_csv(path, 12);
    Keypoints k;
    Status st = {0};
    cr_assert_eq(keypoints_read(&k, path, 1, &st), TK_OK, "%s", st.msg);
    TrainConfig c = small_config();
    c.seq_len = 40;
    TrainState s;
    cr_assert_eq(train_state_new(&s, &c, &k, &st), TK_OK);
    int stopped;
    TrainIo io = {0};
    cr_assert_eq(train_run(&s, &k, &io, &stopped, &st), TK_EINVAL);
    cr_assert_not_null(strstr(st.msg, "fewer than one window of 40"), "%s", st.msg);
    train_state_free(&s);
    keypoints_free(&k);
}

/* The two directions of a layer run on two threads when there are two (for layers above
 * RNN_PARALLEL_MIN_WORK, hence T*B*H = 10*64*32 here); every sum keeps its order, so even the
 * thread count does not change a bit of the loss or the gradients. */
Test(nn_train, one_and_two_threads_give_the_same_bits)
{
    const SeqAEConfig cfg = {.features = 6, .seq_len = 10, .hidden = 32, .latent = 4,
                             .enc_layers = 2, .dec_layers = 2};
    enum { B = 64 };
    SeqAE m;
    Status st = {0};
    cr_assert_eq(seqae_init(&m, &cfg, &st), TK_OK);
    Rng rng;
    rng_seed(&rng, 3, 0);
    seqae_init_params(&m, &rng);
    float *x = malloc(sizeof(float) * B * 10 * 6), *g1 = malloc(m.n_params * sizeof(float));
    for (int i = 0; i < B * 10 * 6; i++)
        x[i] = rng_uniform(&rng);
    Arena measure, arena;
    SeqAEWork w;
    arena_init_measure(&measure);
    seqae_work_plan(&m, &w, &measure, B, 1, &st);
    cr_assert_eq(arena_init(&arena, measure.peak, &st), TK_OK);
    cr_assert_eq(seqae_work_plan(&m, &w, &arena, B, 1, &st), TK_OK);
    const int threads = omp_get_max_threads();
    float loss[2];
    for (int run = 0; run < 2; run++) {
        omp_set_num_threads(run == 0 ? 1 : 2);
        memset(m.grads, 0, m.n_params * sizeof(float));
        loss[run] = seqae_step(&m, &w, x, B, 1);
        if (run == 0)
            memcpy(g1, m.grads, m.n_params * sizeof(float));
    }
    omp_set_num_threads(threads);
    cr_assert_eq(memcmp(&loss[0], &loss[1], sizeof(float)), 0, "loss %.9g vs %.9g", loss[0],
                 loss[1]);
    cr_assert_eq(memcmp(g1, m.grads, m.n_params * sizeof(float)), 0, "gradients differ");
    free(x);
    free(g1);
    arena_free(&arena);
    seqae_free(&m);
}
