/* args: -x errtags */
/* exit: 1 */
/* An array needs a positive dimension */
int a[0];
