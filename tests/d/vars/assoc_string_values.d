#pragma D option quiet
BEGIN
{
	names[1] = "one"; names[2] = "two";
	printf("%s %s [%s]\n", names[2], names[1], names[3]);
	exit(0);
}
