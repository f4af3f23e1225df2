/*
 * blk: exercise the first virtio block device: write, read, verify,
 * flush, on queue 0 with one request in flight at a time.
 *
 *   1. init (accepting VIRTIO_BLK_F_FLUSH if offered), read capacity,
 *      print "blk: capacity N"
 *   2. write sectors 1-2 in one 1024-byte OUT request; byte i of
 *      sector s is (i * 7 + s) & 0xff
 *   3. read sector 0, print "blk: sector0 " and its first 16 bytes in hex;
 *      with cmdline sector0=check, sector 0 must be byte i = i & 0xff
 *   4. read sectors 1-2 back and compare byte for byte
 *   5. FLUSH: must be OK if VIRTIO_BLK_F_FLUSH was negotiated, may be
 *      UNSUPP otherwise
 *   6. reads=N (default 0): N sequential 4 KiB reads from sector 0 on,
 *      wrapping at the capacity, one in flight (the VMM bench's block
 *      throughput run; nothing is printed per read)
 *   7. print "blk: ok", exit 0
 *
 * Every failure prints "blk: <what>" before exiting with:
 *   1  capacity below 3 sectors
 *   2  write of sectors 1-2: status not OK
 *   3  read of sector 0: status not OK
 *   4  read of sectors 1-2: status not OK
 *   5  sector0=check: sector 0 is not byte i = i & 0xff
 *   6  sectors 1-2 read back differ from what was written
 *   7  FLUSH: status not OK (and not an allowed UNSUPP)
 *   8  device completed a descriptor head other than the one submitted
 *   9  queue too small: QueueNumMax below 3
 *   10 a request never completed (used ring idle for the poll bound)
 *   11 reads=N: a read failed, or the disk is smaller than 4 KiB
 *   100.. runtime and virtio setup failures (rt.h, virtio_mmio.h)
 */
#include "rt/rt.h"
#include "rt/virtio_mmio.h"

#define BLK_T_IN        0
#define BLK_T_OUT       1
#define BLK_T_FLUSH     4
#define BLK_S_OK        0
#define BLK_S_UNSUPP    2
#define BLK_F_FLUSH     (1u << 9)
#define BLK_CONFIG_CAPACITY 0

#define SECTOR 512
#define READ_BLOCK 4096

struct blk_req_header {
    u32 type;
    u32 reserved;
    u64 sector;
};

static struct virtq_rings rings;
static struct virtq vq;
static struct blk_req_header header __attribute__((aligned(16)));
static volatile u8 status;
static u8 wbuf[2 * SECTOR] __attribute__((aligned(16)));
static u8 rbuf[2 * SECTOR] __attribute__((aligned(16)));
static u8 block[READ_BLOCK] __attribute__((aligned(16)));

static int fail(int code, const char *what)
{
    print_str("blk: ");
    print_str(what);
    print_char('\n');
    return code;
}

/*
 * One request: header, optional data buffer, status byte. Returns the
 * status the device wrote, or -8 / -10 for the exit codes above.
 */
static int request(u32 type, u64 sector, u8 *buf, u32 len)
{
    struct virtq_used_elem used;
    u16 n = 0;

    header.type = type;
    header.reserved = 0;
    header.sector = sector;
    status = 0xff;  /* not a status: catches a device that never writes it */

    virtq_desc(&vq, n, (u64)(uintptr_t)&header, sizeof(header),
               VIRTQ_DESC_F_NEXT, n + 1);
    n++;
    if (buf) {
        u16 flags = VIRTQ_DESC_F_NEXT;
        if (type == BLK_T_IN)
            flags |= VIRTQ_DESC_F_WRITE;
        virtq_desc(&vq, n, (u64)(uintptr_t)buf, len, flags, n + 1);
        n++;
    }
    virtq_desc(&vq, n, (u64)(uintptr_t)&status, 1, VIRTQ_DESC_F_WRITE, 0);

    virtq_submit(&vq, 0);
    if (!virtq_poll(&vq, VIRTQ_COMPLETION_BOUND, &used))
        return -10;
    if (used.id != 0)
        return -8;
    return status;
}

/* Map request()'s negative results to their exit codes, else `code`. */
static int request_failed(int r, int code, const char *what)
{
    if (r == -10)
        return fail(10, "request timed out");
    if (r == -8)
        return fail(8, "device completed an unknown descriptor head");
    return fail(code, what);
}

int main(u64 ram_size, const char *cmdline)
{
    (void)ram_size;
    int check_sector0 = cmdline_is(cmdline, "sector0", "check");
    u64 reads = cmdline_u64(cmdline, "reads", 0);

    uintptr_t dev = vio_find(VIRTIO_ID_BLOCK);
    u32 features = vio_init(dev, BLK_F_FLUSH);
    virtq_setup(&vq, dev, 0, &rings);
    if (vq.num < 3)
        return fail(9, "queue too small");
    vio_driver_ok(dev);

    u64 capacity = vio_config64(dev, BLK_CONFIG_CAPACITY);
    print_str("blk: capacity ");
    print_dec(capacity);
    print_char('\n');
    if (capacity < 3)
        return fail(1, "capacity below 3 sectors");

    for (u32 s = 0; s < 2; s++) {
        for (u32 i = 0; i < SECTOR; i++)
            wbuf[s * SECTOR + i] = (u8)(i * 7 + (s + 1));
    }
    int r = request(BLK_T_OUT, 1, wbuf, sizeof(wbuf));
    if (r != BLK_S_OK)
        return request_failed(r, 2, "write of sectors 1-2 failed");

    r = request(BLK_T_IN, 0, rbuf, SECTOR);
    if (r != BLK_S_OK)
        return request_failed(r, 3, "read of sector 0 failed");
    print_str("blk: sector0");
    for (u32 i = 0; i < 16; i++) {
        print_char(' ');
        print_hex(rbuf[i], 2);
    }
    print_char('\n');
    if (check_sector0) {
        for (u32 i = 0; i < SECTOR; i++) {
            if (rbuf[i] != (u8)i)
                return fail(5, "sector 0 is not the i & 0xff pattern");
        }
    }

    memset(rbuf, 0, sizeof(rbuf));
    r = request(BLK_T_IN, 1, rbuf, sizeof(rbuf));
    if (r != BLK_S_OK)
        return request_failed(r, 4, "read of sectors 1-2 failed");
    if (memcmp(rbuf, wbuf, sizeof(wbuf)) != 0)
        return fail(6, "sectors 1-2 differ from what was written");

    r = request(BLK_T_FLUSH, 0, NULL, 0);
    if (r == BLK_S_UNSUPP && !(features & BLK_F_FLUSH))
        print_str("blk: flush unsupported (not negotiated)\n");
    else if (r != BLK_S_OK)
        return request_failed(r, 7, "flush failed");

    if (reads && capacity < READ_BLOCK / SECTOR)
        return fail(11, "disk smaller than 4 KiB");
    u64 sector = 0;
    for (u64 i = 0; i < reads; i++) {
        if (sector + READ_BLOCK / SECTOR > capacity)
            sector = 0;
        r = request(BLK_T_IN, sector, block, READ_BLOCK);
        if (r != BLK_S_OK)
            return request_failed(r, 11, "4 KiB read failed");
        sector += READ_BLOCK / SECTOR;
    }

    print_str("blk: ok\n");
    return 0;
}
