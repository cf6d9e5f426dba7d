/* json.h — reading the project's JSON files (config, categories, nodes
 * profiles, endpoints) the one strict way: whole file, an object, no key
 * given twice (cJSON keeps both and lookups see only the first, so a
 * repeated key would be ignored silently). */
#ifndef FLOWGATE_JSON_H
#define FLOWGATE_JSON_H
#include <stddef.h>
#include <cjson/cJSON.h>
#include "flowgate/common.h"

/* The parsed object (caller frees), or NULL with one line naming the file:
 * cannot read, "invalid JSON near byte N", "expected a JSON object",
 * "duplicate key 'k'". */
cJSON *fg_json_load_object(const char *path, size_t max_bytes, fg_err *err);

/* The first key that appears twice in a JSON object (or in an object
 * nested in it), NULL when none. */
const char *fg_json_duplicate_key(const cJSON *obj);

/* A member's number (NAN when absent or not a number) and string (NULL). */
double fg_json_number(const cJSON *obj, const char *key);
const char *fg_json_string(const cJSON *obj, const char *key);

#endif
