/*
 * pio_loop: exactly N `outb` to the POST port 0x80, then exit 0.
 *
 * Command line: count=N (default 1000). Byte written: i & 0xff.
 * Nothing else exits (no serial output), so the VMM sees N port
 * writes to 0x80 plus the one write to the exit port.
 *
 * Exit: 0 ok; 100 count not a number (rt.h).
 */
#include "rt/rt.h"

int main(u64 ram_size, const char *cmdline)
{
    (void)ram_size;
    u64 n = cmdline_u64(cmdline, "count", 1000);

    for (u64 i = 0; i < n; i++)
        outb(RT_PORT_POST, (u8)i);
    return 0;
}
