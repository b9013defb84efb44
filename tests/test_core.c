/* test_core.c — arena, tensor, rng, float16 and the element-wise helpers (scalar and SIMD). */
#include <cpuid.h>
#include <criterion/criterion.h>
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "../core/core.h"

Test(arena, measure_then_allocate_gives_the_same_layout)
{
    size_t sizes[] = {1, 63, 64, 65, 1000, 3};
    Arena m;
    arena_init_measure(&m);
    for (int i = 0; i < 6; i++)
        cr_assert_null(arena_alloc(&m, sizes[i]));
    cr_assert_eq(m.peak, 64 + 64 + 64 + 128 + 1024 + 64);

    Arena a;
    Status st = {0};
    cr_assert_eq(arena_init(&a, m.peak, &st), TK_OK);
    for (int i = 0; i < 6; i++) {
        unsigned char *p = arena_alloc(&a, sizes[i]);
        cr_assert_not_null(p, "allocation %d of a planned arena failed", i);
        cr_assert_eq((uintptr_t)p % ARENA_ALIGN, 0);
        memset(p, 0xAB, sizes[i]);
    }
    cr_assert_null(arena_alloc(&a, 1), "a full arena must refuse, not overflow");
    arena_free(&a);
}

Test(arena, rewind_reuses_memory)
{
    Arena a;
    cr_assert_eq(arena_init(&a, 4096, NULL), TK_OK);
    void *first = arena_alloc(&a, 100);
    size_t mark = arena_mark(&a);
    void *p = arena_alloc(&a, 1000);
    arena_rewind(&a, mark);
    cr_assert_eq(arena_alloc(&a, 1000), p);
    cr_assert_neq(first, p);
    cr_assert_null(arena_alloc(&a, SIZE_MAX), "a size that overflows must be refused");
    arena_free(&a);
}

Test(tensor, alloc_reports_bad_shapes_and_full_arena)
{
    Arena a;
    Status st = {0};
    cr_assert_eq(arena_init(&a, 1024, &st), TK_OK);
    Tensor t;
    int good[3] = {2, 3, 4}, bad[2] = {3, 0}, big[2] = {1000, 1000};
    cr_assert_eq(tensor_alloc(&t, &a, 3, good, &st), TK_OK);
    cr_assert_eq(tensor_count(&t), 24);
    char buf[32];
    cr_assert_str_eq(tensor_shape_str(&t, buf, sizeof buf), "2x3x4");
    cr_assert_eq(t.shape[3], 1);
    cr_assert_eq(tensor_alloc(&t, &a, 2, bad, &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "dimension 1") != NULL, "message: %s", st.msg);
    cr_assert_eq(tensor_alloc(&t, &a, 5, good, &st), TK_EINVAL);
    cr_assert_eq(tensor_alloc(&t, &a, 2, big, &st), TK_ENOMEM);
    cr_assert(strstr(st.msg, "arena full") != NULL, "message: %s", st.msg);
    arena_free(&a);
}

Test(rng, splitmix64_matches_the_published_sequence)
{
    /* First outputs of splitmix64 seeded with 0 and 1234567 (reference C implementation,
     * Vigna, prng.di.unimi.it/splitmix64.c). */
    cr_assert_eq(splitmix64_at(0, 0), 0xE220A8397B1DCDAFull);
    cr_assert_eq(splitmix64_at(1234567, 0), 6457827717110365317ull);
    cr_assert_eq(splitmix64_at(1234567, 1), 3203168211198807973ull);
}

Test(rng, seeded_streams_are_reproducible_and_independent)
{
    Rng a, b, c;
    rng_seed(&a, 42, 0);
    rng_seed(&b, 42, 0);
    rng_seed(&c, 42, 1);
    int same_as_other_stream = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = rng_u64(&a);
        cr_assert_eq(x, rng_u64(&b));
        same_as_other_stream += x == rng_u64(&c);
    }
    cr_assert_eq(same_as_other_stream, 0);
}

