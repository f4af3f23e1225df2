/*
 * blkbench: stream the first virtio block device, for throughput
 * benchmarks (benches/storage.rs): read the disk from sector 0 to its
 * end in requests of size= KiB (default 1024, at most 1024), one in
 * flight (depth=N: N at once, up to 8, offered with one notify, as a
 * kernel's block layer queues them), `passes=` times (default 1); with
 * write=1, write each chunk back instead. The data buffers are 8 MiB of
 * RAM from 16 MiB up (identity-mapped; not .bss, which the runtime
 * zeroes page by page: slow under nested virtualization). Prints "blkbench: N bytes" and exits 0; passes=0 boots
 * and exits at once (the run's fixed cost).
 *
 * Exit codes: 2 a request failed, 3 RAM too small for the buffers (32 MiB
 * at least), 10 a request never completed,
 * 100.. runtime and virtio setup failures (rt.h, virtio_mmio.h).
 */
#include "rt/rt.h"
#include "rt/virtio_mmio.h"

#define BLK_T_IN        0
#define BLK_T_OUT       1
#define SECTOR          512
#define MAX_CHUNK       (1u << 20)
#define MAX_DEPTH       8
#define BUF_BASE        0x1000000ull

struct blk_req_header {
    u32 type;
    u32 reserved;
    u64 sector;
};

static struct virtq_rings rings;
static struct virtq vq;
static struct blk_req_header header[MAX_DEPTH] __attribute__((aligned(16)));
static volatile u8 status[MAX_DEPTH];

/* Describe request `slot` (descriptors 3*slot..3*slot+2). */
static void describe(int slot, u32 type, u64 sector, u32 len)
{
    u16 d = (u16)(3 * slot);
    u16 flags = VIRTQ_DESC_F_NEXT;

    header[slot].type = type;
    header[slot].reserved = 0;
    header[slot].sector = sector;
    status[slot] = 0xff;
    virtq_desc(&vq, d, (u64)(uintptr_t)&header[slot], sizeof(header[slot]),
               VIRTQ_DESC_F_NEXT, d + 1);
    if (type == BLK_T_IN)
        flags |= VIRTQ_DESC_F_WRITE;
    virtq_desc(&vq, d + 1, BUF_BASE + (u64)slot * MAX_CHUNK, len, flags, d + 2);
    virtq_desc(&vq, d + 2, (u64)(uintptr_t)&status[slot], 1, VIRTQ_DESC_F_WRITE, 0);
    virtq_offer(&vq, d);
}

int main(u64 ram_size, const char *cmdline)
{
    u64 passes = cmdline_u64(cmdline, "passes", 1);
    u64 kib = cmdline_u64(cmdline, "size", 1024);
    u32 type = cmdline_u64(cmdline, "write", 0) ? BLK_T_OUT : BLK_T_IN;
    if (passes == 0)
        return 0;
    if (kib == 0 || kib * 1024 > MAX_CHUNK)
        kib = 1024;
    u32 chunk = (u32)(kib * 1024);

    uintptr_t dev = vio_find(VIRTIO_ID_BLOCK);
    vio_init(dev, 0);
    virtq_setup(&vq, dev, 0, &rings);
    vio_driver_ok(dev);
    u64 sectors = vio_config64(dev, 0);
    u64 depth = cmdline_u64(cmdline, "depth", 1);
    if (depth < 1)
        depth = 1;
    if (depth > MAX_DEPTH || 3 * depth > vq.num)
        depth = vq.num / 3 < MAX_DEPTH ? vq.num / 3 : MAX_DEPTH;
    if (ram_size < BUF_BASE + MAX_DEPTH * MAX_CHUNK)
        return 3;
    u64 step = chunk / SECTOR;
    u64 bytes = 0;
    for (u64 p = 0; p < passes; p++) {
        for (u64 s = 0; s + step <= sectors; s += depth * step) {
            int n = 0;
            while ((u64)n < depth && s + (u64)(n + 1) * step <= sectors)
                n++;
            for (int i = 0; i < n; i++)
                describe(i, type, s + (u64)i * step, chunk);
            virtq_notify(&vq);
            for (int i = 0; i < n; i++) {
                struct virtq_used_elem used;
                if (!virtq_poll(&vq, VIRTQ_COMPLETION_BOUND, &used))
                    return 10;
            }
            for (int i = 0; i < n; i++) {
                if (status[i] != 0)
                    return 2;
            }
            bytes += (u64)n * chunk;
        }
    }
    print_str("blkbench: ");
    print_dec(bytes);
    print_str(" bytes\n");
    return 0;
}
