/* Base64 (apr_base64), SHA-256 and HMAC-SHA1 (OpenSSL). */
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

/* Standard base64 (padded) of HMAC-SHA1(key, msg): how Mandrill and
 * Twilio sign their webhooks. NULL should OpenSSL fail. */
const char *notify_hmac_sha1_base64(apr_pool_t *p, const char *key,
                                    apr_size_t key_len, const char *msg,
                                    apr_size_t len);

/* 1 when a[0..alen) equals b[0..blen), taking the same time wherever they
 * differ (for signatures). */
int notify_secure_equal(const char *a, apr_size_t alen, const char *b,
                        apr_size_t blen);

#endif
