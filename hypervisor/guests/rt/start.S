/*
 * Entry of every test guest: the first byte of the flat image.
 *
 * On entry (see rt.h): 64-bit mode, IF=0, rsp = 0x80000,
 * rdi = RAM size in bytes, rsi = command line address.
 * Zero .bss (not in the flat file), call main(ram_size, cmdline), then
 * hand main's return value to the exit port. If the VMM ever resumes
 * the vCPU after that, halt forever (hlt with IF=0 never wakes).
 */
    .section .text.entry, "ax"
    .code64
    .globl _start
_start:
    mov     %rdi, %r12              /* callee-saved across nothing yet */
    mov     %rsi, %r13
    and     $-16, %rsp              /* SysV: 16-byte aligned before call */
    lea     __bss_start(%rip), %rdi
    lea     __bss_end(%rip), %rcx
    sub     %rdi, %rcx              /* bss is a few KiB: one rep stosb */
    xor     %eax, %eax
    cld
    rep stosb
    mov     %r12, %rdi
    mov     %r13, %rsi
    call    main
    mov     $0xf4, %dx              /* exit port: status = main's return */
    out     %eax, %dx
1:  hlt
    jmp     1b

    .section .note.GNU-stack, "", @progbits
