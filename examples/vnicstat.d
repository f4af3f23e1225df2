/*
 * vnicstat: per-vNIC packets/s, bytes/s and drops, every second, as the
 * vNIC's zone sees them: OPKTS/OBYTES what it sent (vnic:::tx), IPKTS/
 * IBYTES what it was given (vnic:::rx), DROPS what its anti-spoofing
 * classifier dropped (vnic:::drop), by reason at the end.
 *
 *   lumen dtrace -s examples/vnicstat.d
 */
#pragma D option quiet

vnic:::tx
{
	@opkts[args[0], zonename] = count();
	@obytes[args[0], zonename] = sum(args[1]);
}

vnic:::rx
{
	@ipkts[args[0], zonename] = count();
	@ibytes[args[0], zonename] = sum(args[1]);
}

vnic:::drop
{
	@drops[args[0], zonename] = count();
	@reasons[args[0], args[2]] = count();
}

tick-1s
{
	printf("%-14s %-36s %8s %10s %8s %10s %6s\n", "VNIC", "ZONE",
	    "OPKTS/s", "OBYTES/s", "IPKTS/s", "IBYTES/s", "DROPS");
	printa("%-14s %-36s %@8d %@10d %@8d %@10d %@6d\n",
	    @opkts, @obytes, @ipkts, @ibytes, @drops);
	printf("\n");
	clear(@opkts);
	clear(@obytes);
	clear(@ipkts);
	clear(@ibytes);
	clear(@drops);
}

END
{
	printf("drops by reason:\n");
	printa("  %-14s %-12s %@d\n", @reasons);
}
