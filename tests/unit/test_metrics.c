/* test_metrics.c - precision, recall, F1, averages, JSON and text output
 * against values computed by hand. */
#include "internal.h"
#include "unit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NEAR(a, b) CHECK_MSG(fabs((a) - (b)) < 1e-12, "%s = %.17g, want %.17g", #a, (a), (b))

/* Confusion (rows gold, columns predicted):
 *          a  b  c   support
 *     a    3  1  0   4
 *     b    1  2  1   4
 *     c    0  0  2   2
 * predicted 4  3  3   total 10, correct 7
 *
 * a: P 3/4  R 3/4  F1 3/4
 * b: P 2/3  R 1/2  F1 2(1/3)/(7/6) = 4/7
 * c: P 2/3  R 1    F1 2(2/3)/(5/3) = 4/5
 * macro:    P (3/4+2/3+2/3)/3 = 25/36, R (3/4+1/2+1)/3 = 3/4,
 *           F1 (3/4+4/7+4/5)/3 = 297/420
 * weighted: P (3+8/3+4/3)/10 = 7/10, R 7/10, F1 (3+16/7+8/5)/10 = 241/350 */
static stance_metrics *three_class(void)
{
    const char *labels[] = {"a", "b", "c"};
    stance_metrics *mt = NULL;
    if (!CHECK(st_metrics_new(3, labels, &mt) == STANCE_OK && mt))
        return NULL;
    static const int pairs[][2] = {{0, 0}, {0, 0}, {0, 0}, {0, 1}, {1, 0},
                                   {1, 1}, {1, 1}, {1, 2}, {2, 2}, {2, 2}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        st_metrics_add(mt, pairs[i][0], pairs[i][1]);
    /* out of range: ignored */
    st_metrics_add(mt, 3, 0);
    st_metrics_add(mt, 0, -1);
    st_metrics_finish(mt);
    return mt;
}

static void test_three_class(void)
{
    stance_metrics *mt = three_class();
    if (!mt)
        return;
    CHECK_INT(mt->nlabels, 3);
    CHECK_STR(mt->labels[1], "b");
    CHECK_INT(mt->total, 10);
    NEAR(mt->accuracy, 0.7);
    static const long conf[9] = {3, 1, 0, 1, 2, 1, 0, 0, 2};
    for (int i = 0; i < 9; i++)
        CHECK_INT(mt->confusion[i], conf[i]);
    CHECK_INT(mt->support[0], 4);
    CHECK_INT(mt->support[1], 4);
    CHECK_INT(mt->support[2], 2);
    NEAR(mt->precision[0], 0.75);
    NEAR(mt->recall[0], 0.75);
    NEAR(mt->f1[0], 0.75);
    NEAR(mt->precision[1], 2.0 / 3);
    NEAR(mt->recall[1], 0.5);
    NEAR(mt->f1[1], 4.0 / 7);
    NEAR(mt->precision[2], 2.0 / 3);
    NEAR(mt->recall[2], 1.0);
    NEAR(mt->f1[2], 0.8);
    NEAR(mt->macro_precision, 25.0 / 36);
    NEAR(mt->macro_recall, 0.75);
    NEAR(mt->macro_f1, 297.0 / 420);
    NEAR(mt->weighted_precision, 0.7);
    NEAR(mt->weighted_recall, 0.7);
    NEAR(mt->weighted_f1, 241.0 / 350);

    char *js = stance_metrics_json(mt);
    CHECK_STR(js, "{\"labels\":[\"a\",\"b\",\"c\"],\"accuracy\":0.7,"
                  "\"macro\":{\"precision\":0.694444,\"recall\":0.75,\"f1\":0.707143},"
                  "\"weighted\":{\"precision\":0.7,\"recall\":0.7,\"f1\":0.688571},"
                  "\"per_class\":{"
                  "\"a\":{\"precision\":0.75,\"recall\":0.75,\"f1\":0.75,\"support\":4},"
                  "\"b\":{\"precision\":0.666667,\"recall\":0.5,\"f1\":0.571429,\"support\":4},"
                  "\"c\":{\"precision\":0.666667,\"recall\":1,\"f1\":0.8,\"support\":2}},"
                  "\"confusion\":[[3,1,0],[1,2,1],[0,0,2]],\"total\":10}");
    size_t n = 0;
    stance_error err = {0, ""};
    CHECK_MSG(js && stance_json_parse_object(js, strlen(js), NULL, 0, &n, &err) == STANCE_OK,
              "%s", err.msg);
    CHECK_INT(n, 7);
    free(js);

    char *txt = stance_metrics_text(mt);
    CHECK(txt != NULL);
    if (txt) {
        CHECK_MSG(strstr(txt, "precision    recall        f1   support") != NULL, "%s", txt);
        CHECK_MSG(strstr(txt, "\nb                 0.6667    0.5000    0.5714         4\n"),
                  "%s", txt);
        CHECK_MSG(strstr(txt, "\naccuracy                              0.7000        10\n"),
                  "%s", txt);
        CHECK_MSG(strstr(txt, "\nmacro avg         0.6944    0.7500    0.7071        10\n"),
                  "%s", txt);
        CHECK_MSG(strstr(txt, "\nweighted avg      0.7000    0.7000    0.6886        10\n"),
                  "%s", txt);
        CHECK_MSG(strstr(txt, "\ngold \\ predicted  a  b  c\n"
                              "a                 3  1  0\n"
                              "b                 1  2  1\n"
                              "c                 0  0  2\n"),
                  "%s", txt);
        free(txt);
    }
    stance_metrics_free(mt);
    stance_metrics_free(NULL);
}

/* Zero-division conventions: a class never predicted has precision 0, one
 * with no support recall 0, and F1 is 0 when both are. */
static void test_zero_division(void)
{
    const char *labels[] = {"x", "y", "z"};
    stance_metrics *mt = NULL;
    CHECK(st_metrics_new(3, labels, &mt) == STANCE_OK);
    if (!mt)
        return;
    /* gold x x z, predicted x x y: y predicted once but never gold, z never
     * predicted */
    st_metrics_add(mt, 0, 0);
    st_metrics_add(mt, 0, 0);
    st_metrics_add(mt, 2, 1);
    st_metrics_finish(mt);
    NEAR(mt->precision[0], 1.0);
    NEAR(mt->recall[0], 1.0);
    NEAR(mt->precision[1], 0.0);
    NEAR(mt->recall[1], 0.0); /* no support */
    NEAR(mt->f1[1], 0.0);
    CHECK_INT(mt->support[1], 0);
    NEAR(mt->precision[2], 0.0); /* no predictions */
    NEAR(mt->recall[2], 0.0);
    NEAR(mt->f1[2], 0.0);
    NEAR(mt->accuracy, 2.0 / 3);
    NEAR(mt->macro_f1, 1.0 / 3);
    NEAR(mt->weighted_f1, 2.0 / 3);
    NEAR(mt->weighted_precision, 2.0 / 3);
    stance_metrics_free(mt);

    /* nothing counted at all: everything 0, nothing divides by zero */
    CHECK(st_metrics_new(2, labels, &mt) == STANCE_OK);
    st_metrics_finish(mt);
    CHECK(mt->total == 0 && mt->accuracy == 0 && mt->macro_f1 == 0 && mt->weighted_f1 == 0);
    char *js = stance_metrics_json(mt);
    CHECK(js && strstr(js, "\"accuracy\":0,") && strstr(js, "\"total\":0}"));
    free(js);
    stance_metrics_free(mt);

    CHECK(st_metrics_new(0, labels, &mt) == STANCE_ERR_ARG && mt == NULL);
    CHECK(st_metrics_new(2, NULL, &mt) == STANCE_ERR_ARG);
}

static void test_names(void)
{
    const char *labels[] = {"strategic_opportunism", "say \"no\"", "\xd0\xbf\xd1\x80\xd0\xbe"};
    stance_metrics *mt = NULL;
    CHECK(st_metrics_new(3, labels, &mt) == STANCE_OK);
    if (!mt)
        return;
    for (int i = 0; i < 12; i++)
        st_metrics_add(mt, 0, 0);
    st_metrics_add(mt, 1, 2);
    st_metrics_finish(mt);
    char *js = stance_metrics_json(mt);
    CHECK(js && strstr(js, "\"labels\":[\"strategic_opportunism\",\"say \\\"no\\\"\","
                           "\"\xd0\xbf\xd1\x80\xd0\xbe\"]"));
    CHECK(js && strstr(js, "\"say \\\"no\\\"\":{\"precision\":0,\"recall\":0,\"f1\":0,"
                           "\"support\":1}"));
    free(js);
    char *txt = stance_metrics_text(mt);
    /* the report keeps full names, the matrix cuts them to 12 characters */
    CHECK(txt && strstr(txt, "\nstrategic_opportunism      1.0000    1.0000    1.0000        12\n"));
    CHECK(txt && strstr(txt, "\ngold \\ predicted  strategic_op      say \"no\"           "
                             "\xd0\xbf\xd1\x80\xd0\xbe\n"));
    CHECK(txt && strstr(txt, "\nstrategic_op                12             0             0\n"));
    const char *matrix = txt ? strstr(txt, "confusion matrix") : NULL;
    CHECK(matrix && !strstr(matrix, "strategic_opp"));
    /* padding counts characters, not bytes */
    CHECK(txt && strstr(txt, "\n\xd0\xbf\xd1\x80\xd0\xbe                        0.0000"));
    free(txt);
    stance_metrics_free(mt);
}

/* A label absent from gold and predictions does not drag macro averages. */
static void test_absent_label(void)
{
    const char *labels[] = {"a", "b", "c"};
    stance_metrics *mt = NULL;
    CHECK(st_metrics_new(3, labels, &mt) == 0);
    if (!mt)
        return;
    st_metrics_add(mt, 0, 0);
    st_metrics_add(mt, 0, 0);
    st_metrics_add(mt, 1, 1);
    st_metrics_finish(mt);
    CHECK(mt->macro_f1 == 1.0);
    CHECK(mt->accuracy == 1.0);
    st_metrics_add(mt, 1, 0); /* one error: a has P 2/3, R 1; b has P 1, R 1/2 */
    st_metrics_finish(mt);
    double fa = 2 * (2.0 / 3) * 1 / (2.0 / 3 + 1), fb = 2 * 1 * 0.5 / 1.5;
    CHECK(mt->macro_f1 > (fa + fb) / 2 - 1e-12 && mt->macro_f1 < (fa + fb) / 2 + 1e-12);
    stance_metrics_free(mt);
}

int main(void)
{
    test_absent_label();
    test_three_class();
    test_zero_division();
    test_names();
    return UNIT_REPORT("test_metrics");
}
