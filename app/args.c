/* args.c — option values for the verbs: the value after an option, and numbers read strictly
 * (the whole text, finite, in range), so that a typo is a usage error naming the option
 * rather than a silently different run; and naming the input file in messages that come
 * from numerics, which never see file names. */
#include "app.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

const char *app_option_value(const char *verb, int argc, char **argv, int *i) {
    if (*i + 1 >= argc) {
        app_usage_error(verb, "%s needs a value", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

int app_parse_int(const char *verb, const char *opt, const char *text, long lo, long hi,
                  int *out) {
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (end == text || *end || errno || v < lo || v > hi)
        return app_usage_error(verb, "%s '%s': expected a whole number from %ld to %ld", opt,
                               text, lo, hi);
    *out = (int)v;
    return EXIT_OK;
}

int app_parse_double(const char *verb, const char *opt, const char *text, double *out) {
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end || errno || !isfinite(v))
        return app_usage_error(verb, "%s '%s': expected a finite number", opt, text);
    *out = v;
    return EXIT_OK;
}

int app_parse_seed(const char *verb, const char *text, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (end == text || *end || errno || text[0] == '-')
        return app_usage_error(verb, "--seed '%s': expected a whole number >= 0", text);
    *out = (uint64_t)v;
    return EXIT_OK;
}

StatusCode app_status_prefix(Status *st, const char *file) {
    char msg[STATUS_MSG_MAX];
    snprintf(msg, sizeof msg, "%s", st->msg);
    return status_fail(st, st->code, "%s: %s", file, msg);
}
