/* index( ) and rindex( ) with a start position: six searches in one
   clause load on the kernel (each loop exit a fall-through). */
#pragma D option quiet
BEGIN
{
	printf("%d %d %d\n", index("abcabc", "bc", 2), index("abcabc", "bc", 5), index("abc", "", 1));
	printf("%d %d %d\n", rindex("abcabc", "bc", 3), rindex("abcabc", "bc", 0), rindex("abcabc", "a"));
	exit(0);
}
