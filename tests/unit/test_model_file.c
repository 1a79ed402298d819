/*
 * test_model_file.c - SHA-256, the model file's round trip, and a suite of
 * broken model files that must all be refused cleanly.
 *
 *   test_model_file                 run the tests (from the repository root,
 *                                   to also check tests/bad-models/)
 *   test_model_file --write-model F [rbf] [v1]
 *                                   write the valid (linear, or RBF) model this
 *                                   test builds to F (for tests/bad-models/make.sh
 *                                   and as fuzzing seeds), in format 2 or, with
 *                                   v1, in format 1 as earlier versions wrote it
 *
 * The test knows the file's header layout and section framing (documented at
 * the top of src/lib/model/model_file.c) only to forge files: a payload with
 * absurd counts re-packed with a valid CRC, so that the count checks, not the
 * checksum, must catch them.  Every broken file is tried from memory and
 * from a file, which for format 2 takes another path (decoded as it is
 * read): both must refuse it with the same message.
 */
#include "internal.h"
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define HDR 36

/* ------------------------------------------------------------ SHA-256 */

static void test_sha256(void)
{
    char hex[65];
    st_sha256_hex("", 0, hex);
    CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    st_sha256_hex("abc", 3, hex);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    st_sha256_hex(two, strlen(two), hex);
    CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");

    size_t n = 1000000;
    char *a = malloc(n);
    if (!CHECK(a != NULL))
        return;
    memset(a, 'a', n);
    const char *want = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    st_sha256_hex(a, n, hex);
    CHECK_STR(hex, want);
    /* The same in uneven pieces, to exercise the block buffer's edges. */
    static const size_t steps[] = {1, 63, 64, 65, 127, 55, 56, 57, 1000};
    st_sha256 c;
    unsigned char d[32];
    st_sha256_init(&c);
    size_t off = 0;
    for (int i = 0; off < n; i = (i + 1) % 9) {
        size_t take = steps[i] < n - off ? steps[i] : n - off;
        st_sha256_update(&c, a + off, take);
        off += take;
    }
    st_sha256_final(&c, d);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    CHECK_STR(hex, want);
    free(a);
}

/* ------------------------------------------------------------- CRC-32 */

/* st_crc32 is zlib's crc32 for every length, alignment and starting value,
 * in one call or in pieces. */
static void test_crc32(void)
{
    size_t n = 100000;
    unsigned char *a = malloc(n + 16);
    if (!CHECK(a != NULL))
        return;
    uint64_t x = 0x243f6a8885a308d3u;
    for (size_t i = 0; i < n + 16; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        a[i] = (unsigned char)(x >> 56);
    }
    int bad = 0;
    for (size_t len = 0; len <= 600; len++)
        for (size_t off = 0; off < 16; off += (len < 200 ? 1 : 5)) {
            uint32_t start = (uint32_t)(len * 2654435761u);
            bad += st_crc32(0, a + off, len) != (uint32_t)crc32(0, a + off, (uInt)len);
            bad += st_crc32(start, a + off, len) !=
                   (uint32_t)crc32(start, a + off, (uInt)len);
        }
    CHECK_INT(bad, 0);
    uint32_t want = (uint32_t)crc32(0, a, (uInt)n), got = 0;
    CHECK(st_crc32(0, a, n) == want);
    static const size_t steps[] = {1, 63, 64, 65, 4096, 127, 17, 100000};
    for (size_t off = 0, i = 0; off < n; i = (i + 1) % 8) {
        size_t take = steps[i] < n - off ? steps[i] : n - off;
        got = st_crc32(got, a + off, take);
        off += take;
    }
    CHECK(got == want);
    memset(a, 0, n);
    CHECK(st_crc32(0, a, n) == (uint32_t)crc32(0, a, (uInt)n));
    memset(a, 0xff, n);
    CHECK(st_crc32(0xffffffffu, a, n) == (uint32_t)crc32(0xffffffffu, a, (uInt)n));
    CHECK_INT(st_crc32(0, "123456789", 9), 0xcbf43926u);
    free(a);
}

/* ------------------------------------------------------ a model by hand */

static void *dup_mem(const void *p, size_t n)
{
    void *q = malloc(n);
    if (q)
        memcpy(q, p, n);
    return q;
}

/* 3 labels, 5 features, a linear or RBF classifier, 2 sources and CV
 * metrics.  Every allocation is checked by the caller through encode. */
static stance_model *build_model(int rbf)
{
    static const char *const labels[3] = {"condemn", "neutral", "support"};
    static const uint32_t buckets[5] = {3, 17, 200, 4096, 65535};
    static const double idf[5] = {1.5, 2.0, 0.25, 3.75, 1.0};
    static const double rho[3] = {0.125, -0.5, 0.75};
    static const double probA[3] = {-1.25, -2.5, -0.75};
    static const double probB[3] = {0.01, -0.02, 0.0};
    stance_model *m = st_model_alloc();
    if (!m)
        return NULL;
    m->nlabels = 3;
    m->labels = calloc(3, sizeof *m->labels);
    for (int i = 0; i < 3 && m->labels; i++)
        m->labels[i] = st_strdup(labels[i]);
    m->fc.hash_seed = 0x5eed;
    m->fc.hash_bits = 16;
    m->fc.word_ngram_max = 2;
    m->fc.char_ngram_min = 2;
    m->fc.char_ngram_max = 5;
    m->fc.norm_flags = ST_NORM_FLAGS_V1;
    m->fc.sublinear_tf = 1;
    m->vocab.n = 5;
    m->vocab.bucket = dup_mem(buckets, sizeof buckets);
    m->vocab.idf = dup_mem(idf, sizeof idf);

    st_svm *s = calloc(1, sizeof *s);
    m->svm = s;
    if (s) {
        s->nclass = 3;
        s->npairs = 3;
        s->rho = dup_mem(rho, sizeof rho);
        s->probA = dup_mem(probA, sizeof probA);
        s->probB = dup_mem(probB, sizeof probB);
        if (!rbf) {
            s->kernel = STANCE_KERNEL_LINEAR;
            s->nfeat = 5;
            s->w = malloc(15 * sizeof *s->w);
            for (int i = 0; i < 15 && s->w; i++)
                s->w[i] = (i - 7) * 0.0625;
        } else {
            static const uint32_t nsv_class[3] = {1, 2, 1};
            static const double coef[8] = {1, -0.5, -0.5, 0.25, 0.5, 1, -1, -0.25};
            static const uint64_t start[5] = {0, 2, 3, 5, 6};
            static const uint32_t index[6] = {0, 3, 4, 1, 2, 2};
            static const double value[6] = {0.6, 0.8, 1, 0.6, 0.8, 1};
            s->kernel = STANCE_KERNEL_RBF;
            s->gamma = 0.5;
            s->nfeat = 5;
            s->nsv = 4;
            s->nsv_class = dup_mem(nsv_class, sizeof nsv_class);
            s->sv_coef = dup_mem(coef, sizeof coef);
            s->sv_start = dup_mem(start, sizeof start);
            s->sv_index = dup_mem(index, sizeof index);
            s->sv_value = dup_mem(value, sizeof value);
        }
    }

    m->train.kernel = rbf ? STANCE_KERNEL_RBF : STANCE_KERNEL_LINEAR;
    m->train.solver = rbf ? STANCE_SOLVER_LIBSVM : STANCE_SOLVER_LIBLINEAR;
    m->train.balanced = 1;
    m->train.grid = rbf;
    m->train.cv_folds = 5;
    m->train.C = 1;
    m->train.gamma = rbf ? 0.5 : 0;
    m->train.seed = 1;
    m->train.min_df = 2;
    m->train.group_by = st_strdup("situation");
    m->train.sentences = 120;
    m->train.duplicates = 3;

    if (st_metrics_new(3, labels, &m->cv) == STANCE_OK) {
        static const int conf[9] = {25, 3, 2, 4, 44, 7, 1, 5, 29};
        for (int g = 0; g < 3; g++)
            for (int p = 0; p < 3; p++)
                for (int i = 0; i < conf[g * 3 + p]; i++)
                    st_metrics_add(m->cv, g, p);
        st_metrics_finish(m->cv);
    }

    m->nsources = 2;
    m->sources = calloc(2, sizeof *m->sources);
    if (m->sources) {
        static const uint64_t per[2][3] = {{20, 30, 20}, {10, 25, 15}};
        static const char *const names[2] = {"corpus/en.tsv", "corpus/fr \"quoted\".tsv"};
        for (int i = 0; i < 2; i++) {
            m->sources[i].name = st_strdup(names[i]);
            st_sha256_hex(names[i], strlen(names[i]), m->sources[i].sha256);
            m->sources[i].records = per[i][0] + per[i][1] + per[i][2];
            m->sources[i].per_label = dup_mem(per[i], sizeof per[i]);
        }
    }
    return m;
}

