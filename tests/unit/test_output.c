/* test_output.c - the CLI's record formatting: cli_buf_fixed against printf.
 *
 * Probabilities are written by cli_buf_fixed instead of printf's "%.*f";
 * every output of classify and score depends on the two agreeing byte for
 * byte.  They are compared on exact ties (multiples of a power of two),
 * on the doubles next to every rounding boundary of small precisions, on
 * random bit patterns over the whole range [0, 1] and on the values outside
 * it, which go to printf. */
#include "cli.h"
#include "internal.h"
#include "unit.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static long compared, mismatched;

/* One value at one precision.  Each group of values below is one check;
 * the first few mismatches are printed with the value's bits. */
static void same(double x, int prec)
{
    char want[512];
    snprintf(want, sizeof want, "%.*f", prec, x);
    cli_buf b = {0};
    int rc = cli_buf_fixed(&b, x, prec);
    compared++;
    if (rc != 0 || !b.data || strcmp(b.data, want) != 0) {
        uint64_t bits;
        memcpy(&bits, &x, sizeof bits);
        if (mismatched++ < 20)
            fprintf(stderr, "%%.%df of %a (bits %016llx): printf '%s', cli_buf_fixed '%s'\n",
                    prec, x, (unsigned long long)bits, want, b.data ? b.data : "(null)");
    }
    cli_buf_free(&b);
}

static st_rng rng;
static uint64_t next(void) { return st_rng_next(&rng); }

int main(void)
{
    static const int precs[] = {0, 1, 2, 3, 4, 6, 9};
    const int np = (int)(sizeof precs / sizeof precs[0]);
    st_rng_seed(&rng, 20261128);
    long before = mismatched;

    /* edges */
    const double edge[] = {0.0, 1.0, 0.5, 0.25, DBL_MIN, DBL_TRUE_MIN, nextafter(1.0, 0.0),
                           nextafter(0.0, 1.0), 1e-300, 0.1, 0.2, 0.3, 0.7, 0.9999999999};
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
        for (int p = 0; p < np; p++)
            same(edge[i], precs[p]);
    CHECK_MSG(mismatched == before, "edge values differ from printf");

    /* exact ties: every k / 2^e in [0, 1] for e up to 16, and a sample of
     * finer ones */
    before = mismatched;
    for (int e = 0; e <= 16; e++)
        for (uint32_t k = 0; k <= (1u << e); k++)
            for (int p = 0; p < np; p++)
                same(ldexp(k, -e), precs[p]);
    for (int i = 0; i < 200000; i++) {
        int e = 17 + (int)(next() % 40);
        uint64_t k = next() & ((UINT64_C(1) << e) - 1);
        same(ldexp((double)k, -e), precs[(int)(next() % (uint64_t)np)]);
    }
    CHECK_MSG(mismatched == before, "exact binary ties differ from printf");

    /* the doubles on and next to every halfway point (2j + 1) / (2 * 10^p)
     * for p up to 4 */
    before = mismatched;
    for (int p = 1; p <= 4; p++) {
        const double scale = pow(10, p);
        for (long j = 0; j < (long)scale; j++) {
            double mid = (2.0 * (double)j + 1.0) / (2.0 * scale);
            double around[] = {mid, nextafter(mid, 0.0), nextafter(mid, 1.0),
                               nextafter(nextafter(mid, 0.0), 0.0),
                               nextafter(nextafter(mid, 1.0), 1.0)};
            for (int a = 0; a < 5; a++)
                for (int q = 0; q < np; q++)
                    same(around[a], precs[q]);
        }
    }
    CHECK_MSG(mismatched == before, "values near rounding boundaries differ from printf");

    /* random doubles: uniform in [0, 1), and random bit patterns whose
     * exponent puts them in [0, 1] (subnormals included) */
    before = mismatched;
    for (int i = 0; i < 1000000; i++) {
        double u = (double)(next() >> 11) * 0x1p-53;
        uint64_t bits = next() % (UINT64_C(0x3ff0000000000000) + 1);
        double r;
        memcpy(&r, &bits, sizeof r);
        int p = precs[i % np];
        same(u, p);
        same(r, p);
    }
    CHECK_MSG(mismatched == before, "random values in [0, 1] differ from printf");

    /* outside [0, 1], printf itself answers */
    before = mismatched;
    const double outside[] = {-0.0, -1e-9, -0.5, 1.0000000000000002, 2.5, 1e300, INFINITY,
                              -INFINITY, NAN};
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++)
        for (int p = 0; p < np; p++)
            same(outside[i], precs[p]);
    CHECK_MSG(mismatched == before, "values outside [0, 1] differ from printf");

    /* precisions outside 0..9 go to printf as well */
    before = mismatched;
    same(0.123456789012, 12);
    same(0.5, 17);
    same(0.5, -1);
    CHECK_MSG(mismatched == before, "precisions outside 0..9 differ from printf");
    printf("test_output: %ld values compared with printf\n", compared);
    return UNIT_REPORT("test_output");
}
