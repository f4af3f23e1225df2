/*
 * console: say hello on the first virtio console, read one line from it
 * and echo it back.
 *
 *   1. init (no features: one port, no MULTIPORT), queue 0 receive,
 *      queue 1 transmit, DRIVER_OK
 *   2. transmit "console: hello\n"
 *   3. flood=N: transmit N blocks of 4 KiB (63 dots and a newline, 64
 *      times), each one notify: lots of output for few exits
 *   4. post one 64-byte receive buffer and poll for it (pause between
 *      polls, no exits), reposting it until '\n' or '\r' (a raw
 *      terminal's Enter) ends the line
 *   5. transmit "console: got <line>\n", exit 0
 *
 * Command line: wait=N polls of the receive ring in all (default 300000,
 * ~2.5 s on nested KVM on PVM, as net.c); flood=N blocks (default 0).
 *
 * Exit:
 *   1  a transmit never completed (used ring idle for the poll bound)
 *   2  no complete line within wait=N polls
 *   3  the line is longer than 64 bytes
 *   4  receive completion names an unknown buffer or a length beyond it
 *   5  transmit completion names a descriptor head other than ours
 *   100.. runtime and virtio setup failures (rt.h, virtio_mmio.h)
 */
#include "rt/rt.h"
#include "rt/virtio_mmio.h"

#define RX_QUEUE    0
#define TX_QUEUE    1
#define RX_BUF_LEN  64
#define LINE_LEN    64
#define FLOOD_BLOCK 4096

static const char hello[] = "console: hello\n";
static const char got[] = "console: got ";

static struct virtq_rings rx_rings, tx_rings;
static struct virtq rxq, txq;
static u8 rx_buf[RX_BUF_LEN] __attribute__((aligned(16)));
static u8 tx_buf[FLOOD_BLOCK] __attribute__((aligned(16)));
static char line[LINE_LEN];

static int fail(int code, const char *what)
{
    print_str("console: ");
    print_str(what);
    print_char('\n');
    return code;
}

/* Transmit tx_buf[0..len) and wait for the device to use it: 0 or an exit code. */
static int transmit(u32 len)
{
    struct virtq_used_elem used;

    virtq_desc(&txq, 0, (u64)(uintptr_t)tx_buf, len, 0, 0);
    virtq_submit(&txq, 0);
    if (!virtq_poll(&txq, VIRTQ_COMPLETION_BOUND, &used))
        return fail(1, "transmit never completed");
    if (used.id != 0)
        return fail(5, "transmit completed an unknown descriptor head");
    return 0;
}

static int say(const char *s, u32 len)
{
    memcpy(tx_buf, s, len);
    return transmit(len);
}

int main(u64 ram_size, const char *cmdline)
{
    (void)ram_size;
    u64 wait = cmdline_u64(cmdline, "wait", 300000);
    u64 flood = cmdline_u64(cmdline, "flood", 0);
    struct virtq_used_elem used;
    int rc;

    uintptr_t dev = vio_find(VIRTIO_ID_CONSOLE);
    vio_init(dev, 0);
    virtq_setup(&rxq, dev, RX_QUEUE, &rx_rings);
    virtq_setup(&txq, dev, TX_QUEUE, &tx_rings);
    vio_driver_ok(dev);

    if ((rc = say(hello, sizeof(hello) - 1)))
        return rc;

    if (flood) {
        memset(tx_buf, '.', FLOOD_BLOCK);
        for (u32 i = 63; i < FLOOD_BLOCK; i += 64)
            tx_buf[i] = '\n';
        for (u64 i = 0; i < flood; i++) {
            if ((rc = transmit(FLOOD_BLOCK)))
                return rc;
        }
    }

    virtq_desc(&rxq, 0, (u64)(uintptr_t)rx_buf, RX_BUF_LEN,
               VIRTQ_DESC_F_WRITE, 0);
    virtq_submit(&rxq, 0);
    u32 len = 0;
    for (u64 i = 0; i < wait; i++) {
        if (!virtq_has_used(&rxq)) {
            cpu_relax();
            continue;
        }
        virtq_poll(&rxq, 1, &used);
        if (used.id != 0 || used.len > RX_BUF_LEN)
            return fail(4, "receive completion out of range");
        for (u32 j = 0; j < used.len; j++) {
            char c = (char)rx_buf[j];
            if (c == '\n' || c == '\r') {
                u32 n = sizeof(got) - 1;
                memcpy(tx_buf, got, n);
                memcpy(tx_buf + n, line, len);
                tx_buf[n + len] = '\n';
                return transmit(n + len + 1);
            }
            if (len == LINE_LEN)
                return fail(3, "line longer than 64 bytes");
            line[len++] = c;
        }
        virtq_submit(&rxq, 0);
    }
    return fail(2, "no line received");
}
