/* rt_exit: hand a status to the VMM's exit port. */
#include "rt.h"

void rt_exit(u32 status)
{
    outl(RT_PORT_EXIT, status);
    for (;;)
        __asm__ volatile("hlt");
}
