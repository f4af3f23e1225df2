/*
 * lumen top: the Network panel. Per zone and vNIC, what the zone sent
 * and was given (vnic:::tx, vnic:::rx), what its anti-spoofing
 * classifier dropped (vnic:::drop), and per zone the TCP connections
 * opened either way (the zone of a socket is its network namespace's).
 * The panel reads, by name:
 *
 *   @pkts[zonename, vnic]    frames through the vNIC, both ways
 *   @bytes[zonename, vnic]   their bytes
 *   @drops[zonename, vnic]   frames the classifier dropped
 *   @conns[zonename]         TCP connections established
 */

vnic:::tx, vnic:::rx
{
	@pkts[zonename, args[0]] = count();
	@bytes[zonename, args[0]] = sum(args[1]);
}

vnic:::drop
{
	@drops[zonename, args[0]] = count();
}

tcp:::accept-established, tcp:::connect-established
{
	@conns[zonename] = count();
}