Test(rng, distributions_have_the_right_moments)
{
    Rng r;
    rng_seed(&r, 7, 3);
    const int n = 200000;
    double su = 0, sn = 0, sn2 = 0;
    int counts[10] = {0};
    for (int i = 0; i < n; i++) {
        float u = rng_uniform(&r);
        cr_assert(u >= 0.0f && u < 1.0f);
        su += u;
        float z = rng_normal(&r);
        sn += z;
        sn2 += (double)z * z;
        uint64_t k = rng_below(&r, 10);
        cr_assert_lt(k, 10);
        counts[k]++;
    }
    cr_assert_float_eq(su / n, 0.5, 0.005);
    cr_assert_float_eq(sn / n, 0.0, 0.01);
    cr_assert_float_eq(sn2 / n, 1.0, 0.02);
    for (int k = 0; k < 10; k++) /* expected 20000 each; 5 sigma is ~670 */
        cr_assert(abs(counts[k] - n / 10) < 700, "bucket %d has %d", k, counts[k]);

    int v[50];
    for (int i = 0; i < 50; i++)
        v[i] = i;
    rng_shuffle_int(&r, v, 50);
    int seen[50] = {0}, moved = 0;
    for (int i = 0; i < 50; i++) {
        seen[v[i]]++;
        moved += v[i] != i;
    }
    for (int i = 0; i < 50; i++)
        cr_assert_eq(seen[i], 1, "a shuffle is a permutation");
    cr_assert_gt(moved, 40);
}

/* The CPU's own F16C conversion is the reference (IEEE 754 round-to-nearest-even). */
__attribute__((target("f16c"))) static uint16_t hw_f32_to_f16(float f)
{
    return (uint16_t)_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT);
}
__attribute__((target("f16c"))) static float hw_f16_to_f32(uint16_t h) { return _cvtsh_ss(h); }

Test(f16, conversions_match_the_cpu_f16c_instructions)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !((c >> 29) & 1)) /* CPUID.1:ECX.F16C */
        cr_skip_test("this CPU has no F16C to compare against");
    for (uint32_t h = 0; h < 65536; h++) {
        float ours = f16_to_f32((uint16_t)h), ref = hw_f16_to_f32((uint16_t)h);
        if (isnan(ref)) {
            cr_assert(isnan(ours));
            continue;
        }
        cr_assert_eq(memcmp(&ours, &ref, 4), 0, "half 0x%04x: %g vs %g", h, ours, ref);
    }
    Rng r;
    rng_seed(&r, 1, 0);
    for (int i = 0; i < 2000000; i++) {
        uint32_t bits = (uint32_t)rng_u64(&r);
        float f;
        memcpy(&f, &bits, 4);
        if (isnan(f))
            continue;
        cr_assert_eq(f32_to_f16(f), hw_f32_to_f16(f), "float %a (0x%08x)", f, bits);
    }
    /* round-half-to-even at the boundaries */
    float edge[] = {65504.0f, 65519.0f, 65520.0f, 5.9604645e-8f, 2.9802322e-8f, 2.9802326e-8f,
                    1.0f + 0x1.0p-11f, 1.0f + 0x1.8p-11f, -0.0f};
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
        cr_assert_eq(f32_to_f16(edge[i]), hw_f32_to_f16(edge[i]), "edge %a", edge[i]);
}

static void fill(float *x, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * (float)i / (float)(n - 1);
}

/* Runs f on a copy of x at the given level. */
static void at_level(SimdLevel level, void (*f)(float *, size_t), const float *x, float *y, size_t n)
{
    SimdLevel saved = simd_active();
    simd_force(level);
    memcpy(y, x, n * sizeof *y);
    f(y, n);
    simd_force(saved);
}

