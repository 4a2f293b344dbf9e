/* Base64 and SHA-256 (notify_crypto.h): apr_base64 and OpenSSL. */
#include <limits.h>

#include <apr_base64.h>
#include <apr_encode.h>

#include <openssl/evp.h>

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
