/* cmd_train.c - `stance train`: corpora in, a model file out, with an
 * optional cross-validated evaluation report. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: stance train -o MODEL [options] CORPUS...\n\n"
    "Train a model on one or more labelled corpora, merged.  A corpus is TSV with a\n"
    "header naming at least `label` and `text` columns (other columns such as id,\n"
    "lang, situation are kept), or JSON Lines (.jsonl) with `label` and `text`\n"
    "fields; either may be gzip-compressed (.gz).  Exact duplicates are dropped and\n"
    "reported.  The labels are whatever the data uses.\n\n"
    "  -o, --output MODEL     where to write the model (required)\n"
    "      --cv K             K-fold cross-validation: report and record macro-F1,\n"
    "                         per-class F1 and the confusion matrix\n"
    "      --group-by FIELD   keep all records with the same FIELD value (e.g.\n"
    "                         situation) in one fold: the honest estimate on unseen\n"
    "                         situations\n"
    "      --grid             choose C from 0.3, 1, 3 (and gamma from 0.5, 1, 2 for\n"
    "                         RBF) by calibrated cross-validation on <= 5 folds\n"
    "      --kernel K         linear (default) or rbf\n"
    "  -c, --cost C           SVM cost (default 1)\n"
    "      --gamma G          RBF width (default 1; vectors have unit length)\n"
    "      --solver S         auto (default), libsvm, liblinear or dcd (our own dual\n"
    "                         coordinate descent on all threads; linear kernel only);\n"
    "                         auto uses libsvm up to 2000 sentences, liblinear up to\n"
    "                         10000 and dcd above\n"
    "      --calibration M    how Platt sigmoids get out-of-sample decision values:\n"
    "                         cv (5-fold), holdout (one held-out fifth) or auto\n"
    "                         (default: cv up to 10000 sentences, holdout above)\n"
    "      --class-weight W   balanced (default) or none\n"
    "      --word-ngrams N    word n-grams up to N (1-3, default 2)\n"
    "      --char-ngrams A-B  character n-grams from A to B code points (default 5-5),\n"
    "                         or none\n"
    "      --hash-bits N      feature hash buckets 2^N (16-24, default 22)\n"
    "      --min-df N         drop features seen in fewer than N sentences (default 2)\n"
    "      --seed N           seed for folds and calibration (default 1)\n"
    "  -j, --threads N        class pairs trained in parallel (default: all cores)\n"
    "      --json             print the report as JSON\n"
    "  -q, --quiet            print nothing but errors\n\n"
    "Training is deterministic: the same corpora, options and seed give a\n"
    "byte-identical model file.\n";

static int show_progress;

static void progress(void *ctx, const char *what, long done, long total)
{
    (void)ctx;
    if (!show_progress)
        return;
    fprintf(stderr, "\r%-20s %ld/%ld", what, done, total);
    if (done == total)
        fputc('\n', stderr);
    fflush(stderr);
}

/* A label that differs from another only in case, or that has a handful of
 * sentences (under 10, and 20 times fewer than the largest label), is most
 * likely a typo in an added corpus: it would silently become a class of its
 * own. */
static void warn_labels(const stance_corpus *c)
{
    enum { MAXL = 256 };
    const char *label[MAXL];
    size_t count[MAXL], nl = 0, most = 0;
    for (size_t i = 0; i < stance_corpus_size(c); i++) {
        const char *l = stance_corpus_label(c, i);
        size_t j = 0;
        while (j < nl && strcmp(label[j], l) != 0)
            j++;
        if (j == nl) {
            if (nl == MAXL)
                return; /* not a label set anyone types by hand */
            label[nl] = l;
            count[nl++] = 0;
        }
        if (++count[j] > most)
            most = count[j];
    }
    for (size_t a = 0; a < nl; a++) {
        for (size_t b = a + 1; b < nl; b++)
            if (strcasecmp(label[a], label[b]) == 0)
                cli_error("train", "warning: labels '%s' and '%s' differ only in case: they are "
                                   "trained as two classes", label[a], label[b]);
        if (count[a] < 10 && most >= 20 * count[a])
            cli_error("train", "warning: label '%s' has only %zu sentence%s (the largest has %zu)",
                      label[a], count[a], count[a] == 1 ? "" : "s", most);
    }
}

