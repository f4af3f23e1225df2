/* args: -x errtags */
/* exit: 1 */

/* void is a prototype's only parameter or none. */
int lookup(void, int);
