/* payload.h — a workflow input held once for a whole run (payload.c). */
#ifndef FLOWGATE_PAYLOAD_H
#define FLOWGATE_PAYLOAD_H
#include <stddef.h>
#include "flowgate/common.h"
#include "flowgate/variant.h"

/* The input image, loaded once and shared by every request: the
 * ready-made upload request body (base64 inside), never copied. The PNG
 * itself is checked (fully decoded) once at load and then dropped, so the
 * body is the only copy held during the run. */
typedef struct fg_payload {
    size_t png_len;        /* bytes of the PNG file */
    char sha256[65];       /* hex SHA-256 of the PNG file's bytes; "" when unknown */
    char *body;            /* {"img_b64":"...","by_ref":true|false} */
    size_t body_len;
    double mb;
    fg_variant variant;
} fg_payload;

/* Errors name the file: unreadable, empty, not a PNG, truncated or
 * corrupt PNG, over the pixel limit. */
int  fg_payload_load(const char *png_path, int inline_data, fg_payload *p, fg_err *err);
void fg_payload_free(fg_payload *p);

#endif
