/* A string's bytes compared with character constants in predicates */
#pragma D option quiet

BEGIN
{
	s = "dtrace";
}

BEGIN
/s[0] == 'd' && s[1] != 'x'/
{
	printf("match %c\n", s[5]);
}

BEGIN
/s[6] != 0/
{
	printf("never\n");
}

BEGIN
{
	exit(0);
}