int cmd_train(int argc, char **argv)
{
    enum { O_CV = 256, O_GROUP, O_GRID, O_KERNEL, O_GAMMA, O_SOLVER, O_CW, O_WORD, O_CHAR,
           O_BITS, O_MINDF, O_SEED, O_JSON, O_CALIB };
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},    {"cv", required_argument, NULL, O_CV},
        {"group-by", required_argument, NULL, O_GROUP}, {"grid", no_argument, NULL, O_GRID},
        {"kernel", required_argument, NULL, O_KERNEL}, {"cost", required_argument, NULL, 'c'},
        {"gamma", required_argument, NULL, O_GAMMA}, {"solver", required_argument, NULL, O_SOLVER},
        {"class-weight", required_argument, NULL, O_CW},
        {"calibration", required_argument, NULL, O_CALIB},
        {"word-ngrams", required_argument, NULL, O_WORD},
        {"char-ngrams", required_argument, NULL, O_CHAR},
        {"hash-bits", required_argument, NULL, O_BITS},
        {"min-df", required_argument, NULL, O_MINDF}, {"seed", required_argument, NULL, O_SEED},
        {"threads", required_argument, NULL, 'j'},   {"json", no_argument, NULL, O_JSON},
        {"quiet", no_argument, NULL, 'q'},          {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    stance_train_params p;
    stance_train_params_default(&p);
    long nproc = sysconf(_SC_NPROCESSORS_ONLN);
    p.threads = nproc > 0 ? (int)nproc : 1;
    const char *output = NULL;
    int quiet = 0, json = 0, opt;
    long v;
    double d;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "o:c:j:qh", opts, NULL)) != -1) {
        switch (opt) {
        case 'o': output = optarg; break;
        case O_CV:
            if (cli_parse_long("train", "--cv", optarg, 2, 100, &v))
                return EXIT_USAGE;
            p.cv_folds = (int)v;
            break;
        case O_GROUP: p.group_by = optarg; break;
        case O_GRID: p.grid = 1; break;
        case O_KERNEL:
            if (strcmp(optarg, "linear") == 0)
                p.kernel = STANCE_KERNEL_LINEAR;
            else if (strcmp(optarg, "rbf") == 0)
                p.kernel = STANCE_KERNEL_RBF;
            else {
                cli_error("train", "--kernel: expected linear or rbf, got '%s'", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'c':
            if (cli_parse_double("train", "--cost", optarg, 1e-6, 1e6, &d))
                return EXIT_USAGE;
            p.C = d;
            break;
        case O_GAMMA:
            if (cli_parse_double("train", "--gamma", optarg, 1e-9, 1e6, &d))
                return EXIT_USAGE;
            p.gamma = d;
            break;
        case O_SOLVER:
            if (strcmp(optarg, "auto") == 0)
                p.solver = STANCE_SOLVER_AUTO;
            else if (strcmp(optarg, "libsvm") == 0)
                p.solver = STANCE_SOLVER_LIBSVM;
            else if (strcmp(optarg, "liblinear") == 0)
                p.solver = STANCE_SOLVER_LIBLINEAR;
            else if (strcmp(optarg, "dcd") == 0)
                p.solver = STANCE_SOLVER_DCD;
            else {
                cli_error("train", "--solver: expected auto, libsvm, liblinear or dcd, got '%s'",
                          optarg);
                return EXIT_USAGE;
            }
            break;
        case O_CALIB:
            if (strcmp(optarg, "auto") == 0)
                p.calibration = STANCE_CALIBRATION_AUTO;
            else if (strcmp(optarg, "cv") == 0)
                p.calibration = STANCE_CALIBRATION_CV;
            else if (strcmp(optarg, "holdout") == 0)
                p.calibration = STANCE_CALIBRATION_HOLDOUT;
            else {
                cli_error("train", "--calibration: expected auto, cv or holdout, got '%s'",
                          optarg);
                return EXIT_USAGE;
            }
            break;
        case O_CW:
            if (strcmp(optarg, "balanced") == 0)
                p.balanced = 1;
            else if (strcmp(optarg, "none") == 0)
                p.balanced = 0;
            else {
                cli_error("train", "--class-weight: expected balanced or none, got '%s'", optarg);
                return EXIT_USAGE;
            }
            break;
        case O_WORD:
            if (cli_parse_long("train", "--word-ngrams", optarg, 1, 3, &v))
                return EXIT_USAGE;
            p.word_ngram_max = (int)v;
            break;
        case O_CHAR: {
            if (strcmp(optarg, "none") == 0) {
                p.char_ngram_min = p.char_ngram_max = 0;
                break;
            }
            int a, b;
            char extra;
            if (sscanf(optarg, "%d-%d%c", &a, &b, &extra) != 2 || a < 1 || b < a || b > 8) {
                cli_error("train", "--char-ngrams: expected A-B with 1 <= A <= B <= 8, or none, "
                                   "got '%s'", optarg);
                return EXIT_USAGE;
            }
            p.char_ngram_min = a;
            p.char_ngram_max = b;
            break;
        }
        case O_BITS:
            if (cli_parse_long("train", "--hash-bits", optarg, 16, 24, &v))
                return EXIT_USAGE;
            p.hash_bits = (int)v;
            break;
        case O_MINDF:
            if (cli_parse_long("train", "--min-df", optarg, 1, 1000000, &v))
                return EXIT_USAGE;
            p.min_df = (int)v;
            break;
        case O_SEED:
            if (cli_parse_long("train", "--seed", optarg, 0, 2147483647L, &v))
                return EXIT_USAGE;
            p.seed = (uint64_t)v;
            break;
        case 'j':
            if (cli_parse_long("train", "--threads", optarg, 1, 64, &v))
                return EXIT_USAGE;
            p.threads = (int)v;
            break;
        case O_JSON: json = 1; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(usage_text, stdout); return cli_finish_stdout("train");
        default: fputs(usage_text, stderr); return EXIT_USAGE;
        }
    }
    if (!output) {
        cli_error("train", "-o MODEL is required");
        return EXIT_USAGE;
    }
    if (optind >= argc) {
        cli_error("train", "no corpus files given");
        return EXIT_USAGE;
    }
    if (p.group_by && !p.cv_folds && !p.grid) {
        cli_error("train", "--group-by only shapes cross-validation: add --cv K or --grid");
        return EXIT_USAGE;
    }
    {
        /* fail now, not after minutes of training, if the model cannot be
         * written where asked */
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", output);
        char *slash = strrchr(dir, '/');
        if (slash)
            *(slash == dir ? slash + 1 : slash) = '\0';
        else
            snprintf(dir, sizeof dir, ".");
        if (access(dir, W_OK) != 0) {
            cli_error("train", "%s: cannot write the model there: %s", output, strerror(errno));
            return EXIT_IO;
        }
    }
    struct stat ost;
    if (stat(output, &ost) == 0)
        for (int i = optind; i < argc; i++) {
            struct stat ist;
            if (stat(argv[i], &ist) == 0 && ist.st_dev == ost.st_dev && ist.st_ino == ost.st_ino) {
                cli_error("train", "-o %s is the corpus %s: refusing to overwrite it", output,
                          argv[i]);
                return EXIT_USAGE;
            }
        }
    show_progress = !quiet && isatty(STDERR_FILENO);
    stance_corpus *c = NULL;
    stance_model *m = NULL;
    stance_metrics *cv = NULL;
    stance_error err = {0};
    int status = EXIT_OK, rc;
    if (stance_corpus_new(&c)) {
        cli_error("train", "out of memory");
        return EXIT_IO;
    }
    for (int i = optind; i < argc; i++) {
        size_t before = stance_corpus_size(c), dup = stance_corpus_duplicates(c);
        rc = stance_corpus_add_file(c, argv[i], &err);
        if (rc) {
            cli_error("train", "%s", err.msg);
            status = cli_exit_code(rc);
            goto done;
        }
        if (!quiet && !json)
            fprintf(stderr, "%s: %zu records", argv[i], stance_corpus_size(c) - before);
        if (!quiet && !json && stance_corpus_duplicates(c) > dup)
            fprintf(stderr, ", %zu exact duplicates dropped", stance_corpus_duplicates(c) - dup);
        if (!quiet && !json)
            fputc('\n', stderr);
    }
    if (!quiet)
        warn_labels(c);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = stance_train(c, &p, (const char *const *)(argv + optind), (size_t)(argc - optind),
                      progress, NULL, &m, &cv, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc) {
        cli_error("train", "%s", err.msg);
        status = cli_exit_code(rc);
        goto done;
    }
    rc = stance_model_save(m, output, &err);
    if (rc) {
        cli_error("train", "%s", err.msg);
        status = cli_exit_code(rc);
        goto done;
    }
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (json && !quiet) {
        char *info = stance_model_info_json(m);
        if (!info) {
            status = EXIT_IO;
            goto done;
        }
        printf("{\"model\":");
        char *q = NULL;
        size_t ql = 0, qc = 0;
        stance_json_append_string(&q, &ql, &qc, output, strlen(output));
        printf("%s,\"seconds\":%.3f,\"info\":%s}\n", q ? q : "\"\"", secs, info);
        free(q);
        free(info);
    } else if (!quiet) {
        printf("trained on %zu sentences (%zu exact duplicates dropped) in %.1f s\n",
               stance_corpus_size(c), stance_corpus_duplicates(c), secs);
        if (cv) {
            char *t = stance_metrics_text(cv);
            printf("\n%d-fold cross-validation%s%s%s:\n%s\n", p.cv_folds,
                   p.group_by ? " grouped by " : "", p.group_by ? p.group_by : "",
                   p.grid ? " (after grid search)" : "", t ? t : "");
            free(t);
        }
        printf("model %s written to %s\n", stance_model_id(m), output);
    }
done:;
    int fin = cli_finish_stdout("train");
    if (fin && !status)
        status = fin;
    stance_metrics_free(cv);
    stance_model_free(m);
    stance_corpus_free(c);
    return status;
}
