/* buf.c - growable byte buffers and string copies. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int st_buf_reserve(st_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1)
        return STANCE_ERR_NOMEM;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return STANCE_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return STANCE_ERR_NOMEM;
    b->data = p;
    b->cap = cap;
    return STANCE_OK;
}

int st_buf_append(st_buf *b, const void *p, size_t n)
{
    if (st_buf_reserve(b, n))
        return STANCE_ERR_NOMEM;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return STANCE_OK;
}

int st_buf_printf(st_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return STANCE_ERR_ARG;
    if (st_buf_reserve(b, (size_t)n))
        return STANCE_ERR_NOMEM;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return STANCE_OK;
}

void st_buf_free(st_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int st_scratch(char **p, size_t *cap, size_t need, size_t keep)
{
    if (*cap > keep && need < *cap / 4) {
        free(*p);
        *p = NULL;
        *cap = 0;
    }
    if (need > *cap) {
        char *q = realloc(*p, need);
        if (!q)
            return STANCE_ERR_NOMEM;
        *p = q;
        *cap = need;
    }
    return STANCE_OK;
}

char *st_strndup(const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *st_strdup(const char *s)
{
    return s ? st_strndup(s, strlen(s)) : NULL;
}

/* Large tables read at random (a model's weights, a session's row cache):
 * aligned to 2 MiB and offered to the kernel for transparent huge pages,
 * so that a lookup costs no walk of the page tables.  Where the kernel
 * declines, they are ordinary memory.  Freed with free(). */
void *st_alloc_table(size_t size, int zero)
{
    const size_t huge = (size_t)2 << 20;
    void *p = NULL;
    if (size < huge / 2) {
        p = zero ? calloc(1, size ? size : 1) : malloc(size ? size : 1);
        return p;
    }
    size_t rounded = (size + huge - 1) / huge * huge;
    if (posix_memalign(&p, huge, rounded))
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, rounded, MADV_HUGEPAGE);
#endif
    if (zero)
        memset(p, 0, size);
    return p;
}
