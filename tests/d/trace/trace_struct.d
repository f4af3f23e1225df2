#pragma D option quiet
/* trace() of a struct records its bytes: shown as a string when they are
   printable then NULs, else as DTrace's hex dump. */
struct pair { int a; int b; };
struct name { char s[8]; };
struct pair p;
struct name n;

BEGIN
{
	p.a = 1;
	p.b = 0x41424344;
	n.s[0] = 'h';
	n.s[1] = 'i';
	trace(p);
	trace(n);
	printf("\n");
	exit(0);
}
