/* %hd %hu %hx %hX print a short's value as a short */
#pragma D option quiet

BEGIN
{
	printf("%hd %hu %hx %hX\n", (short)-2, (unsigned short)65535,
	    (short)-1, (short)255);
	exit(0);
}
