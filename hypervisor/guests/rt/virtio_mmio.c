/* virtio_mmio: device discovery, init, and split-virtqueue polling. */
#include "virtio_mmio.h"

#define RESET_POLL_BOUND 1000
#define CONFIG_RETRIES 8

uintptr_t vio_find(u32 device_id)
{
    for (unsigned n = 0; n < VIRTIO_MMIO_SLOTS; n++) {
        uintptr_t dev = vio_slot(n);
        if (vio_read(dev, VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MMIO_MAGIC)
            continue;
        if (vio_read(dev, VIRTIO_MMIO_DEVICE_ID) == device_id)
            return dev;
    }
    rt_exit(VIO_EXIT_NO_DEVICE);
}

u32 vio_init(uintptr_t dev, u32 want)
{
    u32 status = 0;

    if (vio_read(dev, VIRTIO_MMIO_VERSION) != 2)
        rt_exit(VIO_EXIT_BAD_VERSION);

    vio_write(dev, VIRTIO_MMIO_STATUS, 0);
    for (u32 i = 0; vio_read(dev, VIRTIO_MMIO_STATUS) != 0; i++) {
        if (i >= RESET_POLL_BOUND)
            rt_exit(VIO_EXIT_RESET_STUCK);
    }
    status |= VIRTIO_STATUS_ACKNOWLEDGE;
    vio_write(dev, VIRTIO_MMIO_STATUS, status);
    status |= VIRTIO_STATUS_DRIVER;
    vio_write(dev, VIRTIO_MMIO_STATUS, status);

    vio_write(dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    u32 lo = vio_read(dev, VIRTIO_MMIO_DEVICE_FEATURES) & want;
    vio_write(dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    u32 hi = vio_read(dev, VIRTIO_MMIO_DEVICE_FEATURES);
    if (!(hi & VIRTIO_F_VERSION_1_WORD1)) {
        vio_write(dev, VIRTIO_MMIO_STATUS, status | VIRTIO_STATUS_FAILED);
        rt_exit(VIO_EXIT_NO_VERSION_1);
    }
    vio_write(dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    vio_write(dev, VIRTIO_MMIO_DRIVER_FEATURES, lo);
    vio_write(dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    vio_write(dev, VIRTIO_MMIO_DRIVER_FEATURES, VIRTIO_F_VERSION_1_WORD1);

    status |= VIRTIO_STATUS_FEATURES_OK;
    vio_write(dev, VIRTIO_MMIO_STATUS, status);
    if (!(vio_read(dev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK)) {
        vio_write(dev, VIRTIO_MMIO_STATUS, status | VIRTIO_STATUS_FAILED);
        rt_exit(VIO_EXIT_FEATURES_REJECTED);
    }
    return lo;
}

static void write_addr(uintptr_t dev, u32 low_off, const void *p)
{
    u64 a = (u64)(uintptr_t)p;

    vio_write(dev, low_off, (u32)a);
    vio_write(dev, low_off + 4, (u32)(a >> 32));
}

void virtq_setup(struct virtq *q, uintptr_t dev, u16 index,
                 struct virtq_rings *r)
{
    vio_write(dev, VIRTIO_MMIO_QUEUE_SEL, index);
    if (vio_read(dev, VIRTIO_MMIO_QUEUE_READY) != 0)
        rt_exit(VIO_EXIT_QUEUE_UNAVAILABLE);
    u32 max = vio_read(dev, VIRTIO_MMIO_QUEUE_NUM_MAX);
    if (max == 0)
        rt_exit(VIO_EXIT_QUEUE_UNAVAILABLE);

    q->dev = dev;
    q->index = index;
    q->num = (u16)(max < VIRTQ_MAX ? max : VIRTQ_MAX);
    q->next_avail = 0;
    q->last_used = 0;
    q->rings = r;
    /* Polled, not interrupt-driven. */
    r->avail.flags = VIRTQ_AVAIL_F_NO_INTERRUPT;

    vio_write(dev, VIRTIO_MMIO_QUEUE_NUM, q->num);
    write_addr(dev, VIRTIO_MMIO_QUEUE_DESC_LOW, r->desc);
    write_addr(dev, VIRTIO_MMIO_QUEUE_DRIVER_LOW, &r->avail);
    write_addr(dev, VIRTIO_MMIO_QUEUE_DEVICE_LOW, &r->used);
    mb();
    vio_write(dev, VIRTIO_MMIO_QUEUE_READY, 1);
}

void vio_driver_ok(uintptr_t dev)
{
    u32 status = vio_read(dev, VIRTIO_MMIO_STATUS);

    vio_write(dev, VIRTIO_MMIO_STATUS, status | VIRTIO_STATUS_DRIVER_OK);
}

u8 vio_config8(uintptr_t dev, u32 off)
{
    return mmio_read8(dev + VIRTIO_MMIO_CONFIG + off);
}

u64 vio_config64(uintptr_t dev, u32 off)
{
    uintptr_t a = dev + VIRTIO_MMIO_CONFIG + off;

    for (u32 i = 0; i < CONFIG_RETRIES; i++) {
        u32 gen = vio_read(dev, VIRTIO_MMIO_CONFIG_GENERATION);
        u64 lo = mmio_read32(a);
        u64 hi = mmio_read32(a + 4);
        if (vio_read(dev, VIRTIO_MMIO_CONFIG_GENERATION) == gen)
            return lo | hi << 32;
    }
    rt_exit(VIO_EXIT_CONFIG_UNSTABLE);
}

void virtq_desc(struct virtq *q, u16 i, u64 addr, u32 len, u16 flags,
                u16 next)
{
    struct virtq_desc *d = &q->rings->desc[i];

    d->addr = addr;
    d->len = len;
    d->flags = flags;
    d->next = next;
}

void virtq_offer(struct virtq *q, u16 head)
{
    struct virtq_rings *r = q->rings;

    r->avail.ring[q->next_avail % q->num] = head;
    mb();                         /* descriptors and slot before idx */
    q->next_avail++;
    *(volatile u16 *)&r->avail.idx = q->next_avail;
}

void virtq_notify(struct virtq *q)
{
    mb();                         /* avail idx before the notify */
    vio_write(q->dev, VIRTIO_MMIO_QUEUE_NOTIFY, q->index);
}

void virtq_submit(struct virtq *q, u16 head)
{
    virtq_offer(q, head);
    virtq_notify(q);
}

int virtq_poll(struct virtq *q, u64 bound, struct virtq_used_elem *out)
{
    struct virtq_rings *r = q->rings;

    for (u64 i = 0; i < bound; i++) {
        if (virtq_has_used(q)) {
            mb();                 /* idx before the element it covers */
            const volatile struct virtq_used_elem *e =
                &r->used.ring[q->last_used % q->num];
            out->id = e->id;
            out->len = e->len;
            q->last_used++;
            return 1;
        }
        cpu_relax();
    }
    return 0;
}
