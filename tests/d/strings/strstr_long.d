/* strstr( ) with needles crossing 8-byte words */
#pragma D option quiet

BEGIN
{
	printf("[%s]\n", strstr("the quick brown fox jumps over the lazy dog", "fox jumps over the"));
	printf("[%s]\n", strstr("xxxxxxxxxxxxxxxxy", "xxxxxxxxy"));
	printf("[%s]\n", strstr("abcdefgh12345678abcdefgh", "h12345678a"));
	printf("[%s]\n", strstr("abcdefgh12345678", "h12345679"));
	exit(0);
}
