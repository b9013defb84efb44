/* progress.c — progress with rate and ETA for long stages (see Progress in app.h). */
#include "app.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void format_duration(double s, char *buf, size_t size)
{
    if (s < 0 || s > 1e7)
        snprintf(buf, size, "?");
    else if (s < 60)
        snprintf(buf, size, "%.0fs", s);
    else if (s < 3600)
        snprintf(buf, size, "%dm%02ds", (int)s / 60, (int)s % 60);
    else
        snprintf(buf, size, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
}

void progress_start(Progress *p, const char *label, double total, const char *unit)
{
    memset(p, 0, sizeof *p);
    snprintf(p->label, sizeof p->label, "%s", label);
    p->total = total;
    p->unit = unit ? unit : "";
    p->start = time_now();
    p->tty = isatty(STDERR_FILENO);
    if (!p->tty) {
        if (total > 0)
            fprintf(stderr, "%s: %.0f %s\n", p->label, total, p->unit);
        else
            fprintf(stderr, "%s\n", p->label);
    }
}

void progress_update(Progress *p, double done, const char *note)
{
    if (!p->tty)
        return;
    double now = time_now();
    if (now - p->last_draw < 0.1 && !(p->total > 0 && done >= p->total))
        return;
    p->last_draw = now;
    double elapsed = now - p->start;
    double rate = elapsed > 0 ? done / elapsed : 0;
    char eta[32] = "?", spent[32];
    format_duration(elapsed, spent, sizeof spent);
    if (p->total > 0 && rate > 0)
        format_duration((p->total - done) / rate, eta, sizeof eta);
    if (p->total > 0) {
        enum { WIDTH = 24 };
        int fill = (int)(WIDTH * (done / p->total) + 0.5);
        if (fill > WIDTH)
            fill = WIDTH;
        char bar[WIDTH + 1];
        for (int i = 0; i < WIDTH; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[WIDTH] = '\0';
        fprintf(stderr, "\r\033[K%s [%s] %.0f/%.0f %s  %.1f %s/s  %s  ETA %s", p->label, bar, done,
                p->total, p->unit, rate, p->unit, note ? note : "", eta);
    } else {
        fprintf(stderr, "\r\033[K%s %.0f %s  %.1f %s/s  %s  %s", p->label, done, p->unit, rate,
                p->unit, note ? note : "", spent);
    }
    fflush(stderr);
}

void progress_end(Progress *p, const char *note)
{
    char spent[32];
    format_duration(time_now() - p->start, spent, sizeof spent);
    if (p->tty)
        fprintf(stderr, "\r\033[K");
    fprintf(stderr, "%s: done in %s%s%s\n", p->label, spent, note ? "  " : "", note ? note : "");
}
