/* cmd_images.c — `flowgate images`: makes sure the recognizer's test images
 * exist, one PNG per (size, variant), generating only those that are missing
 * or out of their ±3 % size band. Prints one line per image. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "flowgate/config.h"
#include "flowgate/image.h"
#include "flowgate/imagegen.h"

#define MAX_SIZES 32
#define MIN_MB 0.05
#define MAX_MB 64.0

static void usage(FILE *out)
{
    char variants[96];
    fprintf(out,
            "usage: flowgate images [--dir DIR] [--sizes 0.1,0.5,1,2,5,10]\n"
            "                       [--variants %s]\n"
            "  --dir DIR        where the PNGs go (default: <data>/images)\n"
            "  --sizes LIST     target sizes in MB (1 MB = 1048576 bytes), %g..%g\n"
            "  --variants LIST  which variants (default: all)\n",
            fg_variant_list(",", variants, sizeof variants), MIN_MB, MAX_MB);
}

static int variant_item(const char *what, const char *item, int i, void *ctx, fg_err *err)
{
    (void)i;
    int *chosen = ctx;
    fg_variant v;
    char variants[96];
    if (fg_variant_parse(item, &v) != 0)
        return fg_err_set(err, "%s: unknown variant '%s' (%s)", what, item,
                          fg_variant_list(", ", variants, sizeof variants));
    chosen[v] = 1;
    return 0;
}

/* The value of "--opt VALUE" or "--opt=VALUE"; NULL if arg is another option. */
static const char *option_value(const char *opt, int argc, char **argv, int *i)
{
    size_t n = strlen(opt);
    if (strncmp(argv[*i], opt, n)) return NULL;
    if (argv[*i][n] == '=') return argv[*i] + n + 1;
    if (argv[*i][n]) return NULL;
    if (*i + 1 >= argc) return "";
    return argv[++*i];
}

int cmd_images(int argc, char **argv)
{
    static const double default_sizes[] = {0.1, 0.5, 1, 2, 5, 10};
    double sizes[MAX_SIZES];
    int nsizes = (int)(sizeof default_sizes / sizeof default_sizes[0]);
    memcpy(sizes, default_sizes, sizeof default_sizes);
    int chosen[FG_VARIANT_COUNT];
    for (int v = 0; v < FG_VARIANT_COUNT; v++) chosen[v] = 1;
    char default_dir[4096];
    snprintf(default_dir, sizeof default_dir, "%s/images", fg_data_dir());
    const char *dir = default_dir;
    fg_err err = {{0}};

    for (int i = 1; i < argc; i++) {
        const char *value;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if ((value = option_value("--dir", argc, argv, &i))) {
            if (!*value) {
                fprintf(stderr, "flowgate images: --dir needs a directory\n");
                return 2;
            }
            dir = value;
        } else if ((value = option_value("--sizes", argc, argv, &i))) {
            if ((nsizes = fg_parse_double_list("--sizes (MB)", value, MIN_MB, MAX_MB, sizes,
                                               MAX_SIZES, &err)) < 0) {
                fprintf(stderr, "flowgate images: %s\n", err.msg);
                return 2;
            }
        } else if ((value = option_value("--variants", argc, argv, &i))) {
            memset(chosen, 0, sizeof chosen);
            if (fg_parse_list("--variants", value, FG_VARIANT_COUNT, variant_item, chosen, &err) < 0) {
                fprintf(stderr, "flowgate images: %s\n", err.msg);
                return 2;
            }
        } else {
            fprintf(stderr, "flowgate images: unknown option '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }

    for (int s = 0; s < nsizes; s++) {
        for (int v = 0; v < FG_VARIANT_COUNT; v++) {
            if (!chosen[v]) continue;
            char path[4096];
            int created, w, h;
            fg_buf png;
            if (fg_imagegen_ensure(dir, sizes[s], (fg_variant)v, path, sizeof path, &created, &err) ||
                fg_read_file(path, 0, &png, &err)) {
                fprintf(stderr, "flowgate images: %s\n", err.msg);
                return 2;
            }
            int probed = fg_png_probe(png.data, png.len, &w, &h, &err);
            size_t bytes = png.len;
            fg_buf_free(&png);
            if (probed) {
                fprintf(stderr, "flowgate images: %s: %s\n", path, err.msg);
                return 2;
            }
            printf("%s  %zu bytes  %dx%d  %s\n", path, bytes, w, h, created ? "created" : "kept");
            fflush(stdout);
        }
    }
    return 0;
}
