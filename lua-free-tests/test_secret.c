/*
 * Copyright (C) Mobispot
 *
 * Passwords and client secrets: the rule of what is taken, the yescrypt
 * hash, its constant-time check, and the dummy hash of unknown accounts.
 */

#include <crypt.h>

#include "tap.h"
#include "core/mobispot_core.h"
#include "core/mobispot_secret.h"

static char hash[MOBISPOT_SECRET_HASH_SIZE];
static char other[MOBISPOT_SECRET_HASH_SIZE];

static int
valid(const char *s)
{
    return mobispot_secret_valid(s, strlen(s), MOBISPOT_PASSWORD_MIN,
                                 MOBISPOT_PASSWORD_MAX);
}

/* the setting of a hash: up to and with its third '$' ("$y$j9T$") */
static size_t
params_len(const char *h)
{
    size_t i, n;

    for (i = 0, n = 0; h[i]; i++) {
        if (h[i] == '$' && ++n == 3) {
            return i + 1;
        }
    }

    return 0;
}

int
main(void)
{
    char        long_pw[MOBISPOT_PASSWORD_MAX + 2];
    char        setting[CRYPT_GENSALT_OUTPUT_SIZE];
    const char *pw = "correct horse battery staple";
    size_t      n;

    /* the rule */
    TAP_OK(valid("twelve bytes"), "12 bytes are taken");
    TAP_OK(!valid("eleven byte"), "11 bytes are not");
    memset(long_pw, 'a', sizeof(long_pw));
    long_pw[MOBISPOT_PASSWORD_MAX] = '\0';
    TAP_OK(valid(long_pw), "256 bytes are taken");
    long_pw[MOBISPOT_PASSWORD_MAX] = 'a';
    long_pw[MOBISPOT_PASSWORD_MAX + 1] = '\0';
    TAP_OK(!valid(long_pw), "257 bytes are not");
    TAP_OK(valid("\xc3\xa9t\xc3\xa9 \xc3\xa0 Li\xc3\xa8ge"),
           "UTF-8 is taken, counted in bytes");
    TAP_OK(!valid("caf\xc3 au lait!!"), "a cut UTF-8 sequence is not");
    TAP_OK(!valid("\xed\xa0\x80 surrogate!!"), "an encoded surrogate is not");
    TAP_OK(!valid("\xc0\xafoverlong!!!"), "an overlong sequence is not");
    TAP_OK(!mobispot_secret_valid("twelve\0bytes", 12, 12, 256),
           "a NUL is not");
    TAP_OK(!mobispot_secret_valid(NULL, 0, 0, 256), "NULL is not");
    TAP_OK(mobispot_secret_valid("0123456789abcdef0123456789abcdef", 32,
                                 MOBISPOT_CLIENT_SECRET_MIN,
                                 MOBISPOT_CLIENT_SECRET_MAX),
           "a client secret of 32 bytes is taken");
    TAP_OK(!mobispot_secret_valid("0123456789abcdef0123456789abcde", 31,
                                  MOBISPOT_CLIENT_SECRET_MIN,
                                  MOBISPOT_CLIENT_SECRET_MAX),
           "one of 31 bytes is not");

    /* the hash */
    TAP_IS_INT(mobispot_secret_hash(pw, strlen(pw), hash, sizeof(hash)),
               MOBISPOT_OK, "a password is hashed");
    TAP_OK(strncmp(hash, "$y$", 3) == 0, "with yescrypt: %s", hash);
    TAP_OK(strstr(hash, pw) == NULL, "the hash does not hold the password");
    TAP_OK(mobispot_secret_is_hash(hash, strlen(hash)), "it looks a hash");
    TAP_IS_INT(mobispot_secret_hash(pw, strlen(pw), other, sizeof(other)),
               MOBISPOT_OK, "hashed again");
    TAP_OK(strcmp(hash, other) != 0, "with another salt: another hash");
    TAP_IS_INT(mobispot_secret_hash(pw, strlen(pw), other, 20), MOBISPOT_ERROR,
               "no room for the hash: an error");
    TAP_IS_INT(mobispot_secret_hash("twelve\0bytes", 12, other, sizeof(other)),
               MOBISPOT_ERROR, "a NUL inside: an error");

    /* the check */
    TAP_OK(mobispot_secret_verify(pw, strlen(pw), hash),
           "the password matches its hash");
    TAP_OK(mobispot_secret_verify(pw, strlen(pw), other),
           "and its other hash (the failed calls left it as it was)");
    TAP_OK(!mobispot_secret_verify("correct horse battery stapl", 27, hash),
           "a shorter password does not");
    TAP_OK(!mobispot_secret_verify("Correct horse battery staple", 28, hash),
           "another password does not");
    TAP_OK(!mobispot_secret_verify("correct\0horse battery staple", 28, hash),
           "the password with a NUL inside does not");
    n = strlen(hash);
    memcpy(other, hash, n + 1);
    other[n - 1] = other[n - 1] == 'A' ? 'B' : 'A';
    TAP_OK(!mobispot_secret_verify(pw, strlen(pw), other),
           "a hash with its last character changed does not");
    other[n - 1] = '\0';
    TAP_OK(!mobispot_secret_verify(pw, strlen(pw), other),
           "a hash cut short does not");
    TAP_OK(!mobispot_secret_verify(pw, strlen(pw), ""), "an empty hash");
    TAP_OK(!mobispot_secret_verify(pw, strlen(pw), NULL), "no hash");
    TAP_OK(!mobispot_secret_verify(pw, strlen(pw), "*0"),
           "libcrypt's failure token");
    /* an MD5-crypt of the same password (made by libcrypt): refused */
    TAP_OK(crypt_rn(pw, "$1$abcdefgh$", &(struct crypt_data){0},
                    sizeof(struct crypt_data))
               != NULL,
           "libcrypt makes an MD5-crypt hash");
    {
        struct crypt_data d = {0};
        const char       *md5 = crypt_rn(pw, "$1$abcdefgh$", &d, sizeof(d));

        TAP_OK(md5 && !mobispot_secret_verify(pw, strlen(pw), md5),
               "a hash of another algorithm matches nothing");
    }
    TAP_OK(!mobispot_secret_is_hash("$y$j9T$ab cd", 12),
           "a blank is not of a hash");
    TAP_OK(!mobispot_secret_is_hash("$y$", 3), "nor is the prefix alone");

    /* the dummy of unknown accounts */
    TAP_OK(mobispot_secret_is_hash(mobispot_secret_dummy,
                                   strlen(mobispot_secret_dummy)),
           "the dummy is a yescrypt hash");
    TAP_OK(crypt_gensalt_rn("$y$", 0, NULL, 0, setting, sizeof(setting))
               != NULL,
           "libcrypt gives a setting");
    n = params_len(setting);
    TAP_OK(n > 3 && n == params_len(mobispot_secret_dummy)
               && strncmp(setting, mobispot_secret_dummy, n) == 0,
           "the dummy has libcrypt's default setting (%.*s): it costs "
           "what a real hash costs",
           (int) n, setting);
    TAP_OK(!mobispot_secret_verify(pw, strlen(pw), mobispot_secret_dummy),
           "the dummy matches no password tried");
    TAP_OK(!mobispot_secret_verify("", 0, mobispot_secret_dummy),
           "nor the empty one");

    return tap_done();
}
