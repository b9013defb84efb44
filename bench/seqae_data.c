/* seqae_data.c — regenerates workload A's data set `seqae_20k` (20000 x 40 x 66 float32) from
 * the recipe in shared/bench/README.md instead of shipping its 211 MB: splitmix64 uniforms,
 * a smooth random walk per keypoint around a shared template. Every operation is one IEEE
 * double + or * evaluated left to right as the recipe writes it; this file is compiled without
 * FMA (not an _avx2.c file), so no multiply-add is ever fused and the bytes are the
 * reference's (sha256 checked by tests/test_nn_seqae.c and `takt bench seqae`). */
#include "bench.h"

#include "../io/io.h"

#include <stdio.h>
#include <stdlib.h>

#define SEQAE_SEED 20240601ull
#define SEQAE_PER 2789 /* 3 + 66 + 40*68 uniforms per sequence */

static double uniform_at(uint64_t seed, uint64_t i)
{
    return (double)(splitmix64_at(seed, i) >> 11) * 0x1.0p-53;
}

void seqae20k_rows(int first, int count, float *out)
{
    double tmpl[SEQAE20K_F];
    for (int f = 0; f < SEQAE20K_F; f++)
        tmpl[f] = 0.15 * (2 * uniform_at(SEQAE_SEED + 1, (uint64_t)f) - 1);
    for (int s = first; s < first + count; s++) {
        const uint64_t base = (uint64_t)s * SEQAE_PER;
#define U(j) uniform_at(SEQAE_SEED, base + (uint64_t)(j))
        double g[2] = {0.35 + 0.30 * U(0), 0.35 + 0.30 * U(1)};
        const double sc = 0.70 + 0.60 * U(2);
        double gv[2] = {0, 0}, v[SEQAE20K_F] = {0}, d[SEQAE20K_F] = {0}, o[SEQAE20K_F];
        for (int f = 0; f < SEQAE20K_F; f++)
            o[f] = sc * tmpl[f] + 0.01 * (2 * U(3 + f) - 1);
        float *x = out + (size_t)(s - first) * SEQAE20K_T * SEQAE20K_F;
        for (int t = 0; t < SEQAE20K_T; t++) {
            const int b = 69 + 68 * t;
            for (int c = 0; c < 2; c++) {
                gv[c] = 0.9 * gv[c] + 0.003 * (2 * U(b + c) - 1);
                g[c] = g[c] + gv[c];
            }
            for (int f = 0; f < SEQAE20K_F; f++) {
                v[f] = 0.8 * v[f] + 0.004 * (2 * U(b + 2 + f) - 1);
                d[f] = d[f] + v[f];
                const double value = g[f % 2] + o[f] + d[f];
                x[t * SEQAE20K_F + f] = (float)(value < 0 ? 0 : value > 1 ? 1 : value);
            }
        }
#undef U
    }
}

StatusCode seqae20k_sha256(char hex[65], Status *st)
{
    enum { CHUNK = 250 };
    const size_t bytes = (size_t)CHUNK * SEQAE20K_T * SEQAE20K_F * sizeof(float);
    float *rows = malloc(bytes);
    if (!rows)
        return status_fail(st, TK_ENOMEM, "seqae_20k: cannot allocate %zu bytes", bytes);
    Sha256 h;
    sha256_init(&h);
    for (int s = 0; s < SEQAE20K_N; s += CHUNK) {
        seqae20k_rows(s, CHUNK, rows);
        sha256_update(&h, rows, bytes);
    }
    free(rows);
    unsigned char digest[32];
    sha256_final(&h, digest);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    return TK_OK;
}
