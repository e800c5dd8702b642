
/*
 * Copyright (C) Mobispot
 *
 * The rule of the redirect URIs that a client registers (mobispot_uri.c):
 * absolute URIs, compared byte for byte when they are used, so that no
 * open redirect can hide in a normalization.  Linked by the module
 * (PUT admin/clients/{id}) and by lua-free-tests/test_uri.c; the rules are
 * in docs/data-model.md, "Clients".
 */


#ifndef _MOBISPOT_URI_H_INCLUDED_
#define _MOBISPOT_URI_H_INCLUDED_


#include <stddef.h>


#define MOBISPOT_URI_MAX           2048

/* a private-use scheme (RFC 8252 7.1) is taken: the URI of a public app */
#define MOBISPOT_URI_PRIVATE_USE   1


const char *mobispot_redirect_uri_check(const char *s, size_t len,
    unsigned flags);


#endif /* _MOBISPOT_URI_H_INCLUDED_ */
