#pragma D option quiet

/* A string literal's size is its bytes and the NUL; a string's, strsize. */
BEGIN
{
	printf("%d %d %d %d\n", sizeof("hi"), sizeof(""), sizeof("a\tb"), sizeof(execname));
	exit(0);
}
