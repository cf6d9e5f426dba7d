/* functions.h — the seven recognizer functions and the invocation path
 * shared by the HTTP handler and the fuzzer: JSON body → inputs → worker
 * slot → compute → JSON reply. */
#ifndef FLOWGATE_SERVER_FUNCTIONS_H
#define FLOWGATE_SERVER_FUNCTIONS_H
#include "flowgate/common.h"
#include "node.h"
#include "reply.h"

int fg_function_count(void);
const fg_function *fg_function_at(int i);
/* Accepts "recognizer__adult" or "adult"; NULL when unknown. */
const fg_function *fg_function_find(const char *name);
const char *fg_function_name(const fg_function *fn);   /* "recognizer__adult" */
int fg_function_index(const fg_function *fn);

/* Runs one invocation on node. Consumes body (freed once parsed). recv_ms
 * is the unix time the request arrived. Always fills *out with exactly one
 * reply: 200 success or a 4xx/5xx error body. */
void fg_invoke(fg_node *node, const fg_function *fn, fg_buf *body, double recv_ms,
               fg_reply *out);

/* fg_invoke with the wrong_type fault (faults.h): a successful reply
 * carries a value of the wrong type in its first output field (the first
 * after status, function, node and request_id): the number 42, or the
 * string "42" where the value is a number. Returns 1 when it did. */
int fg_invoke_wrong_type(fg_node *node, const fg_function *fn, fg_buf *body, double recv_ms,
                         fg_reply *out);

#endif
