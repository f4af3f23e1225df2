/* args: -x errtags */
/* exit: 1 */
/* A struct may be defined once */
struct s { int a; };
struct s { int b; };
