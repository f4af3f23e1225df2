/*
 * tcpconn-zone: TCP connections per zone, as they open and fail: accepted
 * and made (with the peer's address), refused either way, every 5
 * seconds. The zone is the socket's network namespace's.
 *
 *   lumen dtrace -s examples/tcpconn-zone.d
 */
#pragma D option quiet

tcp:::accept-established
{
	@conns[zonename, "accepted", args[3]->tcps_raddr] = count();
}

tcp:::connect-established
{
	@conns[zonename, "connected", args[3]->tcps_raddr] = count();
}

tcp:::accept-refused
{
	@conns[zonename, "refused (in)", args[2]->ip_saddr] = count();
}

tcp:::connect-refused
{
	@conns[zonename, "refused (out)", args[3]->tcps_raddr] = count();
}

tick-5s
{
	printf("%-36s %-14s %-40s %s\n", "ZONE", "EVENT", "PEER", "COUNT");
	printa("%-36s %-14s %-40s %@d\n", @conns);
	printf("\n");
	clear(@conns);
}
