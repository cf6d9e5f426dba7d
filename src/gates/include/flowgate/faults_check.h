/* faults_check.h — the accounting gate of fault injection (faults_check.c):
 * every fault a server injected must be counted by the driver in the right
 * class on the right function, and nothing else may fail.
 *
 * Per function, from the server's counts (GET /faults, summed over nodes)
 * and the entry's functions.<name>:
 *   error_500 = errors.http, error_status = errors.function,
 *   wrong_type = errors.malformed, hang = errors.timeout (a hang is held
 *   longer than the client's timeout), drip = no error (the answer is
 *   slow, not wrong), errors.client = 0;
 *   reset and down close a connection unanswered: each shows as
 *   errors.connect, or, on a reused connection, libcurl resends the
 *   request once on a fresh one (no option turns that off), which the
 *   server sees as one more invocation. So
 *   server invocations - driver invocations = resets - errors.connect.
 * The run must send every invocation the server saw: warm-up off and an
 * open loop (no drain), so the counts cover the same requests. */
#ifndef FLOWGATE_FAULTS_CHECK_H
#define FLOWGATE_FAULTS_CHECK_H
#include <stddef.h>
#include <cjson/cJSON.h>

/* 0 when entry's counts account for seen ({"invocations", "injected"});
 * -1 with why: the first function and class that do not add up. */
int fg_faults_account(const cJSON *entry, const cJSON *seen, char *why, size_t why_size);

#endif
