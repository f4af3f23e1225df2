/* Escape sequences in character constants */
#pragma D option quiet

BEGIN
{
	printf("%d %d %d %d %d\n", '\x41', '\101', '\'', '\\', '\?');
	printf("%d %d %d %d %d\n", '\0', '\t', '"', '\n', '\r');
	exit(0);
}
