/* test_nn_seqae.c — workload A end to end: the regenerated seqae_20k data set has the sha256
 * of the reference file, and from PyTorch's initial weights (../shared/bench/seqae_init.bin)
 * 60 Adam steps (lr 3e-3) on batches 0..59 in file order reproduce PyTorch's loss in step 60,
 * 0.00934384 (shared/bench/ANCHORS.md), within 1e-3 relative; the first 3 steps' losses match
 * PyTorch's (tests/data/nn/make_seqae_steps.py) within 1e-5 relative, which is also the check
 * that runs under AddressSanitizer. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bench/bench.h"
#include "../nn/nn.h"
#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

Test(nn_seqae, regenerated_seqae_20k_has_the_reference_sha256)
{
#ifdef UNDER_ASAN
    cr_skip_test("211 MB through AddressSanitizer takes minutes; checked in the normal build");
#endif
    char hex[65];
    Status st = {0};
    cr_assert_eq(seqae20k_sha256(hex, &st), TK_OK, "%s", st.msg);
    cr_assert_str_eq(hex, SEQAE20K_SHA256);
}

Test(nn_seqae, parameter_table_matches_pytorch_state_dict)
{
    const SeqAEConfig cfg = seqae_default_config();
    SeqAE m;
    Status st = {0};
    cr_assert_eq(seqae_init(&m, &cfg, &st), TK_OK);
    cr_assert_eq(m.n_params, 88546u);
    /* Names, shapes and offsets of seqae_init.json's tensors table (spot checks). */
    struct {
        int index;
        const char *name;
        int rows, cols;
        size_t offset;
    } want[] = {{0, "enc.weight_ih_l0", 128, 66, 0},
                {5, "enc.weight_hh_l0_reverse", 128, 32, 21248},
                {15, "enc.bias_hh_l1_reverse", 128, 1, 50560},
                {16, "to_latent.weight", 32, 64, 50688},
                {17, "to_latent.bias", 32, 1, 52736},
                {18, "dec.weight_ih_l0", 96, 32, 52768},
                {26, "dec.weight_ih_l1", 96, 64, 0},
                {34, "out.weight", 66, 64, 0},
                {35, "out.bias", 66, 1, 88480}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char name[64];
        int ndim, shape[2];
        size_t off;
        cr_assert_eq(seqae_tensor_info(&m, want[i].index, name, sizeof name, &ndim, shape, &off),
                     0);
        cr_assert_str_eq(name, want[i].name);
        cr_assert_eq(shape[0], want[i].rows, "%s", name);
        cr_assert_eq(shape[1], want[i].cols, "%s", name);
        if (want[i].offset)
            cr_assert_eq(off, want[i].offset, "%s offset %zu", name, off);
    }
    char name[64];
    int ndim, shape[2];
    size_t off;
    cr_assert_eq(seqae_tensor_info(&m, 36, name, sizeof name, &ndim, shape, &off), -1);
    seqae_free(&m);
}

/* Losses of steps 1..steps from seqae_init on batches 0.. in file order. */
static void train_from_pytorch_init(int steps, float *losses)
{
    char path[4096];
    if (!test_shared_path(path, sizeof path, "bench/seqae_init.bin"))
        cr_skip_test("../shared not found (needs bench/seqae_init.bin)");
    const SeqAEConfig cfg = seqae_default_config();
    enum { B = 64 };
    SeqAE m;
    Status st = {0};
    cr_assert_eq(seqae_init(&m, &cfg, &st), TK_OK, "%s", st.msg);
    float *init = test_read_f32(path, m.n_params);
    cr_assert_not_null(init, "%s is not %zu floats", path, m.n_params);
    memcpy(m.params, init, m.n_params * sizeof(float));

    const size_t row = SEQAE20K_T * SEQAE20K_F;
    float *data = malloc((size_t)steps * B * row * sizeof(float));
    seqae20k_rows(0, steps * B, data);

    Arena measure, arena;
    SeqAEWork w;
    arena_init_measure(&measure);
    seqae_work_plan(&m, &w, &measure, B, 1, &st);
    cr_assert_eq(arena_init(&arena, measure.peak, &st), TK_OK);
    cr_assert_eq(seqae_work_plan(&m, &w, &arena, B, 1, &st), TK_OK, "%s", st.msg);
    float *mom = malloc(m.n_params * sizeof(float)), *var = malloc(m.n_params * sizeof(float));
    Adam adam;
    adam_init(&adam, 3e-3f, mom, var, m.n_params);
    for (int s = 0; s < steps; s++) {
        memset(m.grads, 0, m.n_params * sizeof(float));
        losses[s] = seqae_step(&m, &w, data + (size_t)s * B * row, B, 1);
        adam_step(&adam, m.params, m.grads);
    }

    free(mom);
    free(var);
    free(data);
    free(init);
    arena_free(&arena);
    seqae_free(&m);
}

Test(nn_seqae, sixty_adam_steps_from_pytorch_init_match_pytorch_loss)
{
#ifdef UNDER_ASAN
    cr_skip_test("60 full-size training steps are too slow under AddressSanitizer; "
                 "first_three_steps_from_pytorch_init_match_pytorch checks 3 of them");
#endif
    float losses[60];
    train_from_pytorch_init(60, losses);
    const double want = 0.00934384;
    cr_assert(fabs(losses[59] - want) <= 1e-3 * want, "loss in step 60: %.8f, PyTorch %.8f",
              losses[59], want);
}

Test(nn_seqae, first_three_steps_from_pytorch_init_match_pytorch)
{
    float losses[3];
    train_from_pytorch_init(3, losses);
    float *want = test_read_f32("tests/data/nn/seqae_init_steps3.bin", 3);
    cr_assert_not_null(want);
    for (int i = 0; i < 3; i++)
        cr_assert(fabs(losses[i] - want[i]) <= 1e-5 * want[i] + 1e-6,
                  "loss in step %d: %.8f, PyTorch %.8f", i + 1, losses[i], want[i]);
    free(want);
}
