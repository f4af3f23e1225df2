/*
 * idle: a VM that runs until it is stopped, for lifecycle tests.
 *
 * Prints "idle: up" on the serial port, then forever: `every=N` pause
 * iterations (default 20000; a few tens of milliseconds here), then one
 * `outb` to the POST port 0x80, so the VM has a steady trickle of exits
 * for tracing. With `talk=1` it also prints "idle: tick" each time, for
 * console tests. Never exits by itself.
 */
#include "rt/rt.h"

int main(u64 ram_size, const char *cmdline)
{
    (void)ram_size;
    u64 every = cmdline_u64(cmdline, "every", 20000);
    u64 talk = cmdline_u64(cmdline, "talk", 0);

    print_str("idle: up\n");
    for (u64 tick = 0;; tick++) {
        for (u64 i = 0; i < every; i++)
            __asm__ volatile("pause" : : : "memory");
        outb(RT_PORT_POST, (u8)tick);
        if (talk)
            print_str("idle: tick\n");
    }
}
