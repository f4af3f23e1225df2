/* 2- and 1-byte keys print right-aligned in 5 and 3, zero-extended */
#pragma D option quiet

BEGIN
{
	@s[(short)-1] = count();
	@c[(char)-1] = sum(2);
	@u[(uint16_t)7] = count();
	exit(0);
}
