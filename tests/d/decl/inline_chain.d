/* An inline may be defined from other inlines */
#pragma D option quiet

inline int BASE = 10;
inline int DOUBLE = BASE * 2;
inline string NAME = "lumen";
inline int LEN = sizeof ("lumen") - 1;

BEGIN
{
	printf("%d %d %s %d\n", BASE, DOUBLE + 1, NAME, LEN);
	exit(0);
}
