#pragma D option quiet
/* A clause may hold more than 64 data-recording actions: 70 here, the
   last few in an if, whose skipped branch records nothing. */
BEGIN
{
	printf("%d ", 0);
	printf("%d ", 1);
	printf("%d ", 2);
	printf("%d ", 3);
	printf("%d ", 4);
	printf("%d ", 5);
	printf("%d ", 6);
	printf("%d ", 7);
	printf("%d ", 8);
	printf("%d ", 9);
	printf("%d ", 10);
	printf("%d ", 11);
	printf("%d ", 12);
	printf("%d ", 13);
	printf("%d ", 14);
	printf("%d ", 15);
	printf("%d ", 16);
	printf("%d ", 17);
	printf("%d ", 18);
	printf("%d ", 19);
	printf("%d ", 20);
	printf("%d ", 21);
	printf("%d ", 22);
	printf("%d ", 23);
	printf("%d ", 24);
	printf("%d ", 25);
	printf("%d ", 26);
	printf("%d ", 27);
	printf("%d ", 28);
	printf("%d ", 29);
	printf("%d ", 30);
	printf("%d ", 31);
	printf("%d ", 32);
	printf("%d ", 33);
	printf("%d ", 34);
	printf("%d ", 35);
	printf("%d ", 36);
	printf("%d ", 37);
	printf("%d ", 38);
	printf("%d ", 39);
	printf("%d ", 40);
	printf("%d ", 41);
	printf("%d ", 42);
	printf("%d ", 43);
	printf("%d ", 44);
	printf("%d ", 45);
	printf("%d ", 46);
	printf("%d ", 47);
	printf("%d ", 48);
	printf("%d ", 49);
	printf("%d ", 50);
	printf("%d ", 51);
	printf("%d ", 52);
	printf("%d ", 53);
	printf("%d ", 54);
	printf("%d ", 55);
	printf("%d ", 56);
	printf("%d ", 57);
	printf("%d ", 58);
	printf("%d ", 59);
	printf("%d ", 60);
	printf("%d ", 61);
	printf("%d ", 62);
	printf("%d ", 63);
	printf("%d ", 64);
	printf("%d ", 65);
	if (1 > 2) {
		printf("never\n");
	} else {
		printf("else");
	}
	trace(" end");
	exit(0);
}
