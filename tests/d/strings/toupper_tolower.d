/* toupper( ) and tolower( ) change only ASCII letters */
#pragma D option quiet

BEGIN
{
	printf("[%s]\n", toupper("Hello, World! 123"));
	printf("[%s]\n", tolower("Hello, World! 123"));
	printf("[%s]\n", toupper(""));
	printf("[%s]\n", tolower("@[`{"));
	exit(0);
}
