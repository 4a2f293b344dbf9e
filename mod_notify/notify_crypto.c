/* Base64, SHA-256 and HMAC-SHA1 (notify_crypto.h): apr_base64 and
 * OpenSSL. */
#include <limits.h>

#include <apr_base64.h>
#include <apr_encode.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "notify_chars.h"
#include "notify_crypto.h"

/* apr_base64 counts in int; refusing longer input keeps it exact. */
#define BASE64_MAX ((apr_size_t)INT_MAX / 4 * 3)

/* Copies the alphabet bytes of in, NUL-terminated, for apr_base64 (which
 * stops at the first byte outside it) and counts the padding. NULL when
 * in holds another byte, or data after '='. */
static char *base64_strip(apr_pool_t *p, const char *in, apr_size_t len,
                          apr_size_t *n, apr_size_t *pad)
{
    char *buf = apr_palloc(p, len + 1);
    apr_size_t i;

    *n = *pad = 0;
    for (i = 0; i < len; i++) {
        if (in_set(in[i], " \t\n\v\f\r")) {
            continue;
        }
        if (in[i] == '=') {
            (*pad)++;
            continue;
        }
        if (*pad > 0 || (!is_ascii_alnum(in[i]) && !in_set(in[i], "+/"))) {
            return NULL;
        }
        buf[(*n)++] = in[i];
    }
    buf[*n] = '\0';
    return buf;
}

/* One character left over encodes no byte; padding, when present, must
 * complete the last quantum exactly, which takes one or two '='. */
static int base64_shape_valid(apr_size_t n, apr_size_t pad)
{
    return n <= BASE64_MAX && n % 4 != 1 && pad <= 2 &&
           (pad == 0 || (n + pad) % 4 == 0);
}

int notify_base64_decode(apr_pool_t *p, const char *in, apr_size_t len,
                         char **out, apr_size_t *outlen)
{
    apr_size_t n, pad;
    char *clean = base64_strip(p, in, len, &n, &pad);
    int got;

    if (clean == NULL || !base64_shape_valid(n, pad)) {
        return 0;
    }
    /* apr_base64_decode_len counts one byte for our NUL. */
    *out = apr_palloc(p, apr_base64_decode_len(clean));
    got = apr_base64_decode_binary((unsigned char *)*out, clean);
    (*out)[got] = '\0';
    *outlen = got;
    return 1;
}

/* EVP_sha256() makes OpenSSL 3 look the algorithm up in its provider
 * store on every use; fetched once, the lookup is gone from each request. */
static EVP_MD *sha256_md;

void notify_sha256_init(void)
{
    if (!sha256_md) {
        sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    }
}

void notify_sha256_hex(const char *s, apr_size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len;
    const EVP_MD *type = sha256_md ? sha256_md : EVP_sha256();

    out[0] = '\0';
    if (EVP_Digest(s, len, md, &md_len, type, NULL) == 1) {
        apr_encode_base16_binary(out, md, md_len, APR_ENCODE_LOWER, NULL);
    }
}

const char *notify_hmac_sha1_base64(apr_pool_t *p, const char *key,
                                    apr_size_t key_len, const char *msg,
                                    apr_size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    char *out;

    if (key_len > INT_MAX ||
        !HMAC(EVP_sha1(), key, (int)key_len, (const unsigned char *)msg, len,
              md, &md_len)) {
        return NULL;
    }
    out = apr_palloc(p, apr_base64_encode_len((int)md_len));
    apr_base64_encode_binary(out, md, (int)md_len);
    return out;
}

int notify_secure_equal(const char *a, apr_size_t alen, const char *b,
                        apr_size_t blen)
{
    /* The lengths of signatures are no secret. */
    return alen == blen && CRYPTO_memcmp(a, b, alen) == 0;
}