/* ------------------------------------------------- forging files */

static int unpack(const unsigned char *file, size_t len, unsigned char **payload, size_t *plen)
{
    if (len < HDR)
        return -1;
    uint64_t ulen = 0;
    for (int i = 7; i >= 0; i--)
        ulen = ulen << 8 | file[16 + i];
    uLongf out = (uLongf)ulen;
    *payload = malloc((size_t)ulen + 1);
    if (!*payload)
        return -1;
    if (file[8] == 2) { /* stored as it is */
        if (ulen != len - HDR) {
            free(*payload);
            return -1;
        }
        memcpy(*payload, file + HDR, (size_t)ulen);
        *plen = (size_t)ulen;
        return 0;
    }
    z_stream z;
    memset(&z, 0, sizeof z);
    int zr = inflateInit2(&z, -15);
    if (zr == Z_OK) {
        z.next_in = (Bytef *)(file + HDR);
        z.avail_in = (uInt)(len - HDR);
        z.next_out = *payload;
        z.avail_out = (uInt)ulen + 1;
        zr = inflate(&z, Z_FINISH);
        out = z.total_out;
        inflateEnd(&z);
    }
    if (zr != Z_STREAM_END || out != ulen) {
        free(*payload);
        return -1;
    }
    *plen = (size_t)ulen;
    return 0;
}

/* The model file's payload is raw deflate (no zlib header or Adler-32). */
static int raw_deflate(const unsigned char *in, size_t n, unsigned char *out, uLongf *outlen,
                       int level)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)*outlen;
    int rc = deflate(&z, Z_FINISH);
    *outlen = z.total_out;
    deflateEnd(&z);
    return rc == Z_STREAM_END ? 0 : -1;
}

static void le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* The format version repack writes: 1 (deflate) or 2 (stored). */
static int pack_format = 2;

/* A well-formed header, checksum and compression around any payload. */
static int repack(const unsigned char *payload, size_t plen, unsigned char **file, size_t *flen)
{
    uLongf clen = compressBound((uLong)plen) + 64;
    *file = malloc(HDR + (size_t)clen);
    if (!*file)
        return -1;
    if (pack_format == 2) {
        memcpy(*file + HDR, payload, plen);
        clen = (uLongf)plen;
    } else if (raw_deflate(payload, plen, *file + HDR, &clen, 9) != 0) {
        free(*file);
        return -1;
    }
    memcpy(*file, "STANCEMD", 8);
    le(*file + 8, (uint64_t)pack_format, 4);
    le(*file + 12, 0, 4);
    le(*file + 16, plen, 8);
    le(*file + 24, clen, 8);
    le(*file + 32, crc32(crc32(0, Z_NULL, 0), payload, (uInt)plen), 4);
    *flen = HDR + (size_t)clen;
    return 0;
}

/* Offset of section tag's header (tag, u64 length) in the payload, or -1. */
static long find_section(const unsigned char *p, size_t plen, const char *tag)
{
    size_t pos = 0;
    while (pos + 12 <= plen) {
        uint64_t slen = 0;
        for (int i = 7; i >= 0; i--)
            slen = slen << 8 | p[pos + 4 + (size_t)i];
        if (memcmp(p + pos, tag, 4) == 0)
            return (long)pos;
        pos += 12 + (size_t)slen;
    }
    return -1;
}

/* ------------------------------------------------------- expectations */

static stance_model *const SENTINEL = (stance_model *)&unit_passed;

/* A file for loading from a path: loading from a file is another path. */
static char file_path[64];

static int write_file(const char *path, const unsigned char *data, size_t len)
{
    /* a new file each time: truncating one makes some file systems flush */
    unlink(path);
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t put = fwrite(data, 1, len, f);
    return fclose(f) == 0 && put == len ? 0 : -1;
}

/* Load data from file_path, through stance_model_load; *e gets its error
 * message with the file name replaced by "<buffer>". */
static int load_from_file(const unsigned char *data, size_t len, stance_model **m,
                          stance_error *e)
{
    if (!CHECK(write_file(file_path, data, len) == 0))
        return STANCE_ERR_IO;
    int rc = stance_model_load(file_path, m, e);
    size_t pl = strlen(file_path);
    if (rc != STANCE_OK && strncmp(e->msg, file_path, pl) == 0) {
        char rest[sizeof e->msg];
        snprintf(rest, sizeof rest, "%s", e->msg + pl);
        snprintf(e->msg, sizeof e->msg, "<buffer>%.*s", (int)(sizeof rest - 9), rest);
    }
    return rc;
}

/* A broken file: refused with MODEL or VERSION, a message, and *out NULL,
 * from memory and from a file alike. */
static int expect_bad(const unsigned char *data, size_t len, const char *what, long arg,
                      stance_error *e)
{
    stance_model *m = SENTINEL;
    stance_error tmp, fe;
    if (!e)
        e = &tmp;
    memset(e, 0, sizeof *e);
    memset(&fe, 0, sizeof fe);
    int rc = stance_model_load_buffer(data, len, &m, e);
    int ok = (rc == STANCE_ERR_MODEL || rc == STANCE_ERR_VERSION) && e->code == rc &&
             e->msg[0] != '\0' && m == NULL;
    CHECK_MSG(ok, "%s %ld: rc %d, msg '%s', out %p", what, arg, rc, e->msg, (void *)m);
    if (m != SENTINEL)
        stance_model_free(m);
    m = SENTINEL;
    int frc = load_from_file(data, len, &m, &fe);
    int fok = frc == rc && fe.code == frc && m == NULL && strcmp(fe.msg, e->msg) == 0;
    CHECK_MSG(fok, "%s %ld from a file: rc %d, msg '%s', out %p; from memory rc %d, '%s'", what,
              arg, frc, fe.msg, (void *)m, rc, e->msg);
    if (m != SENTINEL)
        stance_model_free(m);
    return ok && fok;
}

