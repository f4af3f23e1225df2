#pragma D option quiet
BEGIN
{
	printf("%d %d %d %d %d %d\n", sizeof (char), sizeof (short), sizeof (int), sizeof (long), sizeof (uint16_t), sizeof (int64_t));
	exit(0);
}
