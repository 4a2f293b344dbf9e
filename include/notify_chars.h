/* Byte classes shared by the format checks: ASCII only, whatever locale
 * httpd or another module has set (isalpha() accepts accented bytes in
 * Latin-1 locales). Internal to the core. */
#ifndef NOTIFY_CHARS_H
#define NOTIFY_CHARS_H

#include <string.h>

#include <apr.h>

static inline int is_ascii_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

/* strchr() also finds the terminating NUL, which is never a member. */
static inline int in_set(char c, const char *set)
{
    return c != '\0' && strchr(set, c) != NULL;
}

static inline int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static inline int is_ctl(char c)
{
    return (unsigned char)c < 0x20 || c == 0x7f;
}

static inline void trim_ows(const char **s, apr_size_t *len)
{
    while (*len > 0 && is_ows((*s)[0])) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && is_ows((*s)[*len - 1])) {
        (*len)--;
    }
}

#endif
