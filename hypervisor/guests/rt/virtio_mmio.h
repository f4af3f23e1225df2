/*
 * virtio_mmio: a polling driver core for virtio 1.x devices on the MMIO
 * transport (version 2), with split virtqueues of at most VIRTQ_MAX
 * entries. No interrupts: drivers submit, notify, and poll the used
 * ring's idx with a bound.
 *
 * Each register access is one MMIO exit; device setup costs about 25.
 */
#ifndef LUMEN_GUEST_VIRTIO_MMIO_H
#define LUMEN_GUEST_VIRTIO_MMIO_H

#include "rt.h"

#define VIRTIO_MMIO_BASE        0xd0000000UL
#define VIRTIO_MMIO_SLOT_SIZE   0x1000UL
#define VIRTIO_MMIO_SLOTS       8

/* Register offsets (virtio 1.x, 4.2.2). */
#define VIRTIO_MMIO_MAGIC_VALUE         0x000
#define VIRTIO_MMIO_VERSION             0x004
#define VIRTIO_MMIO_DEVICE_ID           0x008
#define VIRTIO_MMIO_VENDOR_ID           0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES     0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES     0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL           0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX       0x034
#define VIRTIO_MMIO_QUEUE_NUM           0x038
#define VIRTIO_MMIO_QUEUE_READY         0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY        0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS    0x060
#define VIRTIO_MMIO_INTERRUPT_ACK       0x064
#define VIRTIO_MMIO_STATUS              0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW      0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH     0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW    0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH   0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW    0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH   0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION   0x0fc
#define VIRTIO_MMIO_CONFIG              0x100

#define VIRTIO_MMIO_MAGIC   0x74726976 /* "virt" */

#define VIRTIO_ID_NET       1
#define VIRTIO_ID_BLOCK     2
#define VIRTIO_ID_CONSOLE   3

#define VIRTIO_STATUS_ACKNOWLEDGE   0x01
#define VIRTIO_STATUS_DRIVER        0x02
#define VIRTIO_STATUS_DRIVER_OK     0x04
#define VIRTIO_STATUS_FEATURES_OK   0x08
#define VIRTIO_STATUS_NEEDS_RESET   0x40
#define VIRTIO_STATUS_FAILED        0x80

/* VIRTIO_F_VERSION_1 is feature bit 32: bit 0 of feature word 1. */
#define VIRTIO_F_VERSION_1_WORD1    0x1

/* Exit statuses of the driver core (runtime range, see rt.h). */
#define VIO_EXIT_NO_DEVICE          110 /* no device of the wanted type */
#define VIO_EXIT_BAD_VERSION        111 /* transport version is not 2 */
#define VIO_EXIT_RESET_STUCK        112 /* Status did not read 0 after reset */
#define VIO_EXIT_NO_VERSION_1       113 /* device does not offer VERSION_1 */
#define VIO_EXIT_FEATURES_REJECTED  114 /* FEATURES_OK did not stick */
#define VIO_EXIT_QUEUE_UNAVAILABLE  115 /* QueueNumMax 0 or queue already live */
#define VIO_EXIT_CONFIG_UNSTABLE    116 /* ConfigGeneration kept changing */

#define VIRTQ_MAX 32

#define VIRTQ_DESC_F_NEXT   1
#define VIRTQ_DESC_F_WRITE  2
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

struct virtq_desc {
    u64 addr;
    u32 len;
    u16 flags;
    u16 next;
};

struct virtq_used_elem {
    u32 id;
    u32 len;
};

/*
 * The three parts of one split virtqueue, sized for VIRTQ_MAX entries
 * and aligned as the spec requires (desc 16, avail 2, used 4). A queue
 * of fewer entries uses a prefix of each array. Lives in .bss, so it
 * starts zeroed (both idx fields 0).
 */
struct virtq_rings {
    struct virtq_desc desc[VIRTQ_MAX];
    struct {
        u16 flags;
        u16 idx;
        u16 ring[VIRTQ_MAX];
        u16 used_event;
    } avail;
    struct {
        u16 flags;
        u16 idx;
        struct virtq_used_elem ring[VIRTQ_MAX];
        u16 avail_event;
    } used __attribute__((aligned(4)));
} __attribute__((aligned(16)));

/* The driver's view of one live queue. */
struct virtq {
    uintptr_t dev;      /* device register base */
    u16 index;          /* queue index (QueueSel) */
    u16 num;            /* entries in use: min(VIRTQ_MAX, QueueNumMax) */
    u16 next_avail;     /* driver's copy of avail.idx */
    u16 last_used;      /* used.idx already consumed */
    struct virtq_rings *rings;
};

static inline u32 vio_read(uintptr_t dev, u32 off)
{
    return mmio_read32(dev + off);
}

static inline void vio_write(uintptr_t dev, u32 off, u32 v)
{
    mmio_write32(dev + off, v);
}

/* Register base of slot n. */
static inline uintptr_t vio_slot(unsigned n)
{
    return VIRTIO_MMIO_BASE + n * VIRTIO_MMIO_SLOT_SIZE;
}

/* First slot holding a device of `device_id`; exits VIO_EXIT_NO_DEVICE. */
uintptr_t vio_find(u32 device_id);

/*
 * Reset, ACKNOWLEDGE, DRIVER, accept VERSION_1 plus whichever of the
 * feature bits 0..31 in `want` the device offers, FEATURES_OK and check
 * it stuck. Returns the accepted bits 0..31. Exits with a VIO_EXIT_*
 * status on failure.
 */
u32 vio_init(uintptr_t dev, u32 want);

/*
 * Set up queue `index` on rings `r` (num = min(VIRTQ_MAX, QueueNumMax))
 * and mark it ready. Exits VIO_EXIT_QUEUE_UNAVAILABLE on failure.
 */
void virtq_setup(struct virtq *q, uintptr_t dev, u16 index,
                 struct virtq_rings *r);

/* Set DRIVER_OK: the device is live from here on. */
void vio_driver_ok(uintptr_t dev);

/* Device config: 8 bits, and 64 bits read stably across ConfigGeneration. */
u8 vio_config8(uintptr_t dev, u32 off);
u64 vio_config64(uintptr_t dev, u32 off);

/* Fill descriptor i. */
void virtq_desc(struct virtq *q, u16 i, u64 addr, u32 len, u16 flags,
                u16 next);

/* Put the chain starting at `head` in the avail ring; no notify. */
void virtq_offer(struct virtq *q, u16 head);

/* Fence, then tell the device the queue has new buffers (one exit). */
void virtq_notify(struct virtq *q);

/* virtq_offer + virtq_notify. */
void virtq_submit(struct virtq *q, u16 head);

/* Has the device used a buffer we have not consumed yet? No exit. */
static inline int virtq_has_used(const struct virtq *q)
{
    return read_once16(&q->rings->used.idx) != q->last_used;
}

/*
 * Poll the used ring at most `bound` times (with pause) for the next
 * used element. Returns 1 and fills *out if one arrived, 0 on timeout.
 */
int virtq_poll(struct virtq *q, u64 bound, struct virtq_used_elem *out);

/*
 * Poll bound for a request the device should complete at once (VMMs
 * complete on the notify exit, so the first poll normally succeeds).
 * Nested KVM on PVM runs one poll iteration in about 8 us: this
 * bound gives up after under a second.
 */
#define VIRTQ_COMPLETION_BOUND 100000

#endif
