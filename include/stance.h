/*
 * stance.h - label the sentences of diplomatic text with the stance they express.
 *
 * The pipeline, one stage per library module:
 *
 *   text -> sentences -> tokens -> features -> SVM -> model file
 *
 * Everything a caller may touch is declared here.  Handles are opaque.  Every
 * fallible function returns a stance_status (STANCE_OK is 0, failures are
 * negative) and, when the caller passes a stance_error, fills it with a
 * sentence naming the file and line where that makes sense, for example
 * "corpus.tsv:118: unknown label 'condemn'".
 *
 * Ownership: arguments are borrowed for the duration of the call unless a
 * comment says otherwise; objects returned through out-parameters are owned by
 * the caller and released with the matching _free function, which accepts
 * NULL.  The library never prints, never exits, never aborts and never calls
 * setlocale.
 *
 * Threads: a loaded stance_model is read-only and may be shared by any number
 * of threads.  A stance_session is a per-thread workspace: use one per thread.
 */
#ifndef STANCE_H
#define STANCE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STANCE_VERSION "0.1.0"

/* ---------------------------------------------------------------- errors */

typedef enum stance_status {
    STANCE_OK = 0,
    STANCE_ERR_NOMEM = -1,    /* out of memory */
    STANCE_ERR_IO = -2,       /* a file could not be opened, read or written */
    STANCE_ERR_FORMAT = -3,   /* malformed input: corpus, document, record */
    STANCE_ERR_MODEL = -4,    /* malformed, corrupt or truncated model file */
    STANCE_ERR_VERSION = -5,  /* model file from a newer format version */
    STANCE_ERR_ARG = -6,      /* invalid argument or parameter */
    STANCE_ERR_BINARY = -7,   /* document contains NUL bytes */
    STANCE_ERR_TOOBIG = -8,   /* input over a configured or built-in limit */
    STANCE_ERR_ICU = -9,      /* the ICU library reported a failure */
    STANCE_ERR_TRAIN = -10    /* training impossible (e.g. fewer than 2 labels) */
} stance_status;

/* Filled by failing calls.  msg is always NUL-terminated. */
typedef struct stance_error {
    int code;       /* the stance_status returned */
    char msg[512];  /* "FILE:LINE: what is wrong", or a plain sentence */
} stance_error;

/* "stance 0.1.0 (libsvm 324, liblinear 230, ICU 72.1, utf8proc 2.8.0, zlib
 * 1.2.13)": the versions this library runs with.  Static storage. */
const char *stance_versions(void);

/* A static English name for a status ("malformed model file", ...). */
const char *stance_status_name(int status);

/* ----------------------------------------------------------------- model */

typedef struct stance_model stance_model;

/* Read and fully validate a model file (magic, version, checksum, every count
 * and offset) before anything in it is used.  Files of format 2 (what
 * stance_model_save writes) and of format 1 (earlier versions) are read.  On
 * failure *out is NULL and the status is STANCE_ERR_MODEL,
 * STANCE_ERR_VERSION, STANCE_ERR_IO, STANCE_ERR_NOMEM or (a NULL argument)
 * STANCE_ERR_ARG. */
int stance_model_load(const char *path, stance_model **out, stance_error *err);

/* The same from a buffer in memory (used by the fuzz targets).  The buffer is
 * borrowed; the model does not point into it. */
int stance_model_load_buffer(const void *data, size_t len, stance_model **out,
                             stance_error *err);

/* Write the model to path: written to a temporary file in the same folder,
 * fsync'ed, then renamed into place, so a crash never leaves half a file. */
int stance_model_save(const stance_model *m, const char *path, stance_error *err);
/* The same in format 1: the payload deflated (zlib), about a third smaller
 * and about three times slower to load; for models that travel. */
int stance_model_save_compressed(const stance_model *m, const char *path, stance_error *err);

void stance_model_free(stance_model *m);

/* Number of labels, and label i (0 <= i < n).  The string belongs to the model
 * and lives as long as it. Labels are sorted in byte order. */
int stance_model_nlabels(const stance_model *m);
const char *stance_model_label(const stance_model *m, int i);

/* A short stable identifier of the model: the first 16 hex digits of the
 * SHA-256 of its encoded content, recorded in the file.  Models with the same
 * content have the same id.  Owned by the model. */
const char *stance_model_id(const stance_model *m);

/* A JSON object describing the model: format, labels, feature settings,
 * training parameters, cross-validation metrics and provenance.  The string
 * is owned by the caller (free()).  Returns NULL when out of memory. */
