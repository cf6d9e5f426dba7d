/* ocr.h — text extraction through tesseract's C API (ocr.c). */
#ifndef FLOWGATE_OCR_H
#define FLOWGATE_OCR_H
#include "flowgate/image.h"

/* One tesseract engine; not thread-safe, so one per worker, kept warm. */
typedef struct fg_ocr fg_ocr;
fg_ocr *fg_ocr_new(const char *lang, fg_err *err);   /* lang "eng" */
/* Heap UTF-8 text; images wider or taller than max_side are downscaled
 * first (0 = never). */
int fg_ocr_read(fg_ocr *ocr, const fg_image *img, int max_side, char **text,
                fg_err *err);
void fg_ocr_free(fg_ocr *ocr);

#endif
