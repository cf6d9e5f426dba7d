/* imagegen.h — deterministic test images. A light, low-amplitude noise
 * field (its entropy sets the PNG size) under a text banner rendered with
 * cairo in DejaVu Sans, which the extract function reads back. The height
 * is searched so the PNG lands within ±3 % of the target size. */
#ifndef FLOWGATE_IMAGEGEN_H
#define FLOWGATE_IMAGEGEN_H
#include "flowgate/common.h"
#include "flowgate/variant.h"


/* The banner text drawn for a variant (source language, upper case). */
const char *fg_variant_banner(fg_variant v);

int fg_imagegen_png(double target_mb, fg_variant v, uint32_t seed,
                    fg_buf *png, fg_err *err);

/* "<dir>/recognizer_<variant>_<size>mb.png", e.g. recognizer_clean_1.0mb.png. */
void fg_imagegen_path(const char *dir, double target_mb, fg_variant v,
                      char *path, size_t path_size);

/* Creates the file unless a file of the right size band is already there.
 * *created says which happened. */
int fg_imagegen_ensure(const char *dir, double target_mb, fg_variant v,
                       char *path, size_t path_size, int *created, fg_err *err);

#endif