char *stance_model_info_json(const stance_model *m);

/* -------------------------------------------------------- classification */

/* One sentence of a classified document. */
typedef struct stance_sentence {
    size_t start;         /* byte offset of the first byte in the document */
    size_t end;           /* byte offset one past the last byte */
    int label;            /* index into the model's labels */
    const double *probs;  /* stance_model_nlabels() probabilities, sum 1 */
} stance_sentence;

/* The result of classifying one document.  Owned by the session and valid
 * until the next call on that session or its free. */
typedef struct stance_result {
    size_t n;                         /* number of sentences */
    const stance_sentence *sentences;
    size_t invalid_utf8;              /* invalid sequences replaced by U+FFFD */
} stance_result;

/* Flags for stance_classify and stance_segment. */
enum {
    STANCE_WRAPPED = 1u << 0  /* single line breaks inside paragraphs are spaces */
};

typedef struct stance_session stance_session;

/* A per-thread workspace (ICU iterators, buffers) bound to a model, which must
 * outlive the session.  m may be NULL for a segmentation-only session. */
int stance_session_new(const stance_model *m, stance_session **out, stance_error *err);
void stance_session_free(stance_session *s);

/* Segment and classify a document of len bytes (need not be NUL-terminated).
 * Invalid UTF-8 is replaced and counted, never fatal; a NUL byte makes the
 * document binary (STANCE_ERR_BINARY).  Offsets refer to the caller's bytes. */
int stance_classify(stance_session *s, const char *text, size_t len, unsigned flags,
                    const stance_result **out, stance_error *err);

/* Segment only: sentences with offsets, label -1 and probs NULL. */
int stance_segment(stance_session *s, const char *text, size_t len, unsigned flags,
                   const stance_result **out, stance_error *err);

/* The normalised tokens of one sentence, separated by single spaces, as the
 * feature extractor sees them (for inspection and tests).  Owned by the
 * session, valid until its next call. */
int stance_tokens(stance_session *s, const char *text, size_t len, const char **out,
                  stance_error *err);

/* ----------------------------------------------------------------- input */

/* Read a whole file, or standard input for "-", gunzipping transparently when
 * it starts with the gzip magic (concatenated members too).  A truncated or
 * corrupt gzip stream is STANCE_ERR_FORMAT naming the file; more than
 * max_bytes (0: no limit) of content is STANCE_ERR_TOOBIG.  *out is
 * NUL-terminated and owned by the caller (free()). */
int stance_read_file(const char *path, size_t max_bytes, char **out, size_t *len,
                     stance_error *err);

/* A file, or standard input, read piece by piece. */
typedef struct stance_stream stance_stream;

/* Open path ("-": standard input) for reading; a gzip file (by its magic
 * bytes) is inflated member after member as it is read. */
int stance_stream_open(const char *path, stance_stream **out, stance_error *err);

/* Read up to n bytes into buf; *got is 0 at the end of the data.  A read
 * gives what has arrived without waiting for more, so that a pipe that
 * delivers slowly is read as it delivers: fewer than n bytes before the end
 * are normal.  A gzip
 * member cut short, corrupt deflate data, or bytes after a member that are
 * not another member are STANCE_ERR_FORMAT naming the file and the byte; a
 * read error is STANCE_ERR_IO. */
int stance_stream_read(stance_stream *s, void *buf, size_t n, size_t *got, stance_error *err);

/* Wait up to timeout_ms for something to read: 1 when a read would not
 * wait (data has arrived or is buffered, the input has ended, or an error
 * waits to be reported), 0 when nothing came in time.  For callers that
 * want to act on what they have while the input pauses. */
int stance_stream_ready(stance_stream *s, int timeout_ms);

/* Bytes taken from the file so far (compressed bytes for gzip). */
uint64_t stance_stream_offset(const stance_stream *s);

/* Close the file (standard input stays open); accepts NULL. */
void stance_stream_close(stance_stream *s);

/* Copy len bytes of src to dst, replacing each invalid UTF-8 sequence by
 * U+FFFD (EF BF BD), and NUL-terminate.  dst must hold 3 * len + 1 bytes.
 * Returns the output length; *ninvalid (may be NULL) counts replacements. */
size_t stance_utf8_repair(const char *src, size_t len, char *dst, size_t *ninvalid);

/* The offset of the first invalid UTF-8 sequence in s[0..len), or len if
 * there is none: where stance_utf8_repair would first write U+FFFD.  NUL
 * bytes are valid UTF-8 here. */
