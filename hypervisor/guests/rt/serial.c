/* Serial output on the 8250 UART at 0x3f8: poll LSR, then write THR. */
#include "rt.h"

#define UART_THR 0x3f8
#define UART_LSR 0x3fd
#define UART_LSR_THRE 0x20
/* Each LSR read is an exit; a VMM's UART is normally ready at once. */
#define UART_POLL_BOUND 10000

void print_char(char c)
{
    for (u32 i = 0; !(inb(UART_LSR) & UART_LSR_THRE); i++) {
        if (i >= UART_POLL_BOUND)
            rt_exit(RT_EXIT_SERIAL_STUCK);
    }
    outb(UART_THR, (u8)c);
}

void print_str(const char *s)
{
    while (*s)
        print_char(*s++);
}

void print_dec(u64 v)
{
    char buf[20];
    unsigned n = 0;

    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        print_char(buf[--n]);
}

void print_hex(u64 v, unsigned digits)
{
    if (digits < 1)
        digits = 1;
    if (digits > 16)
        digits = 16;
    while (digits--)
        print_char("0123456789abcdef"[(v >> (digits * 4)) & 0xf]);
}
