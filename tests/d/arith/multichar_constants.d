/* A multi-character constant packs its bytes, the first one highest */
#pragma D option quiet

BEGIN
{
	printf("%d %d %x\n", 'ab', 'abc', 'abcd');
	printf("%x\n", '\x01\x02');
	exit(0);
}
