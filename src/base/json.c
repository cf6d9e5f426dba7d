/* json.c — the strict reader of the project's JSON files (json.h). */
#include "flowgate/json.h"

#include <math.h>

#include <string.h>

cJSON *fg_json_load_object(const char *path, size_t max_bytes, fg_err *err)
{
    fg_buf text;
    if (fg_read_file(path, max_bytes, &text, err) != 0) return NULL;
    cJSON *root = cJSON_ParseWithLength((const char *)text.data, text.len);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        long off = at && at >= (const char *)text.data && at <= (const char *)text.data + text.len
                       ? (long)(at - (const char *)text.data) : -1;
        fg_buf_free(&text);
        fg_err_set(err, "%s: invalid JSON near byte %ld", path, off);
        return NULL;
    }
    fg_buf_free(&text);
    const char *dup = cJSON_IsObject(root) ? fg_json_duplicate_key(root) : NULL;
    if (!cJSON_IsObject(root) || dup) {
        if (dup) fg_err_set(err, "%s: duplicate key '%s'", path, dup);
        else fg_err_set(err, "%s: expected a JSON object", path);
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

const char *fg_json_duplicate_key(const cJSON *obj)
{
    for (const cJSON *a = obj ? obj->child : NULL; a; a = a->next) {
        if (cJSON_IsObject(obj) && a->string)
            for (const cJSON *b = obj->child; b != a; b = b->next)
                if (b->string && !strcmp(a->string, b->string)) return a->string;
        if (cJSON_IsObject(a) || cJSON_IsArray(a)) {
            const char *inner = fg_json_duplicate_key(a);
            if (inner) return inner;
        }
    }
    return NULL;
}

double fg_json_number(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

const char *fg_json_string(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}
