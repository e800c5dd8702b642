
/*
 * Copyright (C) Mobispot
 *
 * Passwords and client secrets, without nginx (mobispot_secret.c): the
 * rule of what is taken, the yescrypt hash that is stored, its check, and
 * the dummy hash that an unknown account is checked against.  Linked by
 * the module (where hashing and checking run in a thread pool, never on
 * the event loop) and by lua-free-tests/test_secret.c.  The rules are in
 * docs/security.md.
 */


#ifndef _MOBISPOT_SECRET_H_INCLUDED_
#define _MOBISPOT_SECRET_H_INCLUDED_


#include <stddef.h>


/* an account's password, a confidential client's secret: in bytes */
#define MOBISPOT_PASSWORD_MIN        12
#define MOBISPOT_PASSWORD_MAX        256
#define MOBISPOT_CLIENT_SECRET_MIN   32
#define MOBISPOT_CLIENT_SECRET_MAX   256

/* room for a hash as crypt_rn() writes it (libcrypt's CRYPT_OUTPUT_SIZE) */
#define MOBISPOT_SECRET_HASH_SIZE    384

/* the prefix of every hash the module writes and accepts: yescrypt */
#define MOBISPOT_SECRET_PREFIX       "$y$"


extern const char  mobispot_secret_dummy[];


int mobispot_secret_valid(const char *s, size_t len, size_t min, size_t max);
int mobispot_secret_hash(const char *s, size_t len, char *out, size_t size);
int mobispot_secret_verify(const char *s, size_t len, const char *hash);
int mobispot_secret_is_hash(const char *hash, size_t len);


#endif /* _MOBISPOT_SECRET_H_INCLUDED_ */
