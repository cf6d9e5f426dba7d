/* tls_files.h — the TLS files an endpoints file names, read as libcurl will
 * read them (PEM) when the file loads, so a garbage CA is one error at
 * once instead of a handshake retried until the health wait gives up. */
#ifndef FLOWGATE_TLS_FILES_H
#define FLOWGATE_TLS_FILES_H
#include <stddef.h>

typedef enum fg_tls_file_kind {
    FG_TLS_CA,      /* one or more certificates */
    FG_TLS_CERT,    /* the client certificate */
    FG_TLS_KEY      /* its private key, unencrypted */
} fg_tls_file_kind;

/* 0 when path holds what kind needs; -1 with why (one line, no path). */
int fg_tls_file_check(const char *path, fg_tls_file_kind kind, char *why, size_t why_size);

#endif