static int same_bytes(const unsigned char *a, size_t na, const unsigned char *b, size_t nb)
{
    return na == nb && memcmp(a, b, na) == 0;
}

/* --------------------------------------------------------- round trips */

static void check_equal_models(const stance_model *a, const stance_model *b)
{
    CHECK_INT(a->nlabels, b->nlabels);
    for (int i = 0; i < a->nlabels && i < b->nlabels; i++)
        CHECK_STR(a->labels[i], b->labels[i]);
    CHECK(memcmp(&a->fc, &b->fc, sizeof a->fc) == 0);
    CHECK_INT(a->vocab.n, b->vocab.n);
    CHECK(memcmp(a->vocab.bucket, b->vocab.bucket, a->vocab.n * sizeof(uint32_t)) == 0);
    CHECK(memcmp(a->vocab.idf, b->vocab.idf, a->vocab.n * sizeof(double)) == 0);
    CHECK_INT(a->svm->kernel, b->svm->kernel);
    CHECK(a->svm->gamma == b->svm->gamma);
    CHECK(memcmp(a->svm->rho, b->svm->rho, 3 * sizeof(double)) == 0);
    CHECK(memcmp(a->svm->probB, b->svm->probB, 3 * sizeof(double)) == 0);
    if (a->svm->kernel == STANCE_KERNEL_LINEAR) {
        CHECK_INT(a->svm->nfeat, b->svm->nfeat);
        for (uint32_t f = 0; f < a->svm->nfeat && f < b->svm->nfeat; f++)
            CHECK(memcmp(st_svm_weights(a->svm, f), st_svm_weights(b->svm, f),
                         3 * sizeof(double)) == 0);
    } else {
        CHECK_INT(a->svm->nsv, b->svm->nsv);
        CHECK(memcmp(a->svm->sv_start, b->svm->sv_start, 5 * sizeof(uint64_t)) == 0);
        CHECK(memcmp(a->svm->sv_index, b->svm->sv_index, 6 * sizeof(uint32_t)) == 0);
        CHECK(memcmp(a->svm->sv_coef, b->svm->sv_coef, 8 * sizeof(double)) == 0);
    }
    CHECK_STR(a->train.group_by, b->train.group_by);
    CHECK(a->train.C == b->train.C && a->train.seed == b->train.seed);
    CHECK(a->train.sentences == b->train.sentences);
    CHECK((a->cv == NULL) == (b->cv == NULL));
    if (a->cv && b->cv) {
        CHECK(memcmp(a->cv->confusion, b->cv->confusion, 9 * sizeof(long)) == 0);
        CHECK(a->cv->macro_f1 == b->cv->macro_f1 && a->cv->total == b->cv->total);
    }
    CHECK_INT(a->nsources, b->nsources);
    for (size_t i = 0; i < a->nsources && i < b->nsources; i++) {
        CHECK_STR(a->sources[i].name, b->sources[i].name);
        CHECK_STR(a->sources[i].sha256, b->sources[i].sha256);
        CHECK(memcmp(a->sources[i].per_label, b->sources[i].per_label, 3 * 8) == 0);
    }
}

static void test_round_trip(int rbf, int with_cv)
{
    stance_error e = {0};
    stance_model *m = build_model(rbf), *d = NULL, *d2 = NULL;
    unsigned char *b1 = NULL, *b2 = NULL;
    size_t n1 = 0, n2 = 0;
    if (!CHECK(m != NULL))
        return;
    if (!with_cv) {
        stance_metrics_free(m->cv);
        m->cv = NULL;
        free(m->train.group_by);
        m->train.group_by = NULL;
    }
    int rc = st_model_encode(m, &b1, &n1, &e);
    if (!CHECK_MSG(rc == STANCE_OK, "encode (rbf %d): %s", rbf, e.msg))
        goto out;
    rc = st_model_decode(b1, n1, "roundtrip.stm", &d, &e);
    if (!CHECK_MSG(rc == STANCE_OK, "decode (rbf %d): %s", rbf, e.msg))
        goto out;
    check_equal_models(m, d);
    CHECK(st_vocab_find(&d->vocab, 4096) == 3);
    CHECK(st_vocab_find(&d->vocab, 4097) == UINT32_MAX);
    rc = st_model_encode(d, &b2, &n2, &e);
    CHECK_MSG(rc == STANCE_OK, "re-encode: %s", e.msg);
    CHECK(same_bytes(b1, n1, b2, n2));

    /* the id is the SHA-256 of the encoded payload, recorded in the file */
    char hex[65];
    CHECK(st_model_set_id(m, &e) == STANCE_OK);
    snprintf(hex, sizeof hex, "%s", m->id);
    CHECK_STR(stance_model_id(d), hex);
    CHECK_INT(strlen(stance_model_id(d)), 16);
    CHECK_INT(stance_model_nlabels(d), 3);
    CHECK_STR(stance_model_label(d, 2), "support");
    CHECK(stance_model_label(d, 3) == NULL && stance_model_label(d, -1) == NULL);

    /* Through the public entry point, too. */
    rc = stance_model_load_buffer(b1, n1, &d2, &e);
    CHECK_MSG(rc == STANCE_OK && d2, "load_buffer: %s", e.msg);

    /* info: valid JSON (the library's own parser checks the whole syntax)
     * with the expected members. */
    char *js = stance_model_info_json(d);
    if (CHECK(js != NULL)) {
        stance_json_member mem[16];
        size_t nm = 0;
        rc = stance_json_parse_object(js, strlen(js), mem, 16, &nm, &e);
        CHECK_MSG(rc == STANCE_OK, "info JSON does not parse: %s\n%s", e.msg, js);
        CHECK_INT(nm, 8);
        CHECK(strstr(js, "\"labels\":[\"condemn\",\"neutral\",\"support\"]") != NULL);
        CHECK(strstr(js, rbf ? "\"kernel\":\"rbf\"" : "\"kernel\":\"linear\"") != NULL);
        CHECK(strstr(js, rbf ? "\"support_vectors\":4" : "\"gamma\":null") != NULL);
        CHECK(strstr(js, "\"vocabulary\":5") != NULL);
        CHECK(strstr(js, "\"normalisation\":\"NFKC+casefold\"") != NULL);
        CHECK(strstr(js, "\"corpus/fr \\\"quoted\\\".tsv\"") != NULL);
        CHECK(strstr(js, "\"per_label\":{\"condemn\":20,\"neutral\":30,\"support\":20}") != NULL);
        CHECK(strstr(js, with_cv ? "\"cross_validation\":{" : "\"cross_validation\":null") !=
              NULL);
        CHECK(strstr(js, with_cv ? "\"group_by\":\"situation\"" : "\"group_by\":null") != NULL);
        char idm[96];
        snprintf(idm, sizeof idm, "\"id\":\"%s\"", hex);
        CHECK(strstr(js, idm) != NULL);
        free(js);
    }
out:
    free(b1);
    free(b2);
    stance_model_free(m);
    stance_model_free(d);
    stance_model_free(d2);
}

