/*
 * net: send one broadcast frame on the first virtio net device and wait
 * for an answer.
 *
 *   1. init (accepting VIRTIO_NET_F_MAC if offered), queue 0 receive,
 *      queue 1 transmit, DRIVER_OK; print "net: mac xx:xx:xx:xx:xx:xx"
 *   2. post up to 4 receive buffers (12-byte header + 1514-byte frame)
 *      before sending, so an answer cannot beat them
 *   3. transmit dst ff:ff:ff:ff:ff:ff, src = our MAC, ethertype 0x88b5,
 *      payload "lumen-ping" zero-padded to a 60-byte frame
 *   4. poll the receive ring (pause between polls, no exits) for a frame
 *      of ethertype 0x88b5 whose payload starts "lumen-pong"; other
 *      frames are dropped and their buffers posted again
 *   5. print "net: rx ok", exit 0
 *
 * Command line: wait=N polls of the receive ring (default 300000). A
 * poll reads guest memory only (no exit), but nested KVM on PVM runs
 * about 1M guest instructions a second, so one poll costs ~8 us there:
 * the default gives up after ~2.5 s. The host side should answer the
 * ping, or pass a larger wait=.
 *
 * Exit:
 *   1  transmit never completed (used ring idle for the poll bound)
 *   2  no frame arrived within wait=N polls
 *   3  frames arrived within wait=N polls, none of them the pong
 *   4  receive completion names an unknown buffer or a length beyond it
 *   5  transmit completion names a descriptor head other than ours
 *   100.. runtime and virtio setup failures (rt.h, virtio_mmio.h)
 */
#include "rt/rt.h"
#include "rt/virtio_mmio.h"

#define NET_F_MAC           (1u << 5)
#define NET_CONFIG_MAC      0
#define NET_HDR_LEN         12 /* virtio_net_hdr with num_buffers (VERSION_1) */
#define ETH_FRAME_MAX       1514
#define ETH_MIN_FRAME       60
#define ETHERTYPE_LUMEN     0x88b5
#define RX_BUF_LEN          (NET_HDR_LEN + ETH_FRAME_MAX)
#define RX_BUFS             4
#define RX_QUEUE            0
#define TX_QUEUE            1

static const char ping[] = "lumen-ping";
static const char pong[] = "lumen-pong";

static struct virtq_rings rx_rings, tx_rings;
static struct virtq rxq, txq;
static u8 rx_buf[RX_BUFS][RX_BUF_LEN] __attribute__((aligned(16)));
static u8 tx_buf[NET_HDR_LEN + ETH_MIN_FRAME] __attribute__((aligned(16)));

static int fail(int code, const char *what)
{
    print_str("net: ");
    print_str(what);
    print_char('\n');
    return code;
}

/* Is this received buffer (header + frame, `len` bytes) the pong? */
static int is_pong(const u8 *buf, u32 len)
{
    const u8 *frame = buf + NET_HDR_LEN;
    u32 need = NET_HDR_LEN + 14 + sizeof(pong) - 1;

    if (len < need)
        return 0;
    if (frame[12] != (ETHERTYPE_LUMEN >> 8) || frame[13] != (ETHERTYPE_LUMEN & 0xff))
        return 0;
    return memcmp(frame + 14, pong, sizeof(pong) - 1) == 0;
}

int main(u64 ram_size, const char *cmdline)
{
    (void)ram_size;
    u64 wait = cmdline_u64(cmdline, "wait", 300000);
    struct virtq_used_elem used;
    u8 mac[6];

    uintptr_t dev = vio_find(VIRTIO_ID_NET);
    vio_init(dev, NET_F_MAC);
    virtq_setup(&rxq, dev, RX_QUEUE, &rx_rings);
    virtq_setup(&txq, dev, TX_QUEUE, &tx_rings);
    vio_driver_ok(dev);

    print_str("net: mac ");
    for (u32 i = 0; i < 6; i++) {
        mac[i] = vio_config8(dev, NET_CONFIG_MAC + i);
        if (i)
            print_char(':');
        print_hex(mac[i], 2);
    }
    print_char('\n');

    u16 rx_bufs = rxq.num < RX_BUFS ? rxq.num : RX_BUFS;
    for (u16 i = 0; i < rx_bufs; i++) {
        virtq_desc(&rxq, i, (u64)(uintptr_t)rx_buf[i], RX_BUF_LEN,
                   VIRTQ_DESC_F_WRITE, 0);
        virtq_offer(&rxq, i);
    }
    virtq_notify(&rxq);

    /* tx_buf is zeroed .bss: the virtio_net_hdr and the padding stay 0. */
    u8 *frame = tx_buf + NET_HDR_LEN;
    memset(frame, 0xff, 6);
    memcpy(frame + 6, mac, 6);
    frame[12] = ETHERTYPE_LUMEN >> 8;
    frame[13] = ETHERTYPE_LUMEN & 0xff;
    memcpy(frame + 14, ping, sizeof(ping) - 1);
    virtq_desc(&txq, 0, (u64)(uintptr_t)tx_buf, sizeof(tx_buf), 0, 0);
    virtq_submit(&txq, 0);
    if (!virtq_poll(&txq, VIRTQ_COMPLETION_BOUND, &used))
        return fail(1, "transmit never completed");
    if (used.id != 0)
        return fail(5, "transmit completed an unknown descriptor head");

    u64 frames = 0;
    for (u64 i = 0; i < wait; i++) {
        if (!virtq_has_used(&rxq)) {
            cpu_relax();
            continue;
        }
        virtq_poll(&rxq, 1, &used);
        if (used.id >= rx_bufs || used.len > RX_BUF_LEN)
            return fail(4, "receive completion out of range");
        frames++;
        if (is_pong(rx_buf[used.id], used.len)) {
            print_str("net: rx ok\n");
            return 0;
        }
        virtq_submit(&rxq, (u16)used.id);
    }
    if (frames == 0)
        return fail(2, "no frame received");
    return fail(3, "no lumen-pong among the frames received");
}
