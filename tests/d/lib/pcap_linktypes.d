/* pcap.d: link types for pcap( ) */
#pragma D option quiet

BEGIN
{
	printf("%d %d %d %d %d %d\n", PCAP_NULL, PCAP_ETHER, PCAP_WIFI, PCAP_PPP, PCAP_IP, PCAP_IPOIB);
	exit(0);
}