size_t stance_utf8_valid_prefix(const char *s, size_t len);

/* ---------------------------------------------------------------- corpus */

typedef struct stance_corpus stance_corpus;

int stance_corpus_new(stance_corpus **out);
void stance_corpus_free(stance_corpus *c);

/* Read a labelled corpus file and append its records: TSV with a header that
 * has `label` and `text` columns (other columns are kept as metadata), or
 * JSON Lines with `label` and `text` fields (by the name ending in .jsonl);
 * either may be gzip-compressed (.gz).  Exact duplicates (same label and
 * text, also across files) are dropped and counted.  A malformed record is an
 * error naming file and line; nothing is appended from a file that fails. */
int stance_corpus_add_file(stance_corpus *c, const char *path, stance_error *err);

/* Append one record (no metadata).  Copies both strings.  The same duplicate
 * rule applies; *added (may be NULL) says whether it was kept. */
int stance_corpus_add(stance_corpus *c, const char *label, const char *text, int *added,
                      stance_error *err);

size_t stance_corpus_size(const stance_corpus *c);
size_t stance_corpus_duplicates(const stance_corpus *c);
const char *stance_corpus_text(const stance_corpus *c, size_t i);
const char *stance_corpus_label(const stance_corpus *c, size_t i);
/* The value of metadata column `name` for record i, or NULL. */
const char *stance_corpus_field(const stance_corpus *c, size_t i, const char *name);

/* -------------------------------------------------------------- training */

typedef enum stance_kernel {
    STANCE_KERNEL_LINEAR = 0,
    STANCE_KERNEL_RBF = 1
} stance_kernel;

typedef enum stance_solver {
    STANCE_SOLVER_AUTO = 0,      /* libsvm up to large_corpus sentences, liblinear up to
                                  * huge_corpus, our dual coordinate descent above */
    STANCE_SOLVER_LIBSVM = 1,
    STANCE_SOLVER_LIBLINEAR = 2,
    STANCE_SOLVER_DCD = 3        /* linear only: liblinear's problem and stopping rule,
                                  * our own code, class pairs on all threads */
} stance_solver;

typedef enum stance_calibration {
    STANCE_CALIBRATION_AUTO = 0,    /* 5-fold up to huge_corpus sentences, held-out above
                                     * (for class pairs of 2,500 examples or more) */
    STANCE_CALIBRATION_CV = 1,      /* Platt on 5-fold cross-validated decision values */
    STANCE_CALIBRATION_HOLDOUT = 2  /* Platt on one held-out fifth of each class pair */
} stance_calibration;

typedef struct stance_train_params {
    stance_kernel kernel;      /* default linear */
    stance_solver solver;      /* default auto */
    double C;                  /* default 1 */
    double gamma;              /* RBF only; 0 means 1/features */
    int balanced;              /* class weights n/(k*n_c); default 1 */
    int word_ngram_max;        /* 1..3, default 2 */
    int char_ngram_min;        /* default 5; 0 disables character n-grams */
    int char_ngram_max;        /* default 5 */
    int hash_bits;             /* log2 of the bucket count, 16..24, default 22 */
    uint32_t hash_seed;        /* default 0x5eed */
    int min_df;                /* drop features seen in fewer sentences; default 2 */
    int cv_folds;              /* 0: none; else k-fold metrics recorded in the model */
    const char *group_by;      /* metadata column: no group in two folds; NULL */
    int grid;                  /* choose C (and gamma) by cross-validation */
    uint64_t seed;             /* folds, shuffles, probability calibration; default 1 */
    size_t large_corpus;       /* auto solver switch point; default 2000 */
    int threads;               /* class pairs trained at once; default 1 */
    size_t huge_corpus;        /* auto solver and calibration switch; default 10000 */
    stance_calibration calibration; /* Platt's decision values; default auto */
} stance_train_params;

void stance_train_params_default(stance_train_params *p);

/* Evaluation results: per-class precision, recall, F1 and support, accuracy,
 * macro averages (over the labels that occur in the gold data or the
 * predictions), support-weighted averages and the confusion matrix. */
typedef struct stance_metrics {
    int nlabels;
    char **labels;        /* nlabels names */
    long *confusion;      /* nlabels*nlabels, row = gold, column = predicted */
    double *precision, *recall, *f1;
    long *support;
    long total;
    double accuracy;
    double macro_precision, macro_recall, macro_f1;
    double weighted_precision, weighted_recall, weighted_f1;
} stance_metrics;

