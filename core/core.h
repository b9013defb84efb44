/* core — the foundation every other module stands on.
 *
 * What it offers (one header for the whole module):
 *   Status      an error code plus a message naming the file, line, tensor or row at fault;
 *               library code reports through it and never exits or aborts.
 *   Arena       one big 64-byte-aligned allocation carved into pieces (per model, per forward
 *               pass); a "measuring" arena plans the size first, so hot loops never allocate.
 *   Tensor      a float32 view of up to 4 dimensions, row-major (images are NHWC).
 *   Rng         a deterministic seeded generator with independent streams (one per thread).
 *   SIMD level  what the CPU can run (cpuid), and a way to force a lower level so that the
 *               scalar twin of every kernel is exercised by the tests.
 *   sgemm       C = alpha * op(A) * op(B) + beta * C, row-major, all four transpose pairs,
 *               packed panels, cache blocking, AVX2/FMA and AVX-512 micro-kernels.
 *   vec_*       element-wise helpers (bias add, activations and their derivatives).
 *
 * Dependencies: none but libc, libm and OpenMP.
 */
#ifndef TAKT_CORE_H
#define TAKT_CORE_H

#include <stddef.h>
#include <stdint.h>

#define TAKT_VERSION "0.1.0"

/* ---------------------------------------------------------------- status */

typedef enum {
    TK_OK = 0,
    TK_EINVAL,       /* a caller passed an impossible argument */
    TK_EIO,          /* the operating system refused a read, write or rename */
    TK_EFORMAT,      /* a file's content is malformed */
    TK_EUNSUPPORTED, /* a well-formed input that takt does not handle (yet) */
    TK_ENOMEM,       /* an allocation failed */
} StatusCode;

#define STATUS_MSG_MAX 512

typedef struct {
    StatusCode code;
    char msg[STATUS_MSG_MAX];
} Status;

/* Records the failure in st (which may be NULL) and returns code, so that callers can write
 * `return status_fail(st, TK_EFORMAT, "%s: tensor '%s': bad shape", path, name);`. */
