/* test_study_budget.c — the study's default training length (app/study_budget.c): epochs that
 * give about 3,000 optimiser steps over the training block's windows, counted by hand here. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "../app/study.h"

/* Bookkeeping only: the epoch count depends on the frames' sequences, not their values. */
static Keypoints frames_in_sequences(int n_frames, int first_seq_len)
{
    Keypoints k;
    Status st;
    cr_assert_eq(keypoints_alloc(&k, n_frames, 2, &st), TK_OK);
    for (int r = 0; r < n_frames; r++) {
        k.present[r] = 1;
        k.seq[r] = r >= first_seq_len;
    }
    return k;
}

Test(study_budget, epochs_make_about_3000_steps)
{
    TrainConfig cfg = train_default_config(); /* windows of 40, batch 64 */
    cfg.stride = 1;
    /* 1000 frames, one sequence: the training block is rows 0..699, 661 windows, 11 batches a
     * epoch, so ceil(3000 / 11) = 273 epochs. */
    Keypoints k = frames_in_sequences(1000, 1000);
    Status st = {0};
    int epochs = 0;
    cr_assert_eq(study_train_epochs(&k, &cfg, &epochs, &st), TK_OK, "%s", st.msg);
    cr_expect_eq(epochs, 273);
    /* Stride 4: 166 windows, 3 batches, 1000 epochs. */
    cfg.stride = 4;
    cr_assert_eq(study_train_epochs(&k, &cfg, &epochs, &st), TK_OK, "%s", st.msg);
    cr_expect_eq(epochs, 1000);
    keypoints_free(&k);

    /* 100,000 frames split into sequences of 30,000 and 70,000: the training block (70,000
     * rows) holds 29,961 + 39,961 windows = 69,922 (windows never cross a sequence), 1093
     * batches, so 3 epochs. */
    k = frames_in_sequences(100000, 30000);
    cfg.stride = 1;
    cr_assert_eq(study_train_epochs(&k, &cfg, &epochs, &st), TK_OK, "%s", st.msg);
    cr_expect_eq(epochs, 3);
    keypoints_free(&k);
}

Test(study_budget, a_set_of_one_batch_stops_at_the_cap)
{
    TrainConfig cfg = train_default_config();
    cfg.stride = 1;
    Keypoints k = frames_in_sequences(100, 100); /* 70 training rows: 31 windows, 1 batch */
    Status st = {0};
    int epochs = 0;
    cr_assert_eq(study_train_epochs(&k, &cfg, &epochs, &st), TK_OK, "%s", st.msg);
    cr_expect_eq(epochs, 1000);
    keypoints_free(&k);
}
