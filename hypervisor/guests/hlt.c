/*
 * hlt: execute `hlt` once with IF=0. The VMM treats that as the vCPU
 * halting and stops the VM cleanly with status 0; this guest never
 * writes the exit port itself.
 *
 * Exit: (VM stops at the hlt, status 0 by the VMM's rule); 1 if the
 * VMM resumed the vCPU after the hlt instead of stopping.
 */
#include "rt/rt.h"

int main(u64 ram_size, const char *cmdline)
{
    (void)ram_size;
    (void)cmdline;
    __asm__ volatile("hlt");
    return 1;
}
