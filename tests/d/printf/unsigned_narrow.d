/* %u %x %o of negative narrow values print them at their own width */
#pragma D option quiet

BEGIN
{
	printf("%u %x %o %X\n", (char)-1, (short)-1, (int8_t)-1, (uint16_t)-1);
	exit(0);
}
