/*
 * memset/memcpy/memcmp: the compiler emits calls to these even in
 * freestanding code (struct copies, zeroing loops). The string
 * instructions keep gcc from turning the loops back into calls.
 */
#include "rt.h"

void *memset(void *dst, int c, size_t n)
{
    void *d = dst;

    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    void *d = dst;

    __asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const u8 *x = a;
    const u8 *y = b;

    for (size_t i = 0; i < n; i++) {
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    }
    return 0;
}
