/* rng.c — deterministic random numbers.
 *
 * xoshiro256** (Blackman & Vigna, "Scrambled linear pseudorandom number generators", 2018):
 * fast, 256-bit state, passes BigCrush. Each (seed, stream) pair is expanded through splitmix64
 * (Steele, Lea & Flood, 2014) into a state, so stream k is independent of how many threads
 * exist: work item k uses stream k, and results do not depend on scheduling. */
#include "core.h"

#include <math.h>

uint64_t splitmix64_at(uint64_t seed, uint64_t i)
{
    uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void rng_seed(Rng *r, uint64_t seed, uint64_t stream)
{
    /* Mixing the stream into the seed through one splitmix step keeps streams of nearby
     * seeds from overlapping in their splitmix sequences. */
    uint64_t base = splitmix64_at(seed, 0) ^ splitmix64_at(stream, 0x5EED);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64_at(base, (uint64_t)i);
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
        r->s[0] = 1; /* the all-zero state is a fixed point */
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rng_u64(Rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

float rng_uniform(Rng *r) { return (float)(rng_u64(r) >> 40) * 0x1.0p-24f; }

double rng_uniform_double(Rng *r) { return (double)(rng_u64(r) >> 11) * 0x1.0p-53; }

/* Lemire, "Fast random integer generation in an interval", 2019. */
uint64_t rng_below(Rng *r, uint64_t n)
{
    __uint128_t m = (__uint128_t)rng_u64(r) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t threshold = -n % n;
        while (low < threshold) {
            m = (__uint128_t)rng_u64(r) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

float rng_normal(Rng *r)
{
    double u1 = 1.0 - rng_uniform_double(r); /* (0, 1]: log stays finite */
    double u2 = rng_uniform_double(r);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

void rng_shuffle_int(Rng *r, int *v, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)rng_below(r, i);
        int t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}