/* The encoder must refuse what the decoder would refuse. */
static void test_encode_refuses(void)
{
    stance_error e = {0};
    unsigned char *b = NULL;
    size_t n = 0;
    stance_model *m = build_model(0);
    if (!CHECK(m != NULL))
        return;
    char *t = m->labels[0]; /* unsorted labels */
    m->labels[0] = m->labels[2];
    m->labels[2] = t;
    int rc = st_model_encode(m, &b, &n, &e);
    CHECK_MSG(rc == STANCE_ERR_ARG && b == NULL && strstr(e.msg, "LABL"), "rc %d: %s", rc,
              e.msg);
    t = m->labels[0];
    m->labels[0] = m->labels[2];
    m->labels[2] = t;
    m->vocab.idf[1] = NAN;
    rc = st_model_encode(m, &b, &n, &e);
    CHECK_MSG(rc == STANCE_ERR_ARG && b == NULL && strstr(e.msg, "idf"), "rc %d: %s", rc, e.msg);
    m->vocab.idf[1] = 2;
    m->svm->npairs = 2;
    rc = st_model_encode(m, &b, &n, &e);
    CHECK_MSG(rc == STANCE_ERR_ARG && b == NULL, "rc %d: %s", rc, e.msg);
    m->svm->npairs = 3;
    rc = st_model_encode(m, &b, &n, &e);
    CHECK_MSG(rc == STANCE_OK, "rc %d: %s", rc, e.msg);
    free(b);
    stance_model_free(m);
}

