/*
 * mmio_loop: N 32-bit writes and N 32-bit reads of the scratch MMIO
 * word at 0xc0000000 (write, then read, N times), then exit 0.
 *
 * Command line: count=N (default 100). Value written: i.
 * Nothing else exits, so the VMM sees 2N MMIO exits plus the exit port.
 *
 * Exit: 0 ok; 3 a read returned something other than 0xffffffff;
 * 100 count not a number (rt.h).
 */
#include "rt/rt.h"

int main(u64 ram_size, const char *cmdline)
{
    (void)ram_size;
    u64 n = cmdline_u64(cmdline, "count", 100);

    for (u64 i = 0; i < n; i++) {
        mmio_write32(RT_SCRATCH_MMIO, (u32)i);
        if (mmio_read32(RT_SCRATCH_MMIO) != 0xffffffffu)
            return 3;
    }
    return 0;
}
