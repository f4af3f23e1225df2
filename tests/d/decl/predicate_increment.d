#pragma D option quiet

/*
 * The idiom /i++ == 0/: the predicate's ++ declares i, and the clause's
 * actions, checked first, see it on DTrace's retry with the predicate
 * first.
 */
BEGIN
/i++ == 0/
{
	printf("first, i = %d\n", i);
}

BEGIN
/i++ == 0/
{
	printf("never: i was 1\n");
}

BEGIN
{
	printf("i = %d\n", i);
	exit(0);
}
