/*
 * Copyright (C) Mobispot
 *
 * A minimal TAP producer for the unit tests of the nginx-independent core:
 * each test binary prints "ok N - name" / "not ok N - name" lines and a
 * plan, so `prove` runs the binaries and prints its usual closing lines.
 */

#ifndef MOBISPOT_TAP_H
#define MOBISPOT_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_count;
static int tap_failed;

#define TAP_OK(cond, ...)                                                \
    do {                                                                 \
        tap_count++;                                                     \
        if (cond) {                                                      \
            printf("ok %d - ", tap_count);                               \
        } else {                                                         \
            tap_failed++;                                                \
            printf("not ok %d - ", tap_count);                           \
        }                                                                \
        printf(__VA_ARGS__);                                             \
        printf("\n");                                                    \
        if (!(cond)) {                                                   \
            printf("#   failed at %s line %d: %s\n", __FILE__, __LINE__, \
                   #cond);                                               \
        }                                                                \
    } while (0)

#define TAP_IS_INT(got, want, ...)                                         \
    do {                                                                   \
        long long tap_g_ = (long long) (got), tap_w_ = (long long) (want); \
        TAP_OK(tap_g_ == tap_w_, __VA_ARGS__);                             \
        if (tap_g_ != tap_w_) {                                            \
            printf("#   got %lld, expected %lld\n", tap_g_, tap_w_);       \
        }                                                                  \
    } while (0)

#define TAP_IS_STR(got, want, ...)                                             \
    do {                                                                       \
        const char *tap_g_ = (got), *tap_w_ = (want);                          \
        int         tap_same_ = tap_g_ != NULL && strcmp(tap_g_, tap_w_) == 0; \
        TAP_OK(tap_same_, __VA_ARGS__);                                        \
        if (!tap_same_) {                                                      \
            printf("#   got \"%s\", expected \"%s\"\n",                        \
                   tap_g_ ? tap_g_ : "(null)", tap_w_);                        \
        }                                                                      \
    } while (0)

static int
tap_done(void)
{
    printf("1..%d\n", tap_count);
    return tap_failed ? 1 : 0;
}

#endif
