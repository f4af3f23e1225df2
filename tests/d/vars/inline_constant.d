#pragma D option quiet
inline int LIMIT = 7;
inline string WHO = "inline";

BEGIN
{
	printf("%d %s\n", LIMIT * 6, WHO);
	exit(0);
}
