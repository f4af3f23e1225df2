/* trace( ) of strings under -q prints them as they are */
#pragma D option quiet

BEGIN
{
	s = "var";
	trace("lit");
	trace("");
	trace(s);
	trace(strjoin("-", "joined"));
	printf("\n");
	exit(0);
}
