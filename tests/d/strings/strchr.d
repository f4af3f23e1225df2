/* strchr( ): the suffix from the first c; not found is NULL, printed as "" here */
#pragma D option quiet

BEGIN
{
	printf("[%s]\n", strchr("hello", 'l'));
	printf("[%s]\n", strchr("hello", 'h'));
	printf("[%s]\n", strchr("hello", 'o'));
	printf("[%s]\n", strchr("hello", 'z'));
	printf("[%s]\n", strchr("", 'a'));
	printf("[%s]\n", strchr("hello", 0));
	exit(0);
}
