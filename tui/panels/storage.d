/*
 * lumen top: the Storage panel. Block I/O per zone and device: how many
 * requests completed, their bytes, and how long each took from issue to
 * completion. The panel keeps the devices of the zones pool (a zone's
 * datasets all live there) and puts each zone's numbers on its dataset's
 * row; with no pool it shows every device's I/O per zone. It reads, by
 * name:
 *
 *   @latency[zone, dev]  request latency in nanoseconds, issue to
 *                        completion; its total per interval is the
 *                        panel's ops/s, its p50/p99 come from the buckets
 *   @bytes[zone, dev]    the requests' bytes
 *
 * dev is the request's device as D's b_edev (major << 20 | minor).
 *
 * io:::start fires in the thread that issues a request, so zonename there
 * is the zone that asked; io:::done fires wherever the device completes
 * it, so the request (device and block) carries the zone from one to the
 * other. What the kernel writes back later on a zone's behalf (page cache
 * flushes) is a kernel worker's, and counts as "global".
 *
 * llquantize(x, 10, 2, 9, 10): ten linear steps per decade from 100 ns to
 * 10 s, as the Zones panel's latencies.
 */

io:::start
{
	storage_ts[args[0]->b_edev, args[0]->b_blkno] = timestamp;
	storage_zone[args[0]->b_edev, args[0]->b_blkno] = zonename;
}

io:::done
/storage_ts[args[0]->b_edev, args[0]->b_blkno]/
{
	this->zone = storage_zone[args[0]->b_edev, args[0]->b_blkno];
	@latency[this->zone, args[0]->b_edev] = llquantize(
	    timestamp - storage_ts[args[0]->b_edev, args[0]->b_blkno], 10, 2, 9, 10);
	@bytes[this->zone, args[0]->b_edev] = sum(args[0]->b_bcount);
	storage_ts[args[0]->b_edev, args[0]->b_blkno] = 0;
	storage_zone[args[0]->b_edev, args[0]->b_blkno] = "";
}
