/* strjoin( ): concatenation, empty operands */
#pragma D option quiet

BEGIN
{
	printf("[%s]\n", strjoin("foo", "bar"));
	printf("[%s]\n", strjoin("", "bar"));
	printf("[%s]\n", strjoin("foo", ""));
	printf("[%s]\n", strjoin("", ""));
	printf("[%s]\n", strjoin(strjoin("a", "b"), strjoin("c", "d")));
	exit(0);
}
