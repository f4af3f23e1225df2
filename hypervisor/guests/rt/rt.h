/*
 * rt: the freestanding runtime every Lumen test guest links against.
 *
 * Boot contract ("payload boot mode", provided by the VMM):
 *   - the flat image is loaded at guest-physical 0x100000 and entered at
 *     its first byte (rt/start.S), in 64-bit long mode: CS=0x10,
 *     data segments 0x18, identity map of the first 4 GiB, IF=0, no IDT
 *     (any exception triple-faults);
 *   - rsp = 0x80000, rdi = RAM size in bytes, rsi = address of the
 *     NUL-terminated command line ("key=value key=value", may be empty);
 *   - a 32-bit write of V to port 0xf4 ends the VM with exit status V;
 *   - 8250 UART at port 0x3f8; port 0x80 is an ignored POST port;
 *   - 0xc0000000..0xc0001000 is unbacked scratch MMIO (reads all ones);
 *   - virtio-mmio (version 2) slots at 0xd0000000 + n * 0x1000, n < 8.
 *
 * Guests run on nested KVM where every VM exit is expensive: a guest
 * must stay within a few hundred thousand instructions and every poll
 * loop is bounded. SSE is not enabled: guests are built with
 * -mgeneral-regs-only.
 *
 * Exit statuses 1..99 belong to each guest (see its header comment);
 * the runtime's own failures use 100 and up, listed here.
 */
#ifndef LUMEN_GUEST_RT_H
#define LUMEN_GUEST_RT_H

#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

/* Runtime exit statuses (guest-specific ones stay below 100). */
#define RT_EXIT_OK              0
#define RT_EXIT_BAD_CMDLINE     100 /* a key=value could not be parsed */
#define RT_EXIT_SERIAL_STUCK    101 /* UART never reported THR empty */

#define RT_PORT_EXIT    0xf4
#define RT_PORT_POST    0x80
#define RT_SCRATCH_MMIO 0xc0000000UL

int main(u64 ram_size, const char *cmdline);

/* ---- port I/O: each access is one VM exit ---- */

static inline void outb(u16 port, u8 v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void outl(u16 port, u32 v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline u8 inb(u16 port)
{
    u8 v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}

/* ---- MMIO: one mov of exactly the named width, one exit if unbacked ---- */

static inline u8 mmio_read8(uintptr_t a)
{
    u8 v;
    __asm__ volatile("movb (%1), %0" : "=q"(v) : "r"(a) : "memory");
    return v;
}

static inline u16 mmio_read16(uintptr_t a)
{
    u16 v;
    __asm__ volatile("movw (%1), %0" : "=r"(v) : "r"(a) : "memory");
    return v;
}

static inline u32 mmio_read32(uintptr_t a)
{
    u32 v;
    __asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(a) : "memory");
    return v;
}

static inline u64 mmio_read64(uintptr_t a)
{
    u64 v;
    __asm__ volatile("movq (%1), %0" : "=r"(v) : "r"(a) : "memory");
    return v;
}

static inline void mmio_write8(uintptr_t a, u8 v)
{
    __asm__ volatile("movb %0, (%1)" : : "q"(v), "r"(a) : "memory");
}

static inline void mmio_write16(uintptr_t a, u16 v)
{
    __asm__ volatile("movw %0, (%1)" : : "r"(v), "r"(a) : "memory");
}

static inline void mmio_write32(uintptr_t a, u32 v)
{
    __asm__ volatile("movl %0, (%1)" : : "r"(v), "r"(a) : "memory");
}

static inline void mmio_write64(uintptr_t a, u64 v)
{
    __asm__ volatile("movq %0, (%1)" : : "r"(v), "r"(a) : "memory");
}

/* Order ring writes before the notify that publishes them. */
static inline void mb(void)
{
    __asm__ volatile("mfence" : : : "memory");
}

static inline void cpu_relax(void)
{
    __asm__ volatile("pause" : : : "memory");
}

/* Volatile reads of ring fields the device writes. */
static inline u16 read_once16(const volatile u16 *p)
{
    return *p;
}

static inline u32 read_once32(const volatile u32 *p)
{
    return *p;
}

/* ---- exit (rt/exit.c) ---- */

/* Write status to the exit port; never returns (halts if resumed). */
__attribute__((noreturn)) void rt_exit(u32 status);

/* ---- serial console (rt/serial.c): 2 exits per byte ---- */

void print_char(char c);
void print_str(const char *s);
void print_dec(u64 v);
/* Lowercase hex, zero-padded to `digits` (1..16), no prefix. */
void print_hex(u64 v, unsigned digits);

/* ---- command line (rt/cmdline.c) ---- */

/*
 * Find `key` in a "k=v k=v" command line. Returns a pointer to the
 * value (ends at a space or NUL) and stores its length, or NULL if
 * the key is absent. A NULL cmdline counts as empty.
 */
const char *cmdline_get(const char *cmdline, const char *key, size_t *len);

/* True if `key` is present with exactly the value `want`. */
int cmdline_is(const char *cmdline, const char *key, const char *want);

/*
 * The value of `key` as an unsigned number (decimal, or hex with 0x),
 * `dflt` if the key is absent. Exits RT_EXIT_BAD_CMDLINE if present
 * but not a number.
 */
u64 cmdline_u64(const char *cmdline, const char *key, u64 dflt);

/* ---- memory (rt/mem.c); the compiler may also call these ---- */

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#endif
