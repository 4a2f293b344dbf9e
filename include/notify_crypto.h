/* Base64 (apr_base64) and SHA-256 (OpenSSL). */
#ifndef NOTIFY_CRYPTO_H
#define NOTIFY_CRYPTO_H

#include <apr_pools.h>

/* Decodes standard base64 (padding optional, ASCII whitespace ignored) with
 * apr_base64. Returns 1 and the bytes (NUL-terminated, length in *outlen),
 * or 0 when the input holds any other byte or has an impossible length or
 * padding. Whitespace is space, \t, \n, \v, \f, \r, allowed anywhere (also
 * between '=' signs); unused low bits of the last character are not checked;
 * an input of only whitespace decodes to 0 bytes. */
int notify_base64_decode(apr_pool_t *p, const char *in, apr_size_t len,
                         char **out, apr_size_t *outlen);

/* Lowercase hex SHA-256 of s[0..len) (OpenSSL EVP) into out (65 bytes).
 * Should OpenSSL fail, out is the empty string, which matches no stored
 * hash. */
void notify_sha256_hex(const char *s, apr_size_t len, char out[65]);

/* Fetches the SHA-256 implementation once (call before threads start);
 * without it notify_sha256_hex() still works, only slower. */
void notify_sha256_init(void);

#endif
