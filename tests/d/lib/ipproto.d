/* ip.d: IPPROTO_* numbers and TCP_MIN_HEADER_LENGTH */
#pragma D option quiet

BEGIN
{
	printf("%d %d %d %d %d\n", IPPROTO_IP, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_IPV6);
	printf("%d %d %d %d %d\n", IPPROTO_GRE, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_RAW, IPPROTO_MAX);
	printf("%d %d %d %d %d\n", IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_FRAGMENT, IPPROTO_NONE, IPPROTO_MH);
	printf("%d\n", TCP_MIN_HEADER_LENGTH);
	exit(0);
}
