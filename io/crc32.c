/* crc32 — the IEEE 802.3 CRC-32 (reflected, polynomial 0xEDB88320, initial value and final
 * xor 0xFFFFFFFF): the same numbers as zlib's crc32(), so files can be checked with any tool.
 *
 * Slicing-by-8 (eight 256-entry tables, 8 input bytes per step) because tkw_open checks every
 * tensor byte on every load; the tables are derived from the polynomial on first use. */
#include <threads.h>

#include "io.h"

#define CRC32_POLY_REFLECTED 0xEDB88320u

static uint32_t crc_tables[8][256];
static once_flag crc_tables_once = ONCE_FLAG_INIT;

static void crc_tables_build(void) {
    for (uint32_t byte = 0; byte < 256; byte++) {
        uint32_t c = byte;
        for (int bit = 0; bit < 8; bit++)
            c = (c >> 1) ^ (CRC32_POLY_REFLECTED & (0u - (c & 1u)));
        crc_tables[0][byte] = c;
    }
    /* Table k advances a byte followed by k zero bytes, which is what lets one step fold
     * eight input bytes independently. */
    for (int k = 1; k < 8; k++)
        for (int byte = 0; byte < 256; byte++) {
            uint32_t prev = crc_tables[k - 1][byte];
            crc_tables[k][byte] = (prev >> 8) ^ crc_tables[0][prev & 0xFFu];
        }
}

uint32_t crc32_update(uint32_t crc, const void *data, size_t n) {
    call_once(&crc_tables_once, crc_tables_build);
    const unsigned char *p = data;
    uint32_t c = ~crc;
    /* Bytes are assembled explicitly (not loaded as words) so the result does not depend on
     * the host's byte order or on p's alignment. */
    while (n >= 8) {
        uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                           (uint32_t)p[3] << 24);
        c = crc_tables[7][lo & 0xFFu] ^ crc_tables[6][(lo >> 8) & 0xFFu] ^
            crc_tables[5][(lo >> 16) & 0xFFu] ^ crc_tables[4][lo >> 24] ^
            crc_tables[3][p[4]] ^ crc_tables[2][p[5]] ^ crc_tables[1][p[6]] ^
            crc_tables[0][p[7]];
        p += 8;
        n -= 8;
    }
    while (n-- > 0)
        c = (c >> 8) ^ crc_tables[0][(c ^ *p++) & 0xFFu];
    return ~c;
}

uint32_t crc32_of(const void *data, size_t n) { return crc32_update(0, data, n); }
