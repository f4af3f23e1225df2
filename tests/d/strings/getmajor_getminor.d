/* getmajor( ) and getminor( ) of Linux dev_t values (major above bit 20) */
#pragma D option quiet

BEGIN
{
	printf("%d\n", getmajor(0x800003));
	printf("%d\n", getminor(0x800003));
	printf("%d\n", getmajor(0));
	printf("%d\n", getminor(0xfffff));
	printf("%d\n", getmajor(0x10300000));
	printf("%d\n", getminor(0x10300001));
	exit(0);
}
