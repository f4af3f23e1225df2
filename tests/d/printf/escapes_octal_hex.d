/* Octal, hex and quote escapes in a format string */
#pragma D option quiet

BEGIN
{
	printf("\x41\102\?\'\"\\|\x7e\n");
	exit(0);
}
