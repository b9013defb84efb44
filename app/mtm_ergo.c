/* mtm_ergo.c — the ergonomic thresholds of `takt mtm run`: the method's defaults and a
 * "key = value" configuration file (see app/ergonomics.conf.example). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtm.h"

MtmErgo mtm_ergo_default(void)
{
    return (MtmErgo){.wrist_extension = 165.0, .elbow_lo = 150.0, .elbow_hi = 180.0,
                     .shoulder_lo = 0.0, .shoulder_hi = 20.0, .asymmetry = 10.0,
                     .hold_share = 0.6, .neutral_check_s = 5.0, .min_frames = 3};
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = 0;
    return s;
}

StatusCode mtm_ergo_load(MtmErgo *e, const char *path, Status *st)
{
    *e = mtm_ergo_default();
    FILE *fp = fopen(path, "r");
    if (!fp)
        return status_fail(st, TK_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct {
        const char *key;
        double *value;
    } keys[] = {{"wrist_extension_deg", &e->wrist_extension}, {"elbow_neutral_min", &e->elbow_lo},
                {"elbow_neutral_max", &e->elbow_hi},       {"shoulder_neutral_min", &e->shoulder_lo},
                {"shoulder_neutral_max", &e->shoulder_hi}, {"shoulder_asymmetry_deg", &e->asymmetry},
                {"hold_share", &e->hold_share},            {"neutral_check_s", &e->neutral_check_s}};
    char line[512];
    StatusCode rc = TK_OK;
    for (int ln = 1; !rc && fgets(line, sizeof line, fp); ln++) {
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        char *s = trim(line);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            rc = status_fail(st, TK_EFORMAT, "%s: line %d: expected key = value", path, ln);
            break;
        }
        *eq = 0;
        const char *key = trim(s), *text = trim(eq + 1);
        char *end;
        const double v = strtod(text, &end);
        if (end == text || *end || !isfinite(v) || v < 0) {
            rc = status_fail(st, TK_EFORMAT, "%s: line %d: '%s' is not a number >= 0 for %s", path,
                             ln, text, key);
            break;
        }
        int found = 0;
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
            if (!strcmp(key, keys[k].key)) {
                *keys[k].value = v;
                found = 1;
            }
        if (!strcmp(key, "min_frames")) {
            if (v != floor(v) || v < 1 || v > 1e6) {
                rc = status_fail(st, TK_EFORMAT, "%s: line %d: min_frames must be a whole number "
                                 ">= 1", path, ln);
                break;
            }
            e->min_frames = (int)v;
            found = 1;
        }
        if (!found)
            rc = status_fail(st, TK_EFORMAT, "%s: line %d: unknown key '%s'", path, ln, key);
    }
    fclose(fp);
    if (!rc && (e->elbow_lo > e->elbow_hi || e->shoulder_lo > e->shoulder_hi || e->hold_share > 1))
        rc = status_fail(st, TK_EFORMAT, "%s: a neutral range is empty or hold_share > 1", path);
    return rc;
}
