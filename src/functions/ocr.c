/* ocr.c — text extraction through tesseract's C API.
 *
 * One fg_ocr owns one initialised TessBaseAPI: loading the language model
 * is the expensive part (hundreds of ms), so an engine is built once per
 * worker and reused for every image; only SetImage/Recognize run per call.
 *
 * Model lookup: with TESSDATA_PREFIX set, tesseract reads it itself. Else
 * the usual Debian/Ubuntu and /usr/local tessdata directories are probed
 * for "<lang>.traineddata", and if none holds it tesseract falls back to
 * its compiled-in default, so a failure message names what was tried.
 *
 * Page segmentation: PSM_SPARSE_TEXT ("as much text as possible, in no
 * particular order") suits a banner over a noisy field: it skips the
 * column and block analysis PSM_AUTO runs over the noise. On the generated
 * images (0.1 to 10 MB) both read every banner word; sparse was the same
 * speed on small images and ~15 % faster on the largest ones.
 *
 * Tesseract parallelises its LSTM with OpenMP, whose worker threads spin
 * while they wait. Workers already run one OCR each in parallel, so those
 * threads only compete with them for cores: on the 2-core test host a 1 MB
 * image read in ~55 ms with OpenMP off and 110-300 ms with it on, alone or
 * two processes at once. So every thread that reads turns OpenMP's parallel
 * regions off for itself before its first read (max active levels 0, found
 * with dlsym since libgomp comes in through libtesseract), unless the user
 * set OMP_THREAD_LIMIT, which then rules. Per thread, because libgomp keeps
 * that setting per thread: set once for the process, it held only for the
 * first worker, and a server's OCR time crept from ~40 ms to ~190 ms (0.1 MB
 * image) as more workers started spinning thread teams.
 *
 * Large images are first downscaled (area averaging) so the longest side is
 * at most max_side: tesseract's time grows with the pixel count while a
 * banner stays legible well below full size. */
#include "flowgate/ocr.h"
#include "flowgate/imgproc.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tesseract/capi.h>

struct fg_ocr {
    TessBaseAPI *api;
};

/* The tessdata directory holding <lang>.traineddata, or NULL to let
 * tesseract decide (TESSDATA_PREFIX or its compiled-in default). */
static const char *find_tessdata(const char *lang)
{
    static const char *const dirs[] = {
        "/usr/share/tesseract-ocr/5/tessdata",
        "/usr/share/tesseract-ocr/4.00/tessdata",
        "/usr/share/tessdata",
        "/usr/local/share/tessdata",
        "/usr/local/share/tesseract-ocr/tessdata",
    };
    const char *env = getenv("TESSDATA_PREFIX");
    if (env && *env) return NULL;
    /* For "eng+spa" the first model stands for all. */
    size_t n = strcspn(lang, "+");
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%.*s.traineddata", dirs[i], (int)n, lang);
        if (access(path, R_OK) == 0) return dirs[i];
    }
    return NULL;
}

static void (*set_max_active_levels)(int);

static void openmp_lookup(void)
{
    const char *limit = getenv("OMP_THREAD_LIMIT");
    if (limit && *limit) return;
    set_max_active_levels = (void (*)(int))dlsym(RTLD_DEFAULT, "omp_set_max_active_levels");
}

/* For the calling thread, once. */
static void openmp_off(void)
{
    static __thread int done;
    static pthread_once_t lookup_once = PTHREAD_ONCE_INIT;
    if (done) return;
    pthread_once(&lookup_once, openmp_lookup);
    if (set_max_active_levels) set_max_active_levels(0);
    done = 1;
}

static int valid_lang(const char *lang)
{
    if (!lang || !*lang || strlen(lang) > 64) return 0;
    for (const char *p = lang; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '_' || *p == '+'))
            return 0;
    return lang[0] != '+' && lang[strlen(lang) - 1] != '+' && !strstr(lang, "++");
}

fg_ocr *fg_ocr_new(const char *lang, fg_err *err)
{
    if (!valid_lang(lang)) {
        fg_err_set(err, "ocr: bad language name '%s'", lang ? lang : "(null)");
        return NULL;
    }
    openmp_off();
    fg_ocr *ocr = calloc(1, sizeof *ocr);
    if (!ocr || !(ocr->api = TessBaseAPICreate())) {
        free(ocr);
        fg_err_set(err, "ocr: out of memory");
        return NULL;
    }
    /* Engines are independent once built, but initialisation also writes
     * tesseract's process-wide parameters (debug_file is one): workers that
     * start together take turns here. */
    static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&init_lock);
    const char *dir = find_tessdata(lang);
    int rc = TessBaseAPIInit3(ocr->api, dir, lang);
    if (rc == 0) {
        /* Tesseract prints notes such as "Estimating resolution as 151"
         * through its debug channel; a server has no use for them. */
        TessBaseAPISetVariable(ocr->api, "debug_file", "/dev/null");
        TessBaseAPISetPageSegMode(ocr->api, PSM_SPARSE_TEXT);
    }
    pthread_mutex_unlock(&init_lock);
    if (rc != 0) {
        const char *env = getenv("TESSDATA_PREFIX");
        fg_err_set(err, "ocr: cannot load language '%s' (no %s.traineddata in %s)", lang,
                   lang, dir ? dir : env && *env ? env : "tesseract's default tessdata");
        fg_ocr_free(ocr);
        return NULL;
    }
    return ocr;
}

int fg_ocr_read(fg_ocr *ocr, const fg_image *img, int max_side, char **text,
                fg_err *err)
{
    *text = NULL;
    if (!ocr || !img || !img->rgb || img->w <= 0 || img->h <= 0)
        return fg_err_set(err, "ocr: no image");
    fg_image small = {0};
    const fg_image *src = img;
    if (max_side > 0 && (img->w > max_side || img->h > max_side)) {
        if (fg_image_fit(img, max_side, max_side, &small) != 0)
            return fg_err_set(err, "ocr: cannot downscale %dx%d image to %d px",
                              img->w, img->h, max_side);
        src = &small;
    }
    openmp_off();
    TessBaseAPISetImage(ocr->api, src->rgb, src->w, src->h, 3, src->w * 3);
    /* Screen-rendered text: tell tesseract so instead of letting it guess
     * (and warn) from an image that carries no resolution. */
    TessBaseAPISetSourceResolution(ocr->api, 96);
    char *raw = TessBaseAPIGetUTF8Text(ocr->api);
    int rc = 0;
    if (!raw) {
        rc = fg_err_set(err, "ocr: recognition failed on %dx%d image", src->w, src->h);
    } else {
        /* Trailing newlines and the form feed that ends a page carry no text. */
        size_t n = strlen(raw);
        while (n && (raw[n - 1] == '\n' || raw[n - 1] == '\f' || raw[n - 1] == ' ' ||
                     raw[n - 1] == '\r'))
            n--;
        *text = strndup(raw, n);
        TessDeleteText(raw);
        if (!*text) rc = fg_err_set(err, "ocr: out of memory");
    }
    /* Free the page copy and its results now, not at the next call. */
    TessBaseAPIClear(ocr->api);
    fg_image_free(&small);
    return rc;
}

void fg_ocr_free(fg_ocr *ocr)
{
    if (!ocr) return;
    if (ocr->api) {
        TessBaseAPIEnd(ocr->api);
        TessBaseAPIDelete(ocr->api);
    }
    free(ocr);
}
