/* A fault in END names END's probe ID, 2, and its clause */
#pragma D option quiet

BEGIN
{
	z = 0;
	exit(0);
}

END
{
	printf("end\n");
	x = 1 / z;
}