void stance_metrics_free(stance_metrics *mt);

/* A progress callback for long training; may be NULL.  `what` is a static
 * description, done/total count units of work. */
typedef void (*stance_progress_fn)(void *ctx, const char *what, long done, long total);

/* Train a model on the corpus.  With p->cv_folds > 0 the k-fold metrics are
 * also stored in the model and returned through cv (may be NULL; caller frees
 * with stance_metrics_free).  Deterministic: the same corpus, parameters and
 * seed give a byte-identical model file.  `sources` names the corpus files
 * for the provenance record (may be NULL). */
int stance_train(const stance_corpus *c, const stance_train_params *p,
                 const char *const *sources, size_t nsources,
                 stance_progress_fn progress, void *progress_ctx,
                 stance_model **out, stance_metrics **cv, stance_error *err);

/* Classify every record of the corpus with the model and compare with its
 * labels.  Gold labels the model does not know count as errors in their own
 * row. */
int stance_evaluate(const stance_model *m, const stance_corpus *c,
                    stance_metrics **out, stance_error *err);

/* The metrics as a JSON object; caller frees.  NULL when out of memory. */
char *stance_metrics_json(const stance_metrics *mt);

/* The metrics as a plain-text report (per-class table, averages, confusion
 * matrix); caller frees.  NULL when out of memory. */
char *stance_metrics_text(const stance_metrics *mt);

/* ----------------------------------------------------------- JSON Lines */

/* One member of a parsed JSON object: raw byte spans into the parsed line. */
typedef struct stance_json_member {
    const char *key;   /* the key, without quotes, still escaped */
    size_t key_len;
    const char *value; /* the raw value text as in the input (string incl. quotes) */
    size_t value_len;
    int is_string;
} stance_json_member;

/* Parse one JSON object (a JSON Lines record) of len bytes, checking the whole
 * syntax and nesting (depth up to 64).  Fills up to cap members, *n gets the
 * total count.  Nothing is allocated; spans point into line. */
int stance_json_parse_object(const char *line, size_t len, stance_json_member *members,
                             size_t cap, size_t *n, stance_error *err);

/* Decode a JSON string value (with its quotes) into newly allocated UTF-8.
 * *out is owned by the caller; *out_len excludes the added NUL. */
int stance_json_decode_string(const char *value, size_t len, char **out, size_t *out_len,
                              stance_error *err);

/* Append text as a JSON string (with quotes) to a growable buffer.  *buf is
 * realloc'ed; *len and *cap track it. */
int stance_json_append_string(char **buf, size_t *len, size_t *cap, const char *text,
                              size_t text_len);

/* ---- export (benchmarks and interop) */

/* Write the model's classifier as a libsvm text model that svm-predict (and
 * svm_load_model) reads, with probA/probB, so that `svm-predict -b 1` on the
 * vectors of stance_session_features gives the labels and probabilities that
 * stance_classify gives.  Labels are the model's label indices 0..k-1 (in
 * the order of stance_model_label).  A linear model's pairwise weight vector
 * w_p for the classes (i, j), i < j, becomes one pseudo support vector of
 * class i whose coefficient is 1 against class j and 0 against every other
 * class, so libsvm's decision value is w_p . x - rho_p, the same sum as
 * ours; an RBF model's support vectors are written as they are.  Numbers
 * have 17 significant digits and read back exactly.  Written to a temporary
 * file and renamed into place.  Feature indices in the file are 1-based. */
int stance_model_export_libsvm(const stance_model *m, const char *path, stance_error *err);

/* Called once per sentence, in order: `sentence` is its index in the
 * document; s has its byte offsets, predicted label and probabilities;
 * index[0..n) are 0-based feature indices, ascending, and value[0..n) the
 * L2-normalised tf-idf values: exactly the vector the classifier sees.  All
 * pointers are valid during the call only.  Return 0 to go on; anything
 * else stops stance_session_features, which then returns STANCE_ERR_IO. */
typedef int (*stance_features_fn)(void *ctx, size_t sentence, const stance_sentence *s,
                                  const uint32_t *index, const double *value, size_t n);

/* Classify a document as stance_classify does (same flags, errors and
 * results) and call cb for every sentence with its feature vector. */
int stance_session_features(stance_session *s, const char *text, size_t len, unsigned flags,
                            stance_features_fn cb, void *ctx, stance_error *err);

#ifdef __cplusplus
}
#endif
#endif /* STANCE_H */
