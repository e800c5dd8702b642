
/*
 * Copyright (C) Mobispot
 *
 * Passwords and client secrets: hashed by the system's libcrypt with
 * yescrypt at libcrypt's default cost (crypt_gensalt_rn("$y$", 0, NULL)
 * draws the salt from the kernel), checked by hashing the candidate with
 * the stored setting (crypt_rn() reads the salt and the cost from the
 * hash) and comparing the two hashes in constant time.  Each call costs
 * some 50 ms of CPU and 16 MB of memory, by design: the module calls them
 * in a thread pool only (http/ngx_http_mobispot_thread.c).
 *
 * Nothing here logs, and the working memory that held anything derived
 * from the secret (libcrypt's struct crypt_data) is wiped before it is
 * freed.
 */


#include <crypt.h>
#include <stdlib.h>
#include <string.h>

#include "core/mobispot_core.h"
#include "core/mobispot_secret.h"


static struct crypt_data *mobispot_secret_crypt(const char *s,
    const char *setting);
static void mobispot_secret_free(struct crypt_data *data);


/*
 * The hash of a random secret that nobody knows (48 bytes from the kernel,
 * thrown away), with the setting that crypt_gensalt_rn("$y$", 0) gives
 * today ("$y$j9T$": yescrypt, libcrypt's default cost).  The sign-in checks
 * a password against it when the account is unknown, so that an unknown
 * account costs what a wrong password costs; lua-free-tests/test_secret.c
 * fails when libcrypt's default setting no longer matches it.
 */

const char  mobispot_secret_dummy[] =
    "$y$j9T$IeTAUkAn0LEJ55tMwOwZs1$iAkhZKoTgCbPSOqdF07P9SP657gjoxxU1t7oaP0lGaA";


/*
 * What is taken as a password or a secret: min to max bytes (not
 * characters: the cost of a hash follows the bytes), well-formed UTF-8
 * (RFC 3629), no NUL (libcrypt takes a C string).  s[len] need not be
 * NUL.
 */

int
mobispot_secret_valid(const char *s, size_t len, size_t min, size_t max)
{
    size_t                n;
    const unsigned char  *p, *end;

    if (s == NULL || len < min || len > max) {
        return 0;
    }

    p = (const unsigned char *) s;
    end = p + len;

    while (p < end) {
        if (*p == '\0') {
            return 0;
        }

        n = mobispot_utf8_char(p, (size_t) (end - p));
        if (n == 0) {
            return 0;
        }

        p += n;
    }

    return 1;
}


/*
 * The yescrypt hash of s (len bytes, s[len] == '\0') into out, NUL
 * terminated: MOBISPOT_OK, or MOBISPOT_ERROR (no salt from the kernel,
 * out too small, s not a valid secret of any length).
 */

int
mobispot_secret_hash(const char *s, size_t len, char *out, size_t size)
{
    int                 rc;
    size_t              n;
    char                setting[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data  *data;

    if (s == NULL || s[len] != '\0' || memchr(s, '\0', len) != NULL
        || crypt_gensalt_rn(MOBISPOT_SECRET_PREFIX, 0, NULL, 0, setting,
                            sizeof(setting))
           == NULL)
    {
        return MOBISPOT_ERROR;
    }

    data = mobispot_secret_crypt(s, setting);
    if (data == NULL) {
        return MOBISPOT_ERROR;
    }

    n = strlen(data->output);
    rc = MOBISPOT_ERROR;

    if (n < size && mobispot_secret_is_hash(data->output, n)) {
        memcpy(out, data->output, n + 1);
        rc = MOBISPOT_OK;
    }

    mobispot_secret_free(data);

    return rc;
}


/*
 * Whether s (len bytes, s[len] == '\0') is the secret of hash: crypt_rn()
 * with the hash as its setting, then the two hashes compared in constant
 * time (the time depends on the stored hash's length only).  Only a
 * yescrypt hash is taken: any other stored value matches nothing.
 */

int
mobispot_secret_verify(const char *s, size_t len, const char *hash)
{
    size_t                n, m, i;
    unsigned char         diff;
    struct crypt_data    *data;
    const unsigned char  *h, *o;

    if (s == NULL || hash == NULL || s[len] != '\0'
        || memchr(s, '\0', len) != NULL)
    {
        return 0;
    }

    n = strlen(hash);

    if (!mobispot_secret_is_hash(hash, n)) {
        return 0;
    }

    data = mobispot_secret_crypt(s, hash);
    if (data == NULL) {
        return 0;
    }

    h = (const unsigned char *) hash;
    o = (const unsigned char *) data->output;
    m = strlen(data->output);

    diff = (n != m);

    for (i = 0; i < n; i++) {
        diff |= h[i] ^ (i < m ? o[i] : 0);
    }

    mobispot_secret_free(data);

    return diff == 0;
}


/*
 * Whether a stored value looks like a hash this module wrote: "$y$", then
 * only the characters of crypt's alphabet and '$', and not too long.
 */

int
mobispot_secret_is_hash(const char *hash, size_t len)
{
    size_t  i;
    char    c;

    if (len <= sizeof(MOBISPOT_SECRET_PREFIX) - 1
        || len >= MOBISPOT_SECRET_HASH_SIZE
        || strncmp(hash, MOBISPOT_SECRET_PREFIX,
                   sizeof(MOBISPOT_SECRET_PREFIX) - 1)
           != 0)
    {
        return 0;
    }

    for (i = 0; i < len; i++) {
        c = hash[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '.' || c == '/'
              || c == '$'))
        {
            return 0;
        }
    }

    return 1;
}


/* crypt_rn() into fresh working memory; NULL when it fails */

static struct crypt_data *
mobispot_secret_crypt(const char *s, const char *setting)
{
    struct crypt_data  *data;

    data = calloc(1, sizeof(struct crypt_data));
    if (data == NULL) {
        return NULL;
    }

    if (crypt_rn(s, setting, data, sizeof(struct crypt_data)) == NULL) {
        mobispot_secret_free(data);
        return NULL;
    }

    return data;
}


static void
mobispot_secret_free(struct crypt_data *data)
{
    explicit_bzero(data, sizeof(struct crypt_data));
    free(data);
}
