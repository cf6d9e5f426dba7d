/* variant.c — the variant names (variant.h): the only place they are
 * spelled out. */
#include "flowgate/variant.h"

#include <stdio.h>
#include <string.h>

static const char *const variant_names[FG_VARIANT_COUNT] = {
    "clean", "adult", "violence", "illegal_text",
};

const char *fg_variant_name(fg_variant v)
{
    return (unsigned)v < FG_VARIANT_COUNT ? variant_names[v] : "unknown";
}

int fg_variant_parse(const char *name, fg_variant *out)
{
    for (int v = 0; v < FG_VARIANT_COUNT; v++)
        if (name && !strcmp(name, variant_names[v])) {
            *out = (fg_variant)v;
            return 0;
        }
    return -1;
}

const char *fg_variant_list(const char *sep, char *out, size_t size)
{
    size_t len = 0;
    if (size) out[0] = 0;
    for (int v = 0; v < FG_VARIANT_COUNT && len < size; v++) {
        int n = snprintf(out + len, size - len, "%s%s", v ? sep : "", variant_names[v]);
        if (n < 0) break;
        len += (size_t)n;
    }
    return out;
}
