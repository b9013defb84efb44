/* mtm_cycles.c — work cycles of a motion-element sequence: from an element of a given code to
 * the next, or the element pattern that repeats back to back (the cycle finder `takt study`
 * uses, study_cycle_pattern); per cycle its span, TMU and seconds held per risk. */
#include <stdlib.h>

#include "mtm.h"
#include "study.h"

static void cycle_totals(const MtmElement *el, int first, int last, MtmCycle *c)
{
    *c = (MtmCycle){.first = first, .last = last, .t_start = el[first].t_start,
                    .t_end = el[last].t_end};
    for (int i = first; i <= last; i++) {
        if (el[i].code < 0)
            continue;
        c->tmu += (el[i].t_end - el[i].t_start) / MTM_TMU_SECONDS;
        for (int k = 0; k < MTM_RISK_COUNT; k++)
            c->held_s[k] += el[i].held_s[k];
    }
}

StatusCode mtm_cycles(const MtmElement *el, int n, int start_code, MtmCycle **cycles,
                      int *n_cycles, Status *st)
{
    *cycles = NULL;
    *n_cycles = 0;
    int *starts = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    int *labels = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    MtmCycle *c = malloc(sizeof(MtmCycle) * (size_t)(n > 0 ? n : 1));
    if (!starts || !labels || !c) {
        free(starts), free(labels), free(c);
        return status_fail(st, TK_ENOMEM, "mtm: out of memory for the cycles of %d elements", n);
    }
    int count = 0;
    if (start_code >= 0) {
        int begin = -1;
        for (int i = 0; i < n; i++) {
            if (el[i].code != start_code)
                continue;
            if (begin >= 0)
                cycle_totals(el, begin, i - 1, &c[count++]);
            begin = i;
        }
    } else {
        for (int i = 0; i < n; i++)
            labels[i] = el[i].code;
        int pattern[STUDY_MAX_CYCLE];
        const int m = study_cycle_pattern(labels, n, pattern, starts, &count);
        for (int r = 0; r < count; r++)
            cycle_totals(el, starts[r], starts[r] + m - 1, &c[r]);
    }
    free(starts), free(labels);
    if (!count) {
        free(c);
        return TK_OK;
    }
    *cycles = c;
    *n_cycles = count;
    return TK_OK;
}
