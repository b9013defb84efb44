/* test_scale_pca.c — scalers and PCA against scikit-learn 1.2.1 (MinMaxScaler((-1, 2)),
 * StandardScaler, PCA(3, svd_solver="full")) on the committed 300 x 5 blobs. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../cluster/cluster.h"
#include "testutil.h"

#define G "tests/data/cluster/"

static void assert_close(const float *got, const float *want, int count, float tol)
{
    for (int i = 0; i < count; i++)
        cr_assert(fabsf(got[i] - want[i]) <= tol * (1.0f + fabsf(want[i])),
                  "element %d: %g vs sklearn %g", i, got[i], want[i]);
}

Test(scale_pca, minmax_and_standard_match_sklearn)
{
    float *x = test_read_f32(G "blobs300_x.bin", 1500);
    float *mm = test_read_f32(G "minmax_x.bin", 1500);
    float *sd = test_read_f32(G "standard_x.bin", 1500);
    cr_assert(x && mm && sd);
    float out[1500], back[1500];
    Scaler s;
    cr_assert_eq(scaler_fit_minmax(&s, x, 300, 5, -1.0, 2.0, NULL), TK_OK);
    scaler_transform(&s, x, 300, out);
    assert_close(out, mm, 1500, 1e-6f);
    scaler_inverse(&s, out, 300, back);
    assert_close(back, x, 1500, 1e-5f);
    scaler_free(&s);
    cr_assert_eq(scaler_fit_standard(&s, x, 300, 5, NULL), TK_OK);
    scaler_transform(&s, x, 300, out);
    assert_close(out, sd, 1500, 1e-5f);
    scaler_inverse(&s, out, 300, back);
    assert_close(back, x, 1500, 1e-5f);
    scaler_free(&s);
    free(x);
    free(mm);
    free(sd);
}

/* A constant column maps to lo (min-max) or 0 (standard), as in sklearn, instead of NaN. */
Test(scale_pca, constant_column_and_bad_input)
{
    float x[6] = {1, 5, 2, 5, 3, 5}, out[6];
    Scaler s;
    cr_assert_eq(scaler_fit_minmax(&s, x, 3, 2, 0.0, 1.0, NULL), TK_OK);
    scaler_transform(&s, x, 3, out);
    cr_assert(out[1] == 0.0f && out[3] == 0.0f && out[4] == 1.0f);
    scaler_free(&s);
    cr_assert_eq(scaler_fit_standard(&s, x, 3, 2, NULL), TK_OK);
    scaler_transform(&s, x, 3, out);
    cr_assert(out[1] == 0.0f && out[5] == 0.0f);
    scaler_free(&s);
    Status st = {0};
    x[4] = INFINITY;
    cr_assert_eq(scaler_fit_standard(&s, x, 3, 2, &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "row 2 column 0") != NULL, "%s", st.msg);
}

Test(scale_pca, pca_matches_sklearn)
{
    float *x = test_read_f32(G "blobs300_x.bin", 1500);
    float *comp = test_read_f32(G "pca_components.bin", 15);
    float *proj = test_read_f32(G "pca_transform.bin", 900);
    cr_assert(x && comp && proj);
    Pca p;
    Status st = {0};
    cr_assert_eq(pca_fit(&p, x, 300, 5, 3, &st), TK_OK, "%s", st.msg);
    static const double ev[3] = {46.463348388671875, 25.75547981262207, 5.063053607940674};
    static const double ratio[3] = {0.5599701404571533, 0.3104016184806824,
                                    0.06101924926042557};
    for (int c = 0; c < 3; c++) {
        cr_assert_float_eq(p.explained_variance[c], ev[c], 1e-5 * ev[c]);
        cr_assert_float_eq(p.explained_variance_ratio[c], ratio[c], 1e-5);
    }
    for (int i = 0; i < 15; i++)
        cr_assert_float_eq(p.components[i], comp[i], 1e-5, "component entry %d", i);
    float out[900], back[1500];
    pca_transform(&p, x, 300, out);
    assert_close(out, proj, 900, 1e-4f);
    pca_free(&p);
    /* All 5 components reconstruct the data. */
    cr_assert_eq(pca_fit(&p, x, 300, 5, 5, &st), TK_OK);
    float full[1500];
    pca_transform(&p, x, 300, full);
    pca_inverse_transform(&p, full, 300, back);
    assert_close(back, x, 1500, 1e-4f);
    pca_free(&p);
    cr_assert_eq(pca_fit(&p, x, 300, 5, 6, &st), TK_EINVAL);
    free(x);
    free(comp);
    free(proj);
}
