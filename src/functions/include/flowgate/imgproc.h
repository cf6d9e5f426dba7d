/* imgproc.h — the pixel work of the image functions: area-averaging
 * downscale, the colour rules of the adult and violence detectors, and the
 * mosaic. Pure C over fg_image. */
#ifndef FLOWGATE_IMGPROC_H
#define FLOWGATE_IMGPROC_H
#include "flowgate/image.h"

/* Area-averaging (box) resize to exactly w×h; dst is allocated. */
int fg_image_resize(const fg_image *src, int w, int h, fg_image *dst);

/* Fits inside max_w×max_h keeping the aspect ratio; never upscales
 * (then dst is a copy). */
int fg_image_fit(const fg_image *src, int max_w, int max_h, fg_image *dst);

/* Fraction of pixels matching the rule, 0..1. */
double fg_skin_ratio(const fg_image *img);
double fg_blood_ratio(const fg_image *img);

typedef struct fg_detection {
    int flagged;        /* decision after the threshold */
    double confidence;  /* 0..1 */
    double ratio;       /* raw pixel ratio behind it */
} fg_detection;

/* Both downscale to 224×224 first, as the reference classifiers did. */
fg_detection fg_detect_adult(const fg_image *img);     /* flagged: confidence > 0.5 */
fg_detection fg_detect_violence(const fg_image *img);  /* flagged: confidence >= 0.95 */

/* In place: each block×block tile takes its mean colour. */
void fg_pixelate(fg_image *img, int block);

#endif
