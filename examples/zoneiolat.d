/*
 * Block I/O latency per zone, in nanoseconds, and I/O counts.
 *
 * io:::start fires in the thread that issues a request, so zonename there
 * is the zone that did the I/O; io:::done fires wherever the device
 * completes it (an interrupt, a kernel worker), so the request itself
 * (device and block) carries the zone from one to the other.
 * A zone's reads and writes on its dataset reach the pool's device from
 * the zone's own threads; what the kernel writes back later for it
 * (page cache flushes) is a kernel worker's, and shows as "global".
 */
io:::start
{
	ts[args[0]->b_edev, args[0]->b_blkno] = timestamp;
	zone[args[0]->b_edev, args[0]->b_blkno] = zonename;
}

io:::done
/ts[args[0]->b_edev, args[0]->b_blkno]/
{
	this->zone = zone[args[0]->b_edev, args[0]->b_blkno];
	@lat[this->zone] = quantize(timestamp - ts[args[0]->b_edev, args[0]->b_blkno]);
	@ios[this->zone] = count();
	ts[args[0]->b_edev, args[0]->b_blkno] = 0;
	zone[args[0]->b_edev, args[0]->b_blkno] = "";
}
