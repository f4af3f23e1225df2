/* strjoin( ) with empty strings, and nested */
#pragma D option quiet

BEGIN
{
	printf("[%s][%s][%s][%s]\n", strjoin("", ""), strjoin("a", ""),
	    strjoin("", "b"), strjoin(strjoin("a", "b"), "c"));
	exit(0);
}
