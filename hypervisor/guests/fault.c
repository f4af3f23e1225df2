/*
 * fault: execute ud2. With no IDT the #UD cannot be delivered, the
 * vCPU triple-faults and the VMM reports a guest fault (KVM shutdown
 * exit). Never exits cleanly.
 *
 * Exit: (triple fault); 1 if execution somehow continued past ud2.
 */
#include "rt/rt.h"

int main(u64 ram_size, const char *cmdline)
{
    (void)ram_size;
    (void)cmdline;
    __asm__ volatile("ud2");
    return 1;
}
