/* test_classify_merge.c — `takt classify merge`: an ensemble trained in two parts (seeds 0-1
 * and 2-3) and merged is the ensemble of seeds 0-3 trained at once, bit for bit, through the
 * model files; models that cannot be one ensemble are refused, leaving both intact. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "../app/classify.h"

/* Two joints; the second rises (class 0) or sinks (class 1), with noise. */
static void rising(SeqSet *s, int n, uint64_t seed)
{
    Rng rng;
    rng_seed(&rng, seed, 0);
    memset(s, 0, sizeof *s);
    s->n = n;
    s->n_features = 6;
    s->n_classes = 2;
    s->seqs = calloc((size_t)n, sizeof(Sequence));
    s->class_names = calloc(2, sizeof(char *));
    cr_assert(s->seqs && s->class_names);
    s->class_names[0] = strdup("rise");
    s->class_names[1] = strdup("sink");
    for (int i = 0; i < n; i++) {
        Sequence *q = &s->seqs[i];
        q->label = i % 2;
        q->seq_id = i;
        q->subject = -1;
        q->n_frames = 8 + (int)rng_below(&rng, 6);
        q->x = malloc(sizeof(float) * 6 * (size_t)q->n_frames);
        cr_assert_not_null(q->x);
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

Test(classify_merge, two_parts_are_the_whole_ensemble)
{
    SeqSet s;
    rising(&s, 24, 3);
    const char *tmp = test_tmpdir();
    cr_assert_not_null(tmp);
    char a[512], b[512], all[512], merged[512];
    snprintf(a, sizeof a, "%s/a.tkw", tmp);
    snprintf(b, sizeof b, "%s/b.tkw", tmp);
    snprintf(all, sizeof all, "%s/all.tkw", tmp);
    snprintf(merged, sizeof merged, "%s/merged.tkw", tmp);
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
    const char *paths[] = {a, b, all, merged};
    for (int i = 0; i < 4; i++)
        unlink(paths[i]);
    rmdir(tmp);
    seqset_free(&s);
}

Test(classify_merge, refuses_models_that_are_not_one_ensemble)
{
    SeqSet s, other;
    rising(&s, 24, 3);
    rising(&other, 24, 4);
    const char *tmp = test_tmpdir();
    cr_assert_not_null(tmp);
    char a[512], data[512], shape[512], many[512];
    snprintf(a, sizeof a, "%s/a.tkw", tmp);
    snprintf(data, sizeof data, "%s/data.tkw", tmp);
    snprintf(shape, sizeof shape, "%s/shape.tkw", tmp);
    snprintf(many, sizeof many, "%s/many.tkw", tmp);
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
    const char *paths[] = {a, data, shape, many};
    for (int i = 0; i < 4; i++)
        unlink(paths[i]);
    rmdir(tmp);
    seqset_free(&s);
    seqset_free(&other);
}
