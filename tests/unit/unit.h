/*
 * unit.h - the smallest assertion framework that does the job.
 *
 *   CHECK(cond)                 count a pass, or print file:line and the condition
 *   CHECK_MSG(cond, fmt, ...)   the same, with a printf-style explanation
 *   CHECK_INT(a, b)             a == b for integers, printing both on failure
 *   CHECK_STR(a, b)             strcmp(a, b) == 0 (two NULLs are equal), printing both
 *   return UNIT_REPORT("test_x");  prints "test_x: N passed, N failed" and
 *                               gives main's exit status (1 on any failure)
 *
 * Loops that check thousands of cases (bit flips, truncations) would bury the
 * first failure, so only the first UNIT_MAX_PRINT failures are printed; all
 * are counted.
 */
#ifndef STANCE_UNIT_H
#define STANCE_UNIT_H

#include <stdio.h>
#include <string.h>

#ifndef UNIT_MAX_PRINT
#define UNIT_MAX_PRINT 40
#endif

static long unit_passed, unit_failed;

/* Returns cond, so a test can stop early when a precondition failed. */
#define UNIT_RECORD(cond, ...)                                                                     \
    ((cond) ? (unit_passed++, 1)                                                                   \
            : (unit_failed++,                                                                      \
               unit_failed <= UNIT_MAX_PRINT                                                       \
                   ? (fprintf(stderr, "%s:%d: FAILED: ", __FILE__, __LINE__),                      \
                      fprintf(stderr, __VA_ARGS__), fputc('\n', stderr), 0)                        \
                   : 0))

#define CHECK(cond) UNIT_RECORD((cond), "%s", #cond)
#define CHECK_MSG(cond, ...) UNIT_RECORD((cond), __VA_ARGS__)
#define CHECK_INT(a, b)                                                                            \
    UNIT_RECORD((long long)(a) == (long long)(b), "%s == %s (%lld != %lld)", #a, #b,               \
                (long long)(a), (long long)(b))
#define CHECK_STR(a, b)                                                                            \
    UNIT_RECORD(unit_streq((a), (b)), "%s == %s (\"%s\" != \"%s\")", #a, #b, unit_show(a),        \
                unit_show(b))

/* Two NULLs are equal; NULL and a string are not. */
static inline int unit_streq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static inline const char *unit_show(const char *s)
{
    return s ? s : "(null)";
}

#define UNIT_REPORT(name)                                                                          \
    (printf("%s: %ld passed, %ld failed\n", (name), unit_passed, unit_failed),                     \
     unit_failed ? 1 : 0)

#endif /* STANCE_UNIT_H */
