/* tls_files.c — PEM files checked with OpenSSL's own readers (tls_files.h),
 * the ones libcurl's OpenSSL backend uses for CURLOPT_CAINFO, SSLCERT and
 * SSLKEY. A key asking for a passphrase is refused: endpoints files have no
 * place for one, so libcurl could not use it either. */
#include "tls_files.h"

#include <stdio.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* A passphrase callback that has none: an encrypted key fails to read. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf; (void)size; (void)rwflag;
    *(int *)u = 1;
    return -1;
}

static int count_certificates(BIO *in)
{
    int n = 0;
    X509 *x;
    while ((x = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL) {
        X509_free(x);
        n++;
    }
    ERR_clear_error();   /* the end of the file reads as an error */
    return n;
}

int fg_tls_file_check(const char *path, fg_tls_file_kind kind, char *why, size_t why_size)
{
    BIO *in = BIO_new_file(path, "r");
    if (!in) {
        ERR_clear_error();
        snprintf(why, why_size, "cannot be opened");
        return -1;
    }
    int rc = 0;
    if (kind == FG_TLS_KEY) {
        int asked = 0;
        EVP_PKEY *key = PEM_read_bio_PrivateKey(in, NULL, no_passphrase, &asked);
        if (!key) {
            snprintf(why, why_size, asked ? "the key is encrypted (a passphrase is not supported)"
                                          : "no PEM private key in it");
            rc = -1;
        }
        EVP_PKEY_free(key);
    } else {
        int n = count_certificates(in);
        if (n == 0) {   /* a client certificate's chain after it is fine */
            snprintf(why, why_size, "no PEM certificate in it");
            rc = -1;
        }
    }
    ERR_clear_error();
    BIO_free(in);
    return rc;
}
