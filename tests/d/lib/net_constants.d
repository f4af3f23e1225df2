/* net.d: address families, ARP hardware types, probe directions */
#pragma D option quiet

BEGIN
{
	printf("%d %d\n", AF_INET, AF_INET6);
	printf("%d %d\n", ARPHRD_ETHER, ARPHRD_INFINIBAND);
	printf("%d %d\n", NET_PROBE_OUTBOUND, NET_PROBE_INBOUND);
	exit(0);
}
