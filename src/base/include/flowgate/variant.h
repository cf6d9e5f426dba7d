/* variant.h — which branch of the recognizer a test image drives: the
 * variants a run names (config, results) and the image generator draws.
 * Apart from imagegen so the driver knows the names without linking
 * cairo. */
#ifndef FLOWGATE_VARIANT_H
#define FLOWGATE_VARIANT_H
#include <stddef.h>

typedef enum fg_variant {
    FG_VARIANT_CLEAN = 0,      /* both switches take the benign branch */
    FG_VARIANT_ADULT,          /* a skin-tone region: adult fires */
    FG_VARIANT_VIOLENCE,       /* a blood-red region: violence fires */
    FG_VARIANT_ILLEGAL_TEXT,   /* banner holds words on the censor list */
    FG_VARIANT_COUNT
} fg_variant;

const char *fg_variant_name(fg_variant v);           /* "clean", "adult", ... */
int fg_variant_parse(const char *name, fg_variant *out);
/* Every name in order, joined by sep ("clean, adult, violence,
 * illegal_text" with ", "), for usage lines and errors: the one list the
 * commands print. Returns out (truncated to size). */
const char *fg_variant_list(const char *sep, char *out, size_t size);

#endif
