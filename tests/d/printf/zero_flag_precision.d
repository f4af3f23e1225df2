/* The 0 flag is ignored with a precision or with - */
#pragma D option quiet

BEGIN
{
	printf("[%08.3d][%-08d][%08d]\n", 42, 42, -42);
	exit(0);
}
