/* study_budget.c — how long the study's autoencoder trains when the user does not say: a number
 * of optimiser steps rather than of epochs, with early stopping on the validation loss
 * (TrainConfig.patience) ending it sooner. A fixed epoch count starves small sets: at 5 epochs
 * utkinect's autoencoder took about 50 steps and its clusters matched 23 % of the frames, 30 %
 * when trained until its validation loss stopped improving (about 400 steps); msr_action3d went
 * from 22 % (5 epochs) to 30 % the same way (bench/RESULTS.md, issue 6). The step count caps
 * what a long recording costs. */
#include "study.h"

#include <stdlib.h>

#define STUDY_TRAIN_STEPS 3000
#define STUDY_MAX_EPOCHS 1000 /* a set of one batch stops here (early stopping first) */

StatusCode study_train_epochs(const Keypoints *data, const TrainConfig *cfg, int *epochs,
                              Status *st)
{
    int a, b, *starts, n;
    split_70_10_20(data->n_frames, &a, &b);
    StatusCode rc = windows_make(data, 0, a, cfg->seq_len, cfg->stride, &starts, &n, st);
    if (rc)
        return rc;
    free(starts);
    const int steps = (n + cfg->batch - 1) / cfg->batch;
    *epochs = steps ? (STUDY_TRAIN_STEPS + steps - 1) / steps : 1;
    if (*epochs > STUDY_MAX_EPOCHS)
        *epochs = STUDY_MAX_EPOCHS;
    return TK_OK;
}