StatusCode status_fail(Status *st, StatusCode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void status_clear(Status *st);
const char *status_code_name(StatusCode code);

/* ---------------------------------------------------------------- arena */

#define ARENA_ALIGN 64

/* An arena with base == NULL only measures: arena_alloc returns NULL but counts what a real
 * arena of the same sequence of calls would need, so a model can plan its memory once. */
typedef struct {
    unsigned char *base;
    size_t capacity;
    size_t used;
    size_t peak;
} Arena;

StatusCode arena_init(Arena *a, size_t capacity, Status *st);
void arena_init_measure(Arena *a);
void arena_free(Arena *a);
/* 64-byte aligned; NULL when the arena is full (or measuring). The bytes are not zeroed. */
void *arena_alloc(Arena *a, size_t bytes);
float *arena_floats(Arena *a, size_t count);
size_t arena_mark(const Arena *a);
void arena_rewind(Arena *a, size_t mark);

/* ---------------------------------------------------------------- tensor */

#define TENSOR_MAX_DIMS 4

typedef struct {
    float *data;
    int ndim;
    int shape[TENSOR_MAX_DIMS];
} Tensor;

/* A view of existing memory; dims beyond ndim are 1. */
Tensor tensor_view(float *data, int ndim, const int *shape);
Tensor tensor_2d(float *data, int rows, int cols);
size_t tensor_count(const Tensor *t);
/* Takes the storage from the arena; on a measuring arena data stays NULL. */
StatusCode tensor_alloc(Tensor *t, Arena *a, int ndim, const int *shape, Status *st);
int tensor_same_shape(const Tensor *a, const Tensor *b);
/* "3x224x224x3" into buf (for messages). */
const char *tensor_shape_str(const Tensor *t, char *buf, size_t bufsize);

/* ---------------------------------------------------------------- rng */

/* xoshiro256** (Blackman & Vigna, 2018), state seeded by splitmix64 from (seed, stream), so
 * that stream k of a seed is the same sequence whatever the thread count. */
typedef struct {
    uint64_t s[4];
} Rng;

void rng_seed(Rng *r, uint64_t seed, uint64_t stream);
uint64_t rng_u64(Rng *r);
/* Uniform in [0, 1) with 24 random bits (float) or 53 (double). */
float rng_uniform(Rng *r);
double rng_uniform_double(Rng *r);
/* Uniform integer in [0, n), unbiased (Lemire's method). n must be > 0. */
uint64_t rng_below(Rng *r, uint64_t n);
/* Standard normal by Box–Muller (no cached second value, so the stream is stateless). */
float rng_normal(Rng *r);
void rng_shuffle_int(Rng *r, int *v, size_t n);
/* The i-th output of splitmix64 seeded with seed (Steele et al., 2014). */
uint64_t splitmix64_at(uint64_t seed, uint64_t i);

/* ---------------------------------------------------------------- cpu / simd */

typedef enum {
    SIMD_SCALAR = 0,
    SIMD_AVX2 = 1,   /* AVX2 + FMA + F16C */
    SIMD_AVX512 = 2, /* AVX-512F */
} SimdLevel;

/* What the CPU and OS support (cpuid + xgetbv), detected once. */
SimdLevel simd_detected(void);
/* The level kernels use now: detected, unless lowered by simd_force or TAKT_SIMD=scalar|avx2|avx512. */
SimdLevel simd_active(void);
/* Lowers (never raises above detected) the level; returns the level now in force. */
SimdLevel simd_force(SimdLevel level);
const char *simd_name(SimdLevel level);
int threads_max(void);

/* ---------------------------------------------------------------- gemm */

typedef enum { GEMM_N = 0, GEMM_T = 1 } GemmTrans;

/* C[m x n] = alpha * op(A) * op(B) + beta * C, all row-major.
 * op(A) is m x k: A is m x k (lda >= k) when ta == GEMM_N, k x m (lda >= m) when GEMM_T.
 * op(B) is k x n: B is k x n (ldb >= n) when tb == GEMM_N, n x k (ldb >= k) when GEMM_T.
 * beta == 0 overwrites C without reading it (NaN in C does not propagate).
 * Threads: OpenMP over blocks of C; each element of C is computed by one thread in the same
 * order whatever the thread count, so results are bit-identical for 1 and N threads. */
void sgemm(GemmTrans ta, GemmTrans tb, int m, int n, int k, float alpha, const float *A,
           int lda, const float *B, int ldb, float beta, float *C, int ldc);
/* The same on a given level (clamped to what the CPU has) and thread count (0 = all). */
void sgemm_ex(SimdLevel level, int threads, GemmTrans ta, GemmTrans tb, int m, int n, int k,
              float alpha, const float *A, int lda, const float *B, int ldb, float beta,
              float *C, int ldc);
/* The naive triple loop (double accumulation): the reference the tests compare against. */
void sgemm_naive(GemmTrans ta, GemmTrans tb, int m, int n, int k, float alpha, const float *A,
                 int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* ---------------------------------------------------------------- element-wise */

/* y[r][c] += bias[c] for an r x c row-major matrix. */
void vec_add_bias(float *y, const float *bias, int rows, int cols);
/* db[c] += sum_r dy[r][c]: the bias gradient. */
void vec_sum_rows(float *db, const float *dy, int rows, int cols);
void vec_add(float *y, const float *x, size_t n);          /* y += x */
void vec_scale(float *y, float s, size_t n);               /* y *= s */
void vec_axpy(float *y, float a, const float *x, size_t n); /* y += a*x */
void vec_mul(float *y, const float *a, const float *b, size_t n); /* y = a*b */
float vec_dot(const float *a, const float *b, size_t n);
float vec_sum_squares(const float *x, size_t n);

/* Activations in place, and their derivatives expressed through the activation's output y
 * (which is what backward passes keep): dx = dy * f'(y). */
void vec_sigmoid(float *x, size_t n);
void vec_tanh(float *x, size_t n);
void vec_relu(float *x, size_t n);
void vec_relu6(float *x, size_t n);
void vec_sigmoid_backward(float *dx, const float *y, const float *dy, size_t n);
void vec_tanh_backward(float *dx, const float *y, const float *dy, size_t n);
void vec_relu_backward(float *dx, const float *y, const float *dy, size_t n);
void vec_relu6_backward(float *dx, const float *y, const float *dy, size_t n);

/* ---------------------------------------------------------------- float16 */

float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f); /* round to nearest even, overflow to inf, NaN kept */

/* ---------------------------------------------------------------- time */

double time_now(void); /* monotonic seconds */

#endif