static int count_dir(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (!d)
        return -1;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static void test_save_load(void)
{
    stance_error e = {0};
    char dir[] = "/tmp/test_model_file.XXXXXX";
    char path[128], bad[160];
    stance_model *m = build_model(0), *l = SENTINEL;
    unsigned char *b = NULL, *fb = NULL;
    size_t n = 0;
    if (!CHECK(m != NULL) || !CHECK(mkdtemp(dir) != NULL)) {
        stance_model_free(m);
        return;
    }
    snprintf(path, sizeof path, "%s/model.stm", dir);
    int rc = stance_model_save(m, path, &e);
    CHECK_MSG(rc == STANCE_OK, "save: %s", e.msg);
    CHECK_INT(count_dir(dir), 1); /* no temporary file left behind */
    rc = stance_model_load(path, &l, &e);
    if (CHECK_MSG(rc == STANCE_OK && l && l != SENTINEL, "load: %s", e.msg)) {
        check_equal_models(m, l);
        CHECK(st_model_encode(m, &b, &n, &e) == STANCE_OK);
        FILE *f = fopen(path, "rb");
        fb = malloc(n + 16);
        size_t got = f && fb ? fread(fb, 1, n + 16, f) : 0;
        if (f)
            fclose(f);
        CHECK(same_bytes(b, n, fb, got));
        CHECK(st_model_set_id(m, &e) == STANCE_OK);
        CHECK_STR(stance_model_id(l), m->id);
        stance_model_free(l);
    }
    /* Saving over an existing model replaces it. */
    rc = stance_model_save(m, path, &e);
    CHECK_MSG(rc == STANCE_OK && count_dir(dir) == 1, "second save: %s", e.msg);

    /* I/O failures: STANCE_ERR_IO with the reason, nothing left behind. */
    snprintf(bad, sizeof bad, "%s/no/such/dir/model.stm", dir);
    rc = stance_model_save(m, bad, &e);
    CHECK_MSG(rc == STANCE_ERR_IO && strstr(e.msg, "No such file"), "rc %d: %s", rc, e.msg);
    snprintf(bad, sizeof bad, "%s/sub", dir);
    CHECK(mkdir(bad, 0700) == 0);
    rc = stance_model_save(m, bad, &e); /* rename over a directory fails */
    CHECK_MSG(rc == STANCE_ERR_IO && e.msg[0], "rc %d: %s", rc, e.msg);
    CHECK_INT(count_dir(dir), 2);
    CHECK_INT(count_dir(bad), 0);
    l = SENTINEL;
    rc = stance_model_load(bad, &l, &e); /* a directory */
    CHECK_MSG(rc == STANCE_ERR_IO && l == NULL, "rc %d: %s", rc, e.msg);
    snprintf(bad, sizeof bad, "%s/missing.stm", dir);
    l = SENTINEL;
    rc = stance_model_load(bad, &l, &e);
    CHECK_MSG(rc == STANCE_ERR_IO && l == NULL && strstr(e.msg, "missing.stm"), "rc %d: %s", rc,
              e.msg);
    /* The path names the file in decode errors. */
    FILE *f = fopen(bad, "wb");
    if (f) {
        fwrite("STANCEMD\1\0\0", 1, 11, f);
        fclose(f);
    }
    l = SENTINEL;
    rc = stance_model_load(bad, &l, &e);
    CHECK_MSG(rc == STANCE_ERR_MODEL && l == NULL && strncmp(e.msg, bad, strlen(bad)) == 0,
              "rc %d: %s", rc, e.msg);

    unlink(bad);
    snprintf(bad, sizeof bad, "%s/sub", dir);
    rmdir(bad);
    unlink(path);
    rmdir(dir);
    free(b);
    free(fb);
    stance_model_free(m);
}

/* ------------------------------------------------------ broken models */


static void test_truncation(const unsigned char *good, size_t n)
{
    for (size_t len = 0; len < n; len++)
        expect_bad(good, len, "truncated to", (long)len, NULL);
}

/* good: a file of either format; canon: the model's own encoding. */
static void test_bit_flips(const unsigned char *good, size_t n, const unsigned char *canon,
                           size_t cn)
{
    unsigned char *b = dup_mem(good, n);
    if (!CHECK(b != NULL))
        return;
    for (size_t bit = 0; bit < HDR * 8; bit++) {
        b[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        expect_bad(b, n, "header bit", (long)bit, NULL);
        b[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
    /* In the payload a flip must be refused, or else (format 1) be one that
     * zlib provably ignores (the padding bits after the final block): then
     * the decoded model is exactly the original one.  Anything in between
     * would be silent corruption.  A stored payload has no such bits: the
     * CRC-32 catches every flip. */
    size_t pbits = (n - HDR) * 8, ignored = 0;
    st_rng rng;
    st_rng_seed(&rng, 0x9e3779b97f4a7c15u);
    size_t tries = pbits < 2000 ? pbits : 2000;
    for (size_t t = 0; t < tries; t++) {
        size_t bit = HDR * 8 + (pbits <= 2000 ? t : (size_t)st_rng_below(&rng, pbits));
        b[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        stance_model *m = NULL;
        stance_error e = {0};
        int rc = stance_model_load_buffer(b, n, &m, &e);
        if (rc == STANCE_OK) {
            unsigned char *re = NULL;
            size_t rn = 0;
            CHECK_MSG(good[8] == 1 && st_model_encode(m, &re, &rn, &e) == STANCE_OK &&
                          same_bytes(re, rn, canon, cn),
                      "payload bit %zu flipped: accepted a different model", bit);
            free(re);
            stance_model_free(m);
            ignored++;
        } else {
            CHECK_MSG((rc == STANCE_ERR_MODEL || rc == STANCE_ERR_VERSION) && e.msg[0] && !m,
                      "payload bit %zu: rc %d msg '%s'", bit, rc, e.msg);
            if (t % 8 == 0) /* the same from a file */
                expect_bad(b, n, "payload bit", (long)bit, NULL);
        }
        b[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
    /* Harmless flips (the padding after the final block, bits of a Huffman
     * table that code no symbol used) are few: a decoder that ignores
     * corruption would accept far more.  Each accepted one was checked
     * above to give back the original model exactly. */
    CHECK_MSG(ignored * 100 <= tries, "%zu of %zu payload flips accepted", ignored, tries);
    free(b);
}

static void test_header_cases(const unsigned char *good, size_t n, int format)
{
    stance_error e;
    unsigned char *b = malloc(n + 8);
    if (!CHECK(b != NULL))
        return;

    memcpy(b, good, n);
    memcpy(b, "STANCEMX", 8);
    expect_bad(b, n, "bad magic", 0, &e);
    CHECK_STR(e.msg, "<buffer>: not a stance model file (bad magic)");
    expect_bad((const unsigned char *)"hello", 5, "text", 0, &e);
    CHECK(strstr(e.msg, "bad magic") != NULL);
    expect_bad((const unsigned char *)"STANCE", 6, "short magic", 0, &e);
    CHECK(strstr(e.msg, "truncated") != NULL);

    memcpy(b, good, n);
    le(b + 8, 7, 4);
    expect_bad(b, n, "future version", 7, &e);
    CHECK_INT(e.code, STANCE_ERR_VERSION);
    CHECK_STR(e.msg, "<buffer>: model format version 7 is newer than this build supports (2)");
    stance_model *m = NULL;
    int rc = st_model_decode(b, n, "models/x.stm", &m, &e);
    CHECK(rc == STANCE_ERR_VERSION && strncmp(e.msg, "models/x.stm: ", 14) == 0);

    memcpy(b, good, n);
    memcpy(b + n, "garbage!", 8);
    expect_bad(b, n + 8, "trailing garbage", 8, &e);
    CHECK_MSG(strstr(e.msg, "8 bytes of trailing garbage") != NULL, "%s", e.msg);
    expect_bad(b, n + 1, "one trailing byte", 1, &e);

    memcpy(b, good, n);
    b[n - 1] ^= 0x40; /* the adler32 / last byte */
    expect_bad(b, n, "corrupt tail", 0, NULL);

    /* bytes after the end of the zlib stream but inside the announced
     * compressed length; a stored payload's two lengths must agree */
    memcpy(b, good, n);
    memcpy(b + n, "\0\0\0\0", 4);
    le(b + 24, n - HDR + 4, 8);
    expect_bad(b, n + 4, "stream ends early", 0, &e);
    CHECK_MSG(strstr(e.msg, format == 1 ? "ends 4 bytes before" : "stores it as it is") != NULL,
              "%s", e.msg);

    /* a lying uncompressed size far beyond what the bytes can inflate to */
    memcpy(b, good, n);
    le(b + 16, (uint64_t)1 << 31, 8);
    expect_bad(b, n, "bomb size", 0, &e);
    CHECK_MSG(strstr(e.msg, format == 1 ? "cannot come from" : "stores it as it is") != NULL, "%s",
              e.msg);
    free(b);
}

/* Forged payloads with valid CRCs: the structural checks must catch them. */
typedef void (*forge_fn)(unsigned char *p, size_t plen);

static void forge_and_expect(const unsigned char *good, size_t n, forge_fn fn, const char *what,
                             const char *want1, const char *want2)
{
    unsigned char *p = NULL, *f = NULL;
    size_t plen = 0, flen = 0;
    stance_error e;
    if (!CHECK(unpack(good, n, &p, &plen) == 0))
        return;
    if (fn)
        fn(p, plen);
    if (CHECK(repack(p, plen, &f, &flen) == 0)) {
        if (!fn) { /* the forger itself must produce loadable files */
            stance_model *m = NULL;
            CHECK_MSG(stance_model_load_buffer(f, flen, &m, &e) == STANCE_OK, "%s", e.msg);
            stance_model_free(m);
            m = NULL;
            CHECK_MSG(load_from_file(f, flen, &m, &e) == STANCE_OK, "%s", e.msg);
            stance_model_free(m);
        } else {
            expect_bad(f, flen, what, 0, &e);
            CHECK_MSG(strstr(e.msg, want1) && strstr(e.msg, want2) && !strstr(e.msg, "checksum"),
                      "%s: '%s' lacks '%s'/'%s'", what, e.msg, want1, want2);
        }
        free(f);
    }
    free(p);
}

static unsigned char *sec(unsigned char *p, size_t plen, const char *tag)
{
    long at = find_section(p, plen, tag);
    CHECK_MSG(at >= 0, "no section %s", tag);
    return at >= 0 ? p + at + 12 : NULL;
}

static void f_nlabels(unsigned char *p, size_t plen)
{
    unsigned char *s = sec(p, plen, "LABL");
    if (s)
        le(s, 4000000000u, 4);
}
static void f_vocab(unsigned char *p, size_t plen)
{
    unsigned char *s = sec(p, plen, "VOCB");
    if (s)
        le(s, (uint64_t)1 << 40, 8);
}
static void f_vocab_small(unsigned char *p, size_t plen)
{
    unsigned char *s = sec(p, plen, "VOCB");
    if (s)
        le(s, 4, 8); /* one feature fewer: the section is not consumed */
}
static void f_bucket_order(unsigned char *p, size_t plen)
{
    unsigned char *s = sec(p, plen, "VOCB");
    if (s)
        le(s + 8 + 4, 2, 4); /* bucket[1] = 2 < bucket[0] = 3 */
}
static void f_bucket_range(unsigned char *p, size_t plen)
{
    unsigned char *s = sec(p, plen, "VOCB");
    if (s)
        le(s + 8 + 16, 65536, 4); /* past 1 << 16 */
}
static void f_idf_nan(unsigned char *p, size_t plen)
{
    unsigned char *s = sec(p, plen, "VOCB");
    if (s)
        le(s + 8 + 20 + 16, 0x7ff8000000000000u, 8);
}
static void f_label_order(unsigned char *p, size_t plen)
{
    unsigned char *s = sec(p, plen, "LABL");
    if (s)
        s[4 + 4] = 'z'; /* "condemn" -> "zondemn" */
}
static void f_label_nul(unsigned char *p, size_t plen)
{
    unsigned char *s = sec(p, plen, "LABL");
    if (s)
        s[4 + 4 + 2] = 0;
}
static void f_label_ctrl(unsigned char *p, size_t plen)
{
    unsigned char *s = sec(p, plen, "LABL");
    if (s)
        s[4 + 4 + 2] = '\033';
}
static void f_unknown_tag(unsigned char *p, size_t plen)
{
    long at = find_section(p, plen, "CVMT");
    if (CHECK(at >= 0))
        memcpy(p + at, "XTRA", 4);
}
static void f_dup_tag(unsigned char *p, size_t plen)
{
    long at = find_section(p, plen, "CVMT");
    if (CHECK(at >= 0))
        memcpy(p + at, "TRAI", 4);
}
static void f_missing(unsigned char *p, size_t plen)
{
    long at = find_section(p, plen, "SRCS");
    if (CHECK(at >= 0))
        memcpy(p + at, "CVMT", 4); /* SRCS gone, CVMT twice: first error wins */
}
static void f_section_len(unsigned char *p, size_t plen)
{
    long at = find_section(p, plen, "FEAT");
    if (CHECK(at >= 0))
        le(p + at + 4, (uint64_t)1 << 62, 8);
}
static void f_hash_bits(unsigned char *p, size_t plen)
{
    unsigned char *s = sec(p, plen, "FEAT");
    if (s)
        s[4] = 29;
}
static void f_nclass(unsigned char *p, size_t plen)
{
    unsigned char *s = sec(p, plen, "SVMC");
    if (s)
        le(s, 4, 4);
}
static void f_nfeat(unsigned char *p, size_t plen)
{
    unsigned char *s = sec(p, plen, "SVMC");
    if (s)
        le(s + 12 + 8 + 72, 0xffffffffffffffffu, 8);
}
static void f_weight_inf(unsigned char *p, size_t plen)
{
    unsigned char *s = sec(p, plen, "SVMC");
    if (s)
        le(s + 12 + 8 + 72 + 8 + 8 * 7, 0x7ff0000000000000u, 8);
}
static void f_support(unsigned char *p, size_t plen)
{
    unsigned char *s = sec(p, plen, "CVMT");
    /* labels: 4 + 3 x (4 + 7) bytes; confusion[0][0] += 1 */
    if (s)
        s[37] ^= 1;
}
static void f_per_label(unsigned char *p, size_t plen)
{
    unsigned char *s = sec(p, plen, "SRCS");
    /* source 0: 4 + 13 name + 64 sha + 8 records, then per_label[0] */
    if (s)
        s[4 + 4 + 13 + 64 + 8] ^= 1;
}
static void f_sha_hex(unsigned char *p, size_t plen)
{
    unsigned char *s = sec(p, plen, "SRCS");
    if (s)
        s[4 + 4 + 13] = 'G';
}
static void f_nsources(unsigned char *p, size_t plen)
{
    unsigned char *s = sec(p, plen, "SRCS");
    if (s)
        le(s, 60000, 4);
}
static void f_solver(unsigned char *p, size_t plen)
{
    unsigned char *s = sec(p, plen, "TRAI");
    if (s)
        le(s + 4, 9, 4);
}

static void test_forged(const unsigned char *good, size_t n)
{
    forge_and_expect(good, n, NULL, "unchanged", "", "");
    forge_and_expect(good, n, f_nlabels, "4e9 labels", "section LABL", "4000000000");
    forge_and_expect(good, n, f_vocab, "2^40 features", "section VOCB", "1099511627776");
    forge_and_expect(good, n, f_vocab_small, "short vocab", "section VOCB", "unread");
    forge_and_expect(good, n, f_bucket_order, "bucket order", "section VOCB",
                     "bucket 2 is not above the previous one");
    forge_and_expect(good, n, f_bucket_range, "bucket range", "VOCB", "65536");
    forge_and_expect(good, n, f_idf_nan, "idf NaN", "VOCB", "idf[2]");
    forge_and_expect(good, n, f_label_order, "label order", "LABL", "sorted");
    forge_and_expect(good, n, f_label_nul, "label NUL", "LABL", "NUL");
    forge_and_expect(good, n, f_label_ctrl, "label ESC", "LABL", "control character");
    forge_and_expect(good, n, f_unknown_tag, "unknown tag", "unknown section 'XTRA'", "");
    forge_and_expect(good, n, f_dup_tag, "duplicate", "section TRAI appears twice", "");
    forge_and_expect(good, n, f_missing, "missing", "CVMT appears twice", "");
    forge_and_expect(good, n, f_section_len, "section length", "section FEAT", "run past");
    forge_and_expect(good, n, f_hash_bits, "hash bits", "FEAT", "hash_bits 29");
    forge_and_expect(good, n, f_nclass, "nclass", "SVMC", "4 classes for 3 labels");
    forge_and_expect(good, n, f_nfeat, "nfeat", "SVMC", "18446744073709551615");
    forge_and_expect(good, n, f_weight_inf, "weight inf", "SVMC", "w[7]");
    forge_and_expect(good, n, f_support, "support", "CVMT", "support[0]");
    forge_and_expect(good, n, f_per_label, "per_label", "SRCS", "sum to");
    forge_and_expect(good, n, f_sha_hex, "sha hex", "SRCS", "hex");
    forge_and_expect(good, n, f_nsources, "nsources", "SRCS", "truncated");
    forge_and_expect(good, n, f_solver, "solver", "TRAI", "solver 9");

    /* A payload without SRCS at all (cut off the end): missing section. */
    unsigned char *p = NULL, *f = NULL;
    size_t plen = 0, flen = 0;
    stance_error e;
    if (CHECK(unpack(good, n, &p, &plen) == 0)) {
        long at = find_section(p, plen, "SRCS");
        if (CHECK(at >= 0) && CHECK(repack(p, (size_t)at, &f, &flen) == 0)) {
            expect_bad(f, flen, "no SRCS", 0, &e);
            CHECK_MSG(strstr(e.msg, "missing section SRCS") != NULL, "%s", e.msg);
            free(f);
        }
        free(p);
    }
}

static void test_forged_rbf(void)
{
    unsigned char *good = NULL, *p = NULL, *f = NULL;
    size_t n = 0, plen = 0, flen = 0;
    stance_error e;
    stance_model *m = build_model(1);
    if (!CHECK(m && st_model_encode(m, &good, &n, &e) == STANCE_OK))
        goto out;
    if (!CHECK(unpack(good, n, &p, &plen) == 0))
        goto out;
    long at = find_section(p, plen, "SVMC");
    if (!CHECK(at >= 0))
        goto out;
    unsigned char *s = p + at + 12;
    size_t base = 12 + 8 + 72; /* nclass npairs kernel, gamma, rho/probA/probB */
    static const struct {
        size_t off;
        uint64_t val;
        int width;
        const char *want;
    } cases[] = {
        {0, 20000000, 8, "20000000 support vectors"},     /* nsv over the cap */
        {0, 3000000, 8, "truncated"},                     /* nsv within the cap, no bytes */
        {8, 2, 4, "hold 5 support vectors, not 4"},       /* nsv_class[0] */
        {8 + 12 + 64, 1, 8, "sv_start[0]"},               /* sv_start[0] != 0 */
        {8 + 12 + 64 + 16, 1, 8, "goes back"},            /* sv_start[2] < sv_start[1] */
        {8 + 12 + 64 + 32, 7, 8, "values"},               /* nnz too big */
        {8 + 12 + 64 + 40, 9, 4, "uses feature 9"},       /* sv_index past vocab */
        {8 + 12 + 64 + 40 + 4, 0, 4, "not above"},        /* sv_index order in vector 0 */
        {8 + 12 + 64 + 40 + 24, 0x7ff8000000000001u, 8, "sv_value[0]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char save[8];
        memcpy(save, s + base + cases[i].off, 8);
        le(s + base + cases[i].off, cases[i].val, cases[i].width);
        if (CHECK(repack(p, plen, &f, &flen) == 0)) {
            expect_bad(f, flen, "rbf case", (long)i, &e);
            CHECK_MSG(strstr(e.msg, "SVMC") && strstr(e.msg, cases[i].want),
                      "rbf case %zu: '%s' lacks '%s'", i, e.msg, cases[i].want);
            free(f);
        }
        memcpy(s + base + cases[i].off, save, 8);
    }
    /* RBF with liblinear is inconsistent */
    at = find_section(p, plen, "TRAI");
    if (CHECK(at >= 0)) {
        le(p + at + 12 + 4, STANCE_SOLVER_LIBLINEAR, 4);
        if (CHECK(repack(p, plen, &f, &flen) == 0)) {
            expect_bad(f, flen, "rbf liblinear", 0, &e);
            CHECK_MSG(strstr(e.msg, "libsvm") != NULL, "%s", e.msg);
            free(f);
        }
    }
out:
    free(good);
    free(p);
    stance_model_free(m);
}

/* Format 2 keeps its sections in order, so that a file is decoded as it is
 * read; format 1 took them in any order, and still does.  From a file, a
 * section that fails to decode must not hide a checksum mismatch. */
static void test_order(const unsigned char *good, size_t n)
{
    unsigned char *p = NULL, *q = NULL, *f = NULL;
    size_t plen = 0, flen = 0;
    stance_error e;
    stance_model *a = NULL, *b = NULL;
    if (!CHECK(unpack(good, n, &p, &plen) == 0) || !CHECK((q = malloc(plen)) != NULL))
        goto out;
    /* CVMT and SRCS swapped */
    long t = find_section(p, plen, "CVMT"), c = find_section(p, plen, "SRCS");
    long end = find_section(p, plen, "IDNT");
    if (!CHECK(t >= 0 && c > t && end > c))
        goto out;
    size_t tl = (size_t)(c - t), cl = (size_t)(end - c);
    memcpy(q, p, plen);
    memcpy(q + t, p + c, cl);
    memcpy(q + t + cl, p + t, tl);
    pack_format = 2;
    if (CHECK(repack(q, plen, &f, &flen) == 0)) {
        expect_bad(f, flen, "sections out of order", 0, &e);
        CHECK_MSG(strstr(e.msg, "section CVMT comes after SRCS") != NULL, "%s", e.msg);
        free(f);
    }
    pack_format = 1;
    if (CHECK(repack(q, plen, &f, &flen) == 0)) {
        CHECK_MSG(stance_model_load_buffer(f, flen, &a, &e) == STANCE_OK, "%s", e.msg);
        CHECK_MSG(load_from_file(f, flen, &b, &e) == STANCE_OK, "%s", e.msg);
        if (a && b) {
            unsigned char *ra = NULL, *rb = NULL;
            size_t na = 0, nb = 0;
            CHECK(st_model_encode(a, &ra, &na, &e) == STANCE_OK && same_bytes(ra, na, good, n));
            CHECK(st_model_encode(b, &rb, &nb, &e) == STANCE_OK && same_bytes(rb, nb, good, n));
            free(ra);
            free(rb);
        }
        free(f);
    }
    /* a required section missing before one that needs it */
    memcpy(q, p, plen);
    long ft = find_section(q, plen, "FEAT");
    if (CHECK(ft >= 0)) {
        memcpy(q + ft, "CVMT", 4);
        pack_format = 2;
        if (CHECK(repack(q, plen, &f, &flen) == 0)) {
            expect_bad(f, flen, "FEAT missing", 0, &e);
            CHECK_MSG(strstr(e.msg, "missing section FEAT") != NULL, "%s", e.msg);
            free(f);
        }
    }
    /* a broken section and a broken checksum: the checksum is the news */
    memcpy(q, p, plen);
    f_idf_nan(q, plen);
    if (CHECK(repack(q, plen, &f, &flen) == 0)) {
        expect_bad(f, flen, "idf NaN", 0, &e);
        CHECK_MSG(strstr(e.msg, "idf[2]") != NULL, "%s", e.msg);
        f[32] ^= 1;
        expect_bad(f, flen, "idf NaN and CRC", 0, &e);
        CHECK_MSG(strstr(e.msg, "checksum mismatch") != NULL, "%s", e.msg);
        free(f);
    }
out:
    pack_format = 2;
    free(p);
    free(q);
    stance_model_free(a);
    stance_model_free(b);
}

/* A model of K labels and NF features whose payload is larger than the
 * reader's buffer (K = 40: many features in each piece it reads; K = 257: a
 * feature's row alone is larger than the buffer): loading it from a file
 * gives what loading it from memory gives, and predictions agree with the
 * weights it was built with. */
static void test_large_stream(int K, uint32_t NF)
{
    stance_error e = {0};
    double *d1 = NULL, *d2 = NULL;
    stance_model *m = build_model(0), *a = NULL, *b = NULL;
    unsigned char *enc = NULL, *ra = NULL, *rb = NULL;
    size_t n = 0, na = 0, nb = 0;
    if (!CHECK(m != NULL))
        return;
    /* K labels, K (K - 1) / 2 pairs: for K = 40, 780 weights (6 KiB) a feature */
    for (int i = 0; i < m->nlabels; i++)
        free(m->labels[i]);
    free(m->labels);
    m->labels = calloc(K, sizeof *m->labels);
    m->nlabels = K;
    for (int i = 0; i < K && m->labels; i++) {
        char l[16];
        snprintf(l, sizeof l, "label%03d", i);
        m->labels[i] = st_strdup(l);
    }
    stance_metrics_free(m->cv);
    m->cv = NULL;
    for (size_t i = 0; i < m->nsources; i++) {
        free(m->sources[i].per_label);
        m->sources[i].per_label = calloc(K, sizeof(uint64_t));
        if (m->sources[i].per_label)
            m->sources[i].per_label[0] = m->sources[i].records;
    }
    st_svm *s = m->svm;
    int np = K * (K - 1) / 2;
    s->nclass = K;
    s->npairs = np;
    free(s->rho);
    free(s->probA);
    free(s->probB);
    free(s->w);
    free(m->vocab.bucket);
    free(m->vocab.idf);
    s->rho = calloc(np, sizeof(double));
    s->probA = calloc(np, sizeof(double));
    s->probB = calloc(np, sizeof(double));
    s->w = malloc((size_t)NF * np * sizeof(double));
    s->nfeat = NF;
    m->vocab.n = NF;
    m->vocab.bucket = malloc(NF * sizeof(uint32_t));
    m->vocab.idf = malloc(NF * sizeof(double));
    if (!CHECK(s->rho && s->probA && s->probB && s->w && m->vocab.bucket && m->vocab.idf))
        goto out;
    for (int p = 0; p < np; p++)
        s->probA[p] = -1;
    for (uint32_t f = 0; f < NF; f++) {
        m->vocab.bucket[f] = f * 7 + 1;
        m->vocab.idf[f] = 1.0 + (double)((f * 37) % 101) / 8; /* many ties, out of order */
        for (int p = 0; p < np; p++)
            s->w[(size_t)f * np + p] = (double)((f + 3 * (uint32_t)p) % 17) / 16 - 0.5;
    }
    if (!CHECK_MSG(st_model_encode(m, &enc, &n, &e) == STANCE_OK, "%s", e.msg))
        goto out;
    CHECK(n > ((size_t)1 << 18) * 4); /* several of the reader's buffers */
    CHECK_MSG(stance_model_load_buffer(enc, n, &a, &e) == STANCE_OK, "%s", e.msg);
    CHECK_MSG(load_from_file(enc, n, &b, &e) == STANCE_OK, "%s", e.msg);
    if (!a || !b)
        goto out;
    CHECK(a->svm->w == NULL && b->svm->w == NULL && b->svm->fused && b->svm->frow);
    int same = 1;
    for (uint32_t f = 0; f < NF; f++)
        same &= memcmp(st_svm_weights(b->svm, f), s->w + (size_t)f * np,
                       (size_t)np * sizeof(double)) == 0 &&
                memcmp(st_svm_weights(a->svm, f), s->w + (size_t)f * np,
                       (size_t)np * sizeof(double)) == 0;
    CHECK(same);
    /* the rows are in IDF order, padded with zeros, and every bucket finds
     * its feature's row */
    const double *fu = b->svm->fused;
    const size_t stride = b->svm->fstride;
    const st_rowmap map = st_svm_rowmap(b->svm);
    int ordered = 1, found = 1, padded = 1;
    CHECK(stride >= (size_t)np + 1 && stride % 4 == 0);
    for (uint32_t r = 1; r < NF; r++)
        ordered &= fu[(size_t)(r - 1) * stride] <= fu[(size_t)r * stride];
    for (uint32_t r = 0; r < NF; r++)
        for (size_t q = (size_t)np + 1; q < stride; q++)
            padded &= fu[(size_t)r * stride + q] == 0;
    for (uint32_t f = 0; f < NF; f++)
        found &= st_rowmap_find(&map, m->vocab.bucket[f]) == b->svm->frow[f] &&
                 fu[(size_t)b->svm->frow[f] * stride] == m->vocab.idf[f];
    CHECK(ordered);
    CHECK(padded);
    CHECK(found);
    CHECK(st_rowmap_find(&map, 2) == UINT32_MAX);
    /* decisions from the fused rows equal those from w */
    st_fvec x = {0};
    uint32_t idx[3] = {5, NF / 2 + 1, NF - 1};
    double val[3] = {0.5, -0.25, 0.75};
    d1 = malloc((size_t)np * sizeof *d1);
    d2 = malloc((size_t)np * sizeof *d2);
    x.index = idx;
    x.value = val;
    x.n = 3;
    if (CHECK(d1 && d2)) {
        st_svm_decision(s, &x, d1);
        st_svm_decision(b->svm, &x, d2);
        CHECK(memcmp(d1, d2, (size_t)np * sizeof *d1) == 0);
    }
    CHECK(st_model_encode(a, &ra, &na, &e) == STANCE_OK && same_bytes(ra, na, enc, n));
    CHECK(st_model_encode(b, &rb, &nb, &e) == STANCE_OK && same_bytes(rb, nb, enc, n));
    /* cut short on disk: refused the same way from memory and from a file */
    expect_bad(enc, n - 100000, "large truncated", 0, NULL);
out:
    free(d1);
    free(d2);
    free(enc);
    free(ra);
    free(rb);
    stance_model_free(m);
    stance_model_free(a);
    stance_model_free(b);
}

/* Every committed broken file must be refused (run from the repo root). */
static void test_bad_models_dir(void)
{
    const char *dir = "tests/bad-models";
    DIR *d = opendir(dir);
    if (!d) {
        printf("test_model_file: %s not found (not run from the repository root); skipped\n",
               dir);
        return;
    }
    int seen = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 4, ".stm") != 0)
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        stance_model *m = SENTINEL;
        stance_error e = {0};
        int rc = stance_model_load(path, &m, &e);
        CHECK_MSG((rc == STANCE_ERR_MODEL || rc == STANCE_ERR_VERSION) && m == NULL &&
                      strncmp(e.msg, path, strlen(path)) == 0,
                  "%s: rc %d, '%s'", path, rc, e.msg);
        seen++;
    }
    closedir(d);
    CHECK_MSG(seen >= 4, "only %d .stm files in %s", seen, dir);
}

static int write_model(const char *path, int rbf, int v1)
{
    stance_error e = {0};
    stance_model *m = build_model(rbf);
    int rc = m ? stance_model_save(m, path, &e) : STANCE_ERR_NOMEM;
    stance_model_free(m);
    if (rc != STANCE_OK) {
        fprintf(stderr, "test_model_file: %s\n", e.msg);
        return 1;
    }
    if (v1) { /* the same payload, deflated */
        unsigned char *file = NULL, *p = NULL, *f1 = NULL;
        size_t n = 0, plen = 0, n1 = 0;
        FILE *f = fopen(path, "rb");
        file = malloc(1 << 20);
        n = f && file ? fread(file, 1, 1 << 20, f) : 0;
        if (f)
            fclose(f);
        pack_format = 1;
        rc = n > 0 && unpack(file, n, &p, &plen) == 0 && repack(p, plen, &f1, &n1) == 0 &&
             write_file(path, f1, n1) == 0;
        free(file);
        free(p);
        free(f1);
        if (!rc) {
            fprintf(stderr, "test_model_file: cannot write %s in format 1\n", path);
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && argc <= 5 && strcmp(argv[1], "--write-model") == 0) {
        int rbf = 0, v1 = 0;
        for (int i = 3; i < argc; i++) {
            if (strcmp(argv[i], "rbf") == 0)
                rbf = 1;
            else if (strcmp(argv[i], "v1") == 0)
                v1 = 1;
            else
                return 2;
        }
        return write_model(argv[2], rbf, v1);
    }

    int tfd = -1;
    snprintf(file_path, sizeof file_path, "/tmp/test_model_file.XXXXXX");
    if (!CHECK((tfd = mkstemp(file_path)) >= 0))
        return UNIT_REPORT("test_model_file");
    close(tfd);

    test_sha256();
    test_crc32();
    test_round_trip(0, 1);
    test_round_trip(1, 1);
    test_round_trip(0, 0);
    test_encode_refuses();
    test_save_load();

    stance_error e = {0};
    unsigned char *good = NULL;
    size_t n = 0;
    stance_model *m = build_model(0);
    if (CHECK(m && st_model_encode(m, &good, &n, &e) == STANCE_OK)) {
        CHECK_INT(good[8], 2);
        test_truncation(good, n);
        test_bit_flips(good, n, good, n);
        test_header_cases(good, n, 2);
        test_forged(good, n);
        test_order(good, n);
        /* the same broken files in format 1, which must still load */
        unsigned char *p = NULL, *v1 = NULL;
        size_t plen = 0, n1 = 0;
        pack_format = 1;
        if (CHECK(unpack(good, n, &p, &plen) == 0) && CHECK(repack(p, plen, &v1, &n1) == 0)) {
            stance_model *d = NULL;
            CHECK_MSG(stance_model_load_buffer(v1, n1, &d, &e) == STANCE_OK, "%s", e.msg);
            if (d) {
                check_equal_models(m, d);
                CHECK_INT(d->format, 1);
            }
            stance_model_free(d);
            test_truncation(v1, n1);
            test_bit_flips(v1, n1, good, n);
            test_header_cases(v1, n1, 1);
            test_forged(v1, n1);
            test_forged_rbf();
        }
        pack_format = 2;
        free(p);
        free(v1);
    }
    free(good);
    stance_model_free(m);
    test_forged_rbf();
    test_large_stream(40, 3000);
    test_large_stream(257, 12);
    test_bad_models_dir();
    unlink(file_path);
    return UNIT_REPORT("test_model_file");
}
