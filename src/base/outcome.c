/* outcome.c — names and exit statuses of the three outcomes (outcome.h). */
#include "flowgate/outcome.h"
#include "flowgate/common.h"

const char *fg_outcome_name(fg_outcome o)
{
    return o == FG_OUTCOME_FAIL ? "fail" : o == FG_OUTCOME_INCONCLUSIVE ? "inconclusive" : "pass";
}

const char *fg_outcome_label(fg_outcome o)
{
    return o == FG_OUTCOME_FAIL ? "FAIL" : o == FG_OUTCOME_INCONCLUSIVE ? "INCONCLUSIVE" : "PASS";
}

int fg_outcome_exit(fg_outcome o, int inconclusive_pass)
{
    if (o == FG_OUTCOME_FAIL) return FG_EXIT_FAIL;
    if (o == FG_OUTCOME_INCONCLUSIVE && !inconclusive_pass) return FG_EXIT_INCONCLUSIVE;
    return FG_EXIT_PASS;
}
