/* test_classify_merge.c — `takt classify merge`: an ensemble trained in two parts (seeds 0-1
 * and 2-3) and merged is the ensemble of seeds 0-3 trained at once, bit for bit, through the
 * model files; models that cannot be one ensemble are refused, leaving both intact. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "../app/classify.h"

/* Two joints; the second rises (class 0) or sinks (class 1), with noise. */
static void rising(SeqSet *s, int n, uint64_t seed)
{
    Rng rng;
    rng_seed(&rng, seed, 0);
    test_two_class_set(s, n, 6, "rise", "sink");
    for (int i = 0; i < n; i++) {
        Sequence *q = &s->seqs[i];
        test_sequence_frames(s, i, 8 + (int)rng_below(&rng, 6));
        for (int f = 0; f < q->n_frames; f++) {
            const float t = (float)f / (float)(q->n_frames - 1);
            float *row = q->x + 6 * f;
            for (int j = 0; j < 6; j++)
                row[j] = 0.05f * (2.0f * rng_uniform(&rng) - 1.0f);
            row[4] += 1.0f + 0.4f * (q->label ? -t : t);
        }
    }
}

static ClfConfig small(uint64_t seed, int members)
{
    ClfConfig c = clf_default_config();
    c.hidden = 6;
    c.time_steps = 8;
    c.epochs = 6;
    c.batch = 4;
    c.lr = 1e-2f;
    c.seed = seed;
    c.ensemble = members;
    return c;
}

static void train_save(const SeqSet *s, const ClfConfig *c, const char *path)
{
    unsigned char is_val[24];
    for (int i = 0; i < 24; i++)
        is_val[i] = i >= 16;
    ClfModel m;
    ClfHistory h;
    int stopped;
    Status st = {0};
    cr_assert_eq(clf_train(&m, c, s, is_val, "csv", 0, NULL, &h, &stopped, &st), TK_OK, "%s",
                 st.msg);
    cr_assert_eq(clf_save(&m, path, &st), TK_OK, "%s", st.msg);
    clf_history_free(&h);
    clf_free(&m);
}

TestSuite(classify_merge, .init = test_scratch_begin, .fini = test_scratch_end);

Test(classify_merge, two_parts_are_the_whole_ensemble)
{
    SeqSet s;
    rising(&s, 24, 3);
    const char *a = test_scratch_path("a.tkw"), *b = test_scratch_path("b.tkw");
    const char *all = test_scratch_path("all.tkw"), *merged = test_scratch_path("merged.tkw");
    ClfConfig c = small(0, 2);
    train_save(&s, &c, a);
    c = small(2, 2);
    train_save(&s, &c, b);
    c = small(0, 4);
    train_save(&s, &c, all);

    Status st = {0};
    ClfModel m, part, whole;
    cr_assert_eq(clf_load(&m, a, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(clf_load(&part, b, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(clf_merge(&m, &part, b, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(m.members, 4);
    cr_assert(isnan(m.val_accuracy), "a part's accuracy kept: %g", m.val_accuracy);
    cr_assert_eq(clf_save(&m, merged, &st), TK_OK, "%s", st.msg);
    clf_free(&m);
    cr_assert_eq(clf_load(&m, merged, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(clf_load(&whole, all, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(m.members, whole.members);
    for (int k = 0; k < 4; k++)
        cr_assert(!memcmp(m.net[k].params, whole.net[k].params,
                          sizeof(float) * whole.net[k].n_params), "member %d differs", k);
    float pm[2], pw[2];
    cr_assert_eq(clf_predict(&m, s.seqs[20].x, s.seqs[20].n_frames, 6, pm, &st), TK_OK, "%s",
                 st.msg);
    cr_assert_eq(clf_predict(&whole, s.seqs[20].x, s.seqs[20].n_frames, 6, pw, &st), TK_OK,
                 "%s", st.msg);
    cr_assert(pm[0] == pw[0] && pm[1] == pw[1], "%g %g vs %g %g", pm[0], pm[1], pw[0], pw[1]);
    clf_free(&m);
    clf_free(&whole);
    seqset_free(&s);
}

Test(classify_merge, refuses_models_that_are_not_one_ensemble)
{
    SeqSet s, other;
    rising(&s, 24, 3);
    rising(&other, 24, 4);
    const char *a = test_scratch_path("a.tkw"), *data = test_scratch_path("data.tkw");
    const char *shape = test_scratch_path("shape.tkw"), *many = test_scratch_path("many.tkw");
    ClfConfig c = small(0, 2);
    train_save(&s, &c, a);
    train_save(&other, &c, data); /* other sequences: another normalisation */
    c.hidden = 7;
    train_save(&s, &c, shape);
    c = small(0, CLF_ENSEMBLE_MAX - 1);
    c.epochs = 1;
    train_save(&s, &c, many);
    const struct {
        const char *path, *why;
    } bad[] = {{data, "normalisation"}, {shape, "network shape"}, {many, "more than"}};
    Status st = {0};
    for (int i = 0; i < 3; i++) {
        ClfModel m, part;
        cr_assert_eq(clf_load(&m, a, &st), TK_OK, "%s", st.msg);
        cr_assert_eq(clf_load(&part, bad[i].path, &st), TK_OK, "%s", st.msg);
        const int members = part.members;
        cr_assert_eq(clf_merge(&m, &part, bad[i].path, &st), TK_EINVAL, "%s merged",
                     bad[i].why);
        cr_assert(strstr(st.msg, bad[i].why) && strstr(st.msg, bad[i].path), "%s", st.msg);
        cr_assert_eq(m.members, 2);
        cr_assert_eq(part.members, members);
        clf_free(&m);
        clf_free(&part);
    }
    seqset_free(&s);
    seqset_free(&other);
}
