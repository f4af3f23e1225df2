/*
 * hello: print one line on the serial port and exit 0.
 *
 * Exit: 0 ok; 101 UART never ready (rt.h).
 * Exits taken: 2 per byte (LSR read, THR write) plus the exit port.
 */
#include "rt/rt.h"

int main(u64 ram_size, const char *cmdline)
{
    (void)ram_size;
    (void)cmdline;
    print_str("hello from lumen guest\n");
    return 0;
}
