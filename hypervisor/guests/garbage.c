/*
 * garbage: feed the virtio-mmio transport nonsense; the VMM must log
 * errors and keep running, never panic. Reaching the exit port with
 * status 0 is the pass.
 *
 * No ring= on the command line: raw register abuse on slot 0, whatever
 * is there (a device or an empty slot):
 *   QueueNotify 77 (no such queue); QueueSel 99, QueueNum 12345,
 *   QueueDesc = 0xffff_f000_0000 (outside RAM), QueueReady 1; Status 0xff;
 *   writes to the read-only MagicValue and Version; 1-byte and 8-byte
 *   accesses at unaligned offsets; a 4-byte write straddling slots 0
 *   and 1; a read past the config space. Then Status 0 (reset).
 *
 * ring=KIND: initialise the first device found (any type) properly,
 * then hand it one broken request on a queue it services on notify
 * (queue 0 for block, queue 1, the transmit side, otherwise):
 *   ring=bad    descriptor buffer at 0xffff_f000_0000, outside RAM
 *   ring=table  descriptor table itself at 0xffff_f000_0000
 *   ring=loop   descriptor whose NEXT points at itself
 *   ring=avail  avail.idx 200 ahead of an 8-entry queue, heads of 77
 * then polls the used ring briefly, prints "garbage: ring=KIND status
 * 0x.. used N" (Status register, used.idx) and resets the device.
 *
 * Exit:
 *   0  survived
 *   1  MagicValue/Version changed after the guest wrote them
 *   2  ring=KIND: no virtio device in any slot
 *   100 unknown ring=KIND (bad command line); 110.. virtio setup (virtio_mmio.h)
 */
#include "rt/rt.h"
#include "rt/virtio_mmio.h"

#define OUTSIDE_RAM 0xfffff0000000ULL
/* The device should not complete a broken request; a short grace. */
#define GARBAGE_POLL_BOUND 10000

static struct virtq_rings rings;
static struct virtq vq;
static u8 buf[64] __attribute__((aligned(16)));

static int registers(void)
{
    uintptr_t dev = vio_slot(0);
    int had_device = vio_read(dev, VIRTIO_MMIO_MAGIC_VALUE) == VIRTIO_MMIO_MAGIC;
    u32 version = vio_read(dev, VIRTIO_MMIO_VERSION);

    vio_write(dev, VIRTIO_MMIO_QUEUE_NOTIFY, 77);
    vio_write(dev, VIRTIO_MMIO_QUEUE_SEL, 99);
    vio_write(dev, VIRTIO_MMIO_QUEUE_NUM, 12345);
    vio_write(dev, VIRTIO_MMIO_QUEUE_DESC_LOW, (u32)OUTSIDE_RAM);
    vio_write(dev, VIRTIO_MMIO_QUEUE_DESC_HIGH, (u32)(OUTSIDE_RAM >> 32));
    vio_write(dev, VIRTIO_MMIO_QUEUE_READY, 1);
    vio_write(dev, VIRTIO_MMIO_STATUS, 0xff);
    vio_write(dev, VIRTIO_MMIO_MAGIC_VALUE, 0xdeadbeef);
    vio_write(dev, VIRTIO_MMIO_VERSION, 7);

    mmio_write8(dev + 0x071, 0x5a);
    (void)mmio_read8(dev + 0x003);
    mmio_write64(dev + 0x0a1, 0x0123456789abcdefULL);
    (void)mmio_read64(dev + 0x013);
    mmio_write16(dev + 0x102, 0xbeef);
    mmio_write32(dev + 0xffe, 0xcafef00d);  /* straddles into slot 1 */
    (void)mmio_read32(dev + 0xff0);

    vio_write(dev, VIRTIO_MMIO_STATUS, 0);

    if (had_device &&
        (vio_read(dev, VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MMIO_MAGIC ||
         vio_read(dev, VIRTIO_MMIO_VERSION) != version))
        return 1;
    return 0;
}

static uintptr_t first_device(void)
{
    for (unsigned n = 0; n < VIRTIO_MMIO_SLOTS; n++) {
        uintptr_t dev = vio_slot(n);
        if (vio_read(dev, VIRTIO_MMIO_MAGIC_VALUE) == VIRTIO_MMIO_MAGIC &&
            vio_read(dev, VIRTIO_MMIO_DEVICE_ID) != 0)
            return dev;
    }
    return 0;
}

static int ring(const char *cmdline)
{
    static const char *const kinds[] = { "bad", "table", "loop", "avail" };
    unsigned kind = 0;
    struct virtq_used_elem used;

    while (kind < 4 && !cmdline_is(cmdline, "ring", kinds[kind]))
        kind++;
    if (kind == 4)
        return RT_EXIT_BAD_CMDLINE;

    uintptr_t dev = first_device();
    if (!dev)
        return 2;
    u16 queue = vio_read(dev, VIRTIO_MMIO_DEVICE_ID) == VIRTIO_ID_BLOCK ? 0 : 1;
    vio_init(dev, 0);
    virtq_setup(&vq, dev, queue, &rings);
    vio_driver_ok(dev);

    switch (kind) {
    case 0:
        virtq_desc(&vq, 0, OUTSIDE_RAM, 512, 0, 0);
        virtq_submit(&vq, 0);
        break;
    case 1:
        virtq_desc(&vq, 0, (u64)(uintptr_t)buf, sizeof(buf), 0, 0);
        vio_write(dev, VIRTIO_MMIO_QUEUE_SEL, queue);
        vio_write(dev, VIRTIO_MMIO_QUEUE_READY, 0);
        vio_write(dev, VIRTIO_MMIO_QUEUE_DESC_LOW, (u32)OUTSIDE_RAM);
        vio_write(dev, VIRTIO_MMIO_QUEUE_DESC_HIGH, (u32)(OUTSIDE_RAM >> 32));
        vio_write(dev, VIRTIO_MMIO_QUEUE_READY, 1);
        virtq_submit(&vq, 0);
        break;
    case 2:
        virtq_desc(&vq, 0, (u64)(uintptr_t)buf, sizeof(buf),
                   VIRTQ_DESC_F_NEXT, 0);
        virtq_submit(&vq, 0);
        break;
    case 3:
        for (u16 i = 0; i < vq.num; i++)
            rings.avail.ring[i] = 77;
        mb();
        *(volatile u16 *)&rings.avail.idx = 200;
        virtq_notify(&vq);
        break;
    }

    int completed = virtq_poll(&vq, GARBAGE_POLL_BOUND, &used);
    print_str("garbage: ring=");
    print_str(kinds[kind]);
    print_str(" status 0x");
    print_hex(vio_read(dev, VIRTIO_MMIO_STATUS), 2);
    print_str(completed ? " used 1\n" : " used 0\n");
    vio_write(dev, VIRTIO_MMIO_STATUS, 0);
    return 0;
}

int main(u64 ram_size, const char *cmdline)
{
    size_t len;

    (void)ram_size;
    if (cmdline_get(cmdline, "ring", &len))
        return ring(cmdline);
    return registers();
}
