/* Command line lookup: "key=value" words separated by spaces. */
#include "rt.h"

const char *cmdline_get(const char *cmdline, const char *key, size_t *len)
{
    const char *p = cmdline;

    if (!p)
        return NULL;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *word = p;
        while (*p && *p != ' ')
            p++;
        const char *k = key;
        const char *w = word;
        while (*k && w < p && *w == *k) {
            k++;
            w++;
        }
        if (!*k && w < p && *w == '=') {
            w++;
            *len = (size_t)(p - w);
            return w;
        }
    }
    return NULL;
}

int cmdline_is(const char *cmdline, const char *key, const char *want)
{
    size_t len;
    const char *v = cmdline_get(cmdline, key, &len);

    if (!v)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (want[i] != v[i])
            return 0;
    }
    return want[len] == '\0';
}

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return 99;
}

u64 cmdline_u64(const char *cmdline, const char *key, u64 dflt)
{
    size_t len;
    const char *v = cmdline_get(cmdline, key, &len);
    unsigned base = 10;
    u64 n = 0;

    if (!v)
        return dflt;
    if (len > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
        base = 16;
        v += 2;
        len -= 2;
    }
    if (len == 0)
        rt_exit(RT_EXIT_BAD_CMDLINE);
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned)digit_value(v[i]);
        if (d >= base || n > (UINT64_MAX - d) / base)
            rt_exit(RT_EXIT_BAD_CMDLINE);
        n = n * base + d;
    }
    return n;
}
