/*
 * corpus.h - what the corpus module shares with the trainer, the model's
 * provenance record, the unit tests and the fuzz targets.  Not installed.
 *
 * Files are numbered 0.. in the order they were added successfully; a file
 * that failed left no trace.  Strings returned here belong to the corpus and
 * live as long as it.
 */
#ifndef STANCE_CORPUS_H
#define STANCE_CORPUS_H

#include "internal.h"

/* The longest line accepted in a corpus file, in bytes without the '\n'. */
#define ST_CORPUS_MAX_LINE ((size_t)1 << 20)

/* Records kept although a record with the same text but another label was
 * already in the corpus (kept, not dropped; the trainer may warn). */
STANCE_HIDDEN size_t st_corpus_conflicts(const stance_corpus *c);

/* The file record i came from (an index below st_corpus_nfiles), or -1 for a
 * record added with stance_corpus_add. */
STANCE_HIDDEN int st_corpus_source(const stance_corpus *c, size_t i);

/* The 1-based line of record i in its file, or 0 for stance_corpus_add. */
STANCE_HIDDEN size_t st_corpus_line(const stance_corpus *c, size_t i);

STANCE_HIDDEN int st_corpus_nfiles(const stance_corpus *c);

/* The name the file was added under (the path, or the name given to
 * st_corpus_add_buffer). */
STANCE_HIDDEN const char *st_corpus_file_name(const stance_corpus *c, int f);
/* Is a corpus of this name read as JSON Lines (.jsonl, .jsonl.gz)? */
STANCE_HIDDEN int st_corpus_is_jsonl(const char *name);

/* Lower-case hex SHA-256 (64 digits) of the file's bytes as read from disk:
 * of the compressed bytes for a gzip file.  For standard input ("-") and for
 * st_corpus_add_buffer it is the hash of the bytes parsed. */
STANCE_HIDDEN const char *st_corpus_file_sha256(const stance_corpus *c, int f);

/* Records kept from file f (after dropping duplicates). */
STANCE_HIDDEN size_t st_corpus_file_records(const stance_corpus *c, int f);

/* Parse len bytes (already decompressed) as a corpus file called `name`: JSON
 * Lines when the name ends in .jsonl or .jsonl.gz, TSV otherwise.  data is
 * borrowed (copied).  Same rules and errors as stance_corpus_add_file, which
 * is this plus reading the file; used directly by the fuzz target. */
STANCE_HIDDEN int st_corpus_add_buffer(stance_corpus *c, const char *name, const void *data,
                                       size_t len, stance_error *err);

#endif /* STANCE_CORPUS_H */