Test(vec, activations_match_libm_on_every_level)
{
    enum { N = 4099 };
    static float x[N], y[N];
    fill(x, N, -30.0f, 30.0f);
    for (int level = SIMD_SCALAR; level <= (int)simd_detected(); level++) {
        at_level((SimdLevel)level, vec_sigmoid, x, y, N);
        for (int i = 0; i < N; i++) {
            double ref = 1.0 / (1.0 + exp(-(double)x[i]));
            cr_assert(fabs(y[i] - ref) <= 3e-7 + 2e-6 * ref, "%s sigmoid(%g) = %.9g, want %.9g",
                      simd_name((SimdLevel)level), x[i], y[i], ref);
        }
        at_level((SimdLevel)level, vec_tanh, x, y, N);
        for (int i = 0; i < N; i++) {
            double ref = tanh((double)x[i]);
            cr_assert(fabs(y[i] - ref) <= 3e-7 + 2e-6 * fabs(ref), "%s tanh(%g) = %.9g, want %.9g",
                      simd_name((SimdLevel)level), x[i], y[i], ref);
        }
        at_level((SimdLevel)level, vec_relu6, x, y, N);
        for (int i = 0; i < N; i++)
            cr_assert_eq(y[i], fminf(fmaxf(x[i], 0.0f), 6.0f));
    }
}

/* Derivatives checked by central finite differences of the activation itself. */
Test(vec, activation_derivatives_match_finite_differences)
{
    enum { N = 64 };
    float x[N], y[N], dy[N], dx[N];
    fill(x, N, -4.0f, 4.2f); /* avoids the kinks of relu at 0 and relu6 at 6 */
    struct {
        void (*f)(float *, size_t);
        void (*b)(float *, const float *, const float *, size_t);
        const char *name;
    } acts[] = {{vec_sigmoid, vec_sigmoid_backward, "sigmoid"},
                {vec_tanh, vec_tanh_backward, "tanh"},
                {vec_relu, vec_relu_backward, "relu"},
                {vec_relu6, vec_relu6_backward, "relu6"}};
    for (size_t a = 0; a < 4; a++) {
        memcpy(y, x, sizeof y);
        acts[a].f(y, N);
        for (int i = 0; i < N; i++)
            dy[i] = 0.5f + 0.01f * (float)i;
        acts[a].b(dx, y, dy, N);
        for (int i = 0; i < N; i++) {
            const float h = 1e-2f;
            float p = x[i] + h, m = x[i] - h;
            acts[a].f(&p, 1);
            acts[a].f(&m, 1);
            double fd = (double)dy[i] * (p - m) / (2.0 * h);
            cr_assert(fabs(dx[i] - fd) < 2e-3, "%s'(%g): %g vs finite difference %g", acts[a].name,
                      x[i], dx[i], fd);
        }
    }
}

Test(vec, linear_algebra_helpers_agree_across_levels)
{
    enum { R = 7, C = 37 };
    float y0[R * C], y1[R * C], bias[C], x[R * C];
    fill(x, R * C, -1.0f, 2.0f);
    fill(bias, C, 3.0f, -3.0f);
    SimdLevel saved = simd_active();
    for (int level = SIMD_SCALAR; level <= (int)simd_detected(); level++) {
        simd_force((SimdLevel)level);
        memcpy(y0, x, sizeof y0);
        vec_add_bias(y0, bias, R, C);
        for (int i = 0; i < R * C; i++)
            cr_assert_eq(y0[i], x[i] + bias[i % C]);
        memcpy(y1, x, sizeof y1);
        vec_axpy(y1, -0.5f, x, R * C);
        for (int i = 0; i < R * C; i++)
            cr_assert_float_eq(y1[i], 0.5f * x[i], 1e-6);
        double ref = 0;
        for (int i = 0; i < R * C; i++)
            ref += (double)x[i] * y0[i];
        cr_assert_float_eq(vec_dot(x, y0, R * C), ref, 1e-4 * fabs(ref) + 1e-4);
    }
    simd_force(saved);
    float db[C] = {0};
    vec_sum_rows(db, x, R, C);
    for (int c = 0; c < C; c++) {
        double s = 0;
        for (int r = 0; r < R; r++)
            s += x[r * C + c];
        cr_assert_float_eq(db[c], s, 1e-5);
    }
}

Test(simd, forcing_never_raises_above_the_cpu)
{
    SimdLevel saved = simd_active();
    cr_assert_leq(simd_force(SIMD_AVX512), simd_detected());
    cr_assert_eq(simd_force(SIMD_SCALAR), SIMD_SCALAR);
    cr_assert_eq(simd_active(), SIMD_SCALAR);
    simd_force(saved);
    cr_assert_geq(threads_max(), 1);
}
