/* ~ keeps its operand's type: int, unsigned int, uint8_t, uint16_t */
#pragma D option quiet

BEGIN
{
	i = 0; u = 0u; b = (uint8_t)0; h = (uint16_t)0x0f0f;
	printf("%d %d %d %x\n", ~i, ~u, ~b, ~h);
	exit(0);
}
