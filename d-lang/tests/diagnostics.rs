//! Negative tests: each script fails with DTrace's tag and exact message.
//!
//! Cases are named after the tag they expect. The expected text is what
//! `dtrace -x errtags -s FILE` prints after `failed to compile script FILE: `.

use d_lang::catalog::StaticCatalog;
use d_lang::{compile, CompileOptions, DescField, Origin};
use std::collections::BTreeSet;

/// (tag, script, expected message body with `[TAG] line N: `).
const CASES: &[(&str, &str, &str)] = &[
    ("D_SYNTAX", "BEGIN { x = ; }", "[D_SYNTAX] line 1: syntax error near \";\""),
    ("D_SYNTAX", "BEGIN\n{\n\ttrace(1)\n\ttrace(2);\n}", "[D_SYNTAX] line 4: syntax error near \"trace\""),
    ("D_SYNTAX", "BEGIN { trace(1); }\n}", "[D_SYNTAX] line 2: extra } in input stream"),
    ("D_SYNTAX", "BEGIN { trace(1.5); }", "[D_SYNTAX] line 1: floating-point constants are not permitted"),
    ("D_SYNTAX", "BEGIN\n", "[D_SYNTAX] line 1: expected predicate and/or actions following probe description"),
    ("D_SYNTAX", "BEGIN { trace(1); ", "[D_SYNTAX] line 1: syntax error near end of input"),
    ("D_SYNTAX", "BEGIN /* never closed", "[D_SYNTAX] line 1: end-of-file encountered before matching */"),
    ("D_PDESC_ZERO", "nosuch:::probe { }", "[D_PDESC_ZERO] line 1: probe description nosuch:::probe does not match any probes"),
    ("D_PDESC_ZERO", "syscall::nosuch:entry { }", "[D_PDESC_ZERO] line 1: probe description syscall::nosuch:entry does not match any probes"),
    ("D_PDESC_INVAL", "a:b:c:d:e { }", "[D_PDESC_INVAL] line 1: invalid probe description \"a:b:c:d:e\": Overspecified probe description"),
    ("D_IDENT_UNDEF", "BEGIN { trace(x); }", "[D_IDENT_UNDEF] line 1: failed to resolve x: Unknown variable name"),
    ("D_VAR_UNDEF", "BEGIN { trace(self->x); }", "[D_VAR_UNDEF] line 1: self->x has not yet been declared or assigned"),
    ("D_VAR_UNDEF", "BEGIN { trace(this->y); }", "[D_VAR_UNDEF] line 1: this->y has not yet been declared or assigned"),
    ("D_PROTO_LEN", "BEGIN { trace(1, 2); }", "[D_PROTO_LEN] line 1: trace( ) prototype mismatch: 2 args passed, 1 expected"),
    ("D_PROTO_LEN", "BEGIN { exit(); }", "[D_PROTO_LEN] line 1: exit( ) prototype mismatch: 0 args passed, 1 expected"),
    ("D_PROTO_LEN", "BEGIN { x = substr(\"a\"); }", "[D_PROTO_LEN] line 1: substr( ) prototype mismatch: 1 arg passed, at least 2 expected"),
    ("D_PROTO_LEN", "BEGIN { x[1, 2] = 3; trace(x[1]); }", "[D_PROTO_LEN] line 1: x[ ] prototype mismatch: 1 key passed, 2 expected"),
    ("D_PROTO_LEN", "BEGIN { @a[1] = count(); @a[1, 2] = count(); }", "[D_PROTO_LEN] line 1: @a[ ] prototype mismatch: 2 keys passed, 1 expected"),
    ("D_PROTO_ARG", "BEGIN { exit(\"no\"); }", "[D_PROTO_ARG] line 1: exit( ) argument #1 is incompatible with prototype:\n\tprototype: int\n\t argument: string"),
    ("D_PROTO_ARG", "BEGIN { x = strlen(1); }", "[D_PROTO_ARG] line 1: strlen( ) argument #1 is incompatible with prototype:\n\tprototype: string\n\t argument: int"),
    ("D_PROTO_ARG", "BEGIN { x[1] = 2; trace(x[\"a\"]); }", "[D_PROTO_ARG] line 1: x[ ] key #1 is incompatible with prototype:\n\tprototype: int\n\t      key: string"),
    ("D_OP_INCOMPAT", "BEGIN { x = \"a\" + \"b\"; }", "[D_OP_INCOMPAT] line 1: operands have incompatible types: \"string\" + \"string\""),
    ("D_OP_INCOMPAT", "BEGIN { x = 1; x = \"s\"; }", "[D_OP_INCOMPAT] line 1: operands have incompatible types: \"int\" = \"string\""),
    ("D_OP_INCOMPAT", "BEGIN { trace(execname == 1); }", "[D_OP_INCOMPAT] line 1: operands have incompatible types: \"string\" == \"int\""),
    ("D_OP_INCOMPAT", "BEGIN { trace(1 ? \"a\" : 2); }", "[D_OP_INCOMPAT] line 1: operator ?: operands must have compatible types"),
    ("D_OP_LVAL", "BEGIN { 1 = 2; }", "[D_OP_LVAL] line 1: operator = requires modifiable lvalue as an operand"),
    ("D_OP_LVAL", "BEGIN { x = 1; (x + 1)++; }", "[D_OP_LVAL] line 1: operator ++ requires modifiable lvalue as an operand"),
    ("D_OP_WRITE", "BEGIN { pid = 1; }", "[D_OP_WRITE] line 1: operator = can only be applied to a writable variable"),
    ("D_OP_WRITE", "BEGIN { timestamp++; }", "[D_OP_WRITE] line 1: operator ++ can only be applied to a writable variable"),
    ("D_OP_INT", "BEGIN { x = \"a\" % 2; }", "[D_OP_INT] line 1: operator % requires operands of integral type"),
    ("D_OP_INT", "BEGIN { x = ~\"a\"; }", "[D_OP_INT] line 1: operator ~ requires an operand of integral type"),
    ("D_OP_ARITH", "BEGIN { x = \"a\" * 2; }", "[D_OP_ARITH] line 1: operator * requires operands of arithmetic type"),
    ("D_OP_ARITH", "BEGIN { x = -execname; }", "[D_OP_ARITH] line 1: operator - requires an operand of arithmetic type"),
    ("D_OP_SCALAR", "BEGIN { x = !execname; }", "[D_OP_SCALAR] line 1: operator ! requires an operand of scalar type"),
    ("D_OP_SCALAR", "BEGIN { x = execname && 1; }", "[D_OP_SCALAR] line 1: operator && requires operands of scalar type"),
    ("D_OP_PTR", "BEGIN { x = 1; trace(x->y); }", "[D_OP_PTR] line 1: operator -> must be applied to a pointer"),
    // The sample catalogue has no kernel types: task_struct is a forward declaration.
    ("D_OP_INCOMPLETE", "BEGIN { trace(curthread->pid); }", "[D_OP_INCOMPLETE] line 1: operator -> cannot be applied to a forward declaration: no struct task_struct definition is available"),
    ("D_OP_INCOMPLETE", "struct foo *p;\nBEGIN { trace(p->x); }", "[D_OP_INCOMPLETE] line 2: operator -> cannot be applied to a forward declaration: no struct foo definition is available"),
    ("D_OP_SOU", "BEGIN { x = 1; trace(x.y); }", "[D_OP_SOU] line 1: operator . cannot be applied to type \"int\"; must be applied to a struct or union"),
    ("D_OP_SOU", "BEGIN { trace(((int *)arg0)->x); }", "[D_OP_SOU] line 1: operator -> cannot be applied to pointer to type \"int\"; must be applied to a struct or union pointer"),
    ("D_TYPE_MEMBER", "struct s { int a; };\nstruct s v;\nBEGIN { trace(v.b); }", "[D_TYPE_MEMBER] line 3: b is not a member of struct s"),
    // An unknown struct is a forward declaration; an unknown enum is
    // unresolvable (the text after the colon is libdtrace's EDT_NOTYPE).
    ("D_UNKNOWN", "BEGIN { x = (struct nosuch *)0; trace(sizeof (enum nope)); }", "[D_UNKNOWN] line 1: failed to resolve type enum nope: Unknown type name"),
    ("D_DEREF_NONPTR", "BEGIN { x = 1; trace(*x); }", "[D_DEREF_NONPTR] line 1: cannot dereference non-pointer type"),
    ("D_DEREF_VOID", "BEGIN { trace(*(void *)arg0); }", "[D_DEREF_VOID] line 1: cannot dereference pointer to void"),
    ("D_ADDROF_VAR", "BEGIN { x = 1; trace(&x); }", "[D_ADDROF_VAR] line 1: cannot take address of dynamic variable"),
    ("D_ADDROF_LVAL", "BEGIN { trace(&1); }", "[D_ADDROF_LVAL] line 1: unacceptable operand for unary & operator"),
    ("D_AGG_REDEF", "BEGIN { @a = count(); @a = sum(1); }", "[D_AGG_REDEF] line 1: aggregation redefined: @a\n\t current: @a = sum( )\n\tprevious: @a = count( ) : line 1"),
    ("D_AGG_REDEF", "BEGIN\n{\n\t@a[1] = count();\n}\nEND\n{\n\t@a[2] = max(3);\n}", "[D_AGG_REDEF] line 7: aggregation redefined: @a\n\t current: @a = max( )\n\tprevious: @a = count( ) : line 3"),
    ("D_AGG_REDEF", "# 1 \"x.d\"\nBEGIN { @a = count(); }\nEND { @a = sum(1); }", "[D_AGG_REDEF] \"x.d\", line 2: aggregation redefined: @a\n\t current: @a = sum( )\n\tprevious: @a = count( ) : line 1"),
    ("D_AGG_SCALAR", "BEGIN { @a = sum(execname); }", "[D_AGG_SCALAR] line 1: sum( ) argument #1 must be of scalar type"),
    ("D_AGG_FUNC", "BEGIN { @a = 1; }", "[D_AGG_FUNC] line 1: @a must be assigned the result of an aggregating function"),
    ("D_AGG_FUNC", "BEGIN { @a += count(); }", "[D_AGG_FUNC] line 1: @a must be assigned the result of an aggregating function"),
    ("D_AGG_FUNC", "BEGIN { @a = 1; }", "[D_AGG_FUNC] line 1: @a must be assigned the result of an aggregating function"),
    ("D_OP_INCOMPAT", "BEGIN { x = count(); }", "[D_OP_INCOMPAT] line 1: operands have incompatible types: \"scalar\" = \"aggregating function\""),
    ("D_OP_INCOMPAT", "BEGIN { x = trace(1); }", "[D_OP_INCOMPAT] line 1: operands have incompatible types: \"void\" = \"void\""),
    ("D_AGG_NULL", "BEGIN { @a = count(); @a; }", "[D_AGG_NULL] line 1: expression has null effect: @a"),
    ("D_OP_ACT", "BEGIN { trace(1), trace(2); }", "[D_OP_ACT] line 1: operator , operands cannot be actions"),
    ("D_OP_ACT", "BEGIN { x = arg0 ? trace(1) : trace(2); }", "[D_OP_ACT] line 1: action cannot be used in a conditional context"),
    ("D_OP_INCOMPAT", "BEGIN { x = arg0 ? trace(1) : 2; }", "[D_OP_INCOMPAT] line 1: operator ?: operands must have compatible types"),
    ("D_OP_SCALAR", "BEGIN { x = execname ? 1 : 2; }", "[D_OP_SCALAR] line 1: operator ?: expression must be of scalar type"),
    ("D_AGG_MDIM", "BEGIN { @a[1][2] = count(); }", "[D_AGG_MDIM] line 1: improper attempt to reference @a as a multi-dimensional array"),
    ("D_KEY_TYPE", "BEGIN { @a[trace(1)] = count(); }", "[D_KEY_TYPE] line 1: void expression may not be used as aggregation index: key #1"),
    ("D_KEY_TYPE", "BEGIN { @a[1, (void)0] = count(); }", "[D_KEY_TYPE] line 1: void expression may not be used as aggregation index: key #2"),
    ("D_KEY_TYPE", "BEGIN { x[trace(1)] = 1; }", "[D_KEY_TYPE] line 1: void expression may not be used as associative array index: key #1"),
    // The action's own prototype is checked first.
    ("D_PROTO_LEN", "BEGIN { @a[trace(1, 2)] = count(); }", "[D_PROTO_LEN] line 1: trace( ) prototype mismatch: 2 args passed, 1 expected"),
    ("D_KEY_TYPE", "BEGIN { x[(void)0] = 1; }", "[D_KEY_TYPE] line 1: void expression may not be used as associative array index: key #1"),
    ("D_DECL_IDRED", "int x;\nstring x;", "[D_DECL_IDRED] line 2: identifier redeclared: x\n\t current: scalar string\n\tprevious: scalar int"),
    ("D_DECL_IDRED", "int x;\nint x[int];", "[D_DECL_IDRED] line 2: identifier redeclared: x\n\t current: associative array int\n\tprevious: scalar int"),
    ("D_DECL_IDRED", "int a[int];\nint a[int, int];", "[D_DECL_IDRED] line 2: identifier redeclared: a\n\t current: associative array of int, tuple length 2\n\tprevious: associative array of int, tuple length 1"),
    ("D_DECL_IDRED", "int a[int, int];\nint a[int, string];", "[D_DECL_IDRED] line 2: identifier redeclared: a\n\t current: associative array, key #2 of type string\n\tprevious: associative array, key #2 of type int"),
    ("D_DECL_IDRED", "int pid;", "[D_DECL_IDRED] line 1: built-in identifier redeclared: pid"),
    ("D_DECL_IDRED", "int strlen;", "[D_DECL_IDRED] line 1: built-in identifier redeclared: strlen"),
    // An inline over an existing global; the last word is `inline` when
    // that global was one (else empty, leaving a trailing space).
    ("D_DECL_IDRED", "int x;\ninline int x = 1;", "[D_DECL_IDRED] line 2: identifier redefined: x\n\t current: inline definition\n\tprevious: scalar "),
    ("D_DECL_IDRED", "inline int x = 1;\ninline int x = 2;", "[D_DECL_IDRED] line 2: identifier redefined: x\n\t current: inline definition\n\tprevious: scalar inline"),
    ("D_DECL_VOIDOBJ", "void v;", "[D_DECL_VOIDOBJ] line 1: cannot have void object: v"),
    ("D_DECL_LOCASSC", "this int a[int];", "[D_DECL_LOCASSC] line 1: associative arrays may not be declared as local variables: a"),
    ("D_DECL_COMBO", "short long x;", "[D_DECL_COMBO] line 1: invalid type combination"),
    ("D_DECL_SIGNINT", "unsigned string s;", "[D_DECL_SIGNINT] line 1: invalid type declaration: signed and unsigned may only be used with integer type"),
    ("D_DECL_SIGNINT", "signed double d;", "[D_DECL_SIGNINT] line 1: invalid type declaration: signed and unsigned may only be used with integer type"),
    ("D_DECL_LONGINT", "long string s;", "[D_DECL_LONGINT] line 1: invalid type declaration: long and long long may only be used with integer or floating-point type"),
    ("D_DECL_CHARATTR", "short char c;", "[D_DECL_CHARATTR] line 1: invalid type declaration: short and long may not be used with char type"),
    ("D_DECL_VOIDATTR", "unsigned void v;", "[D_DECL_VOIDATTR] line 1: invalid type declaration: attributes may not be used with void type"),
    // The reference does not say what DTrace reports for these two
    // (repeated attributes); Lumen's tags and text are unverified.
    ("D_DECL_SIGNINT", "signed unsigned x;", "[D_DECL_SIGNINT] line 1: invalid type combination"),
    ("D_DECL_LONGINT", "long long long x;", "[D_DECL_LONGINT] line 1: invalid type combination"),
    ("D_DECL_USELESS", "int;", "[D_DECL_USELESS] line 1: useless declaration"),
    ("D_DECL_ARRNULL", "int a[];", "[D_DECL_ARRNULL] line 1: array declaration requires array dimension or tuple signature: a"),
    ("D_DECL_ARRSUB", "int a[-1];", "[D_DECL_ARRSUB] line 1: positive integral constant expression or tuple signature expected as array declaration subscript"),
    ("D_DECL_TYPERED", "struct s { int a; };\nstruct s { int b; };", "[D_DECL_TYPERED] line 2: type redeclared: struct s"),
    // Not DTrace's text: the reference does not say what DTrace reports
    // for a repeated member name (its D_DECL_MNAME is for a nameless one).
    ("D_DECL_MNAME", "struct s { int a; char a; };", "[D_DECL_MNAME] line 1: member redeclared: a"),
    ("D_DECL_BFTYPE", "struct s { string a : 3; };", "[D_DECL_BFTYPE] line 1: invalid type for bit-field: a"),
    ("D_DECL_BFSIZE", "struct s { int a : 40; };", "[D_DECL_BFSIZE] line 1: bit-field too big for type: a"),
    ("D_DECL_BFSIZE", "struct s { char c : 9; };", "[D_DECL_BFSIZE] line 1: bit-field too big for type: c"),
    ("D_DECL_BFCONST", "struct s { int a : 0; };", "[D_DECL_BFCONST] line 1: positive integral constant expression expected as bit-field size"),
    ("D_DECL_BFCONST", "struct s { int a : arg0; };", "[D_DECL_BFCONST] line 1: positive integral constant expression expected as bit-field size"),
    ("D_DECL_VOIDOBJ", "struct s { void v; };", "[D_DECL_VOIDOBJ] line 1: cannot have void member: v"),
    ("D_DECL_ENCONST", "enum e { A = \"x\" };", "[D_DECL_ENCONST] line 1: enumerator 'A' must be assigned to an integral constant expression"),
    ("D_DECL_ARRBIG", "int a[4294967296];", "[D_DECL_ARRBIG] line 1: array dimension too big"),
    ("D_DECL_BADCLASS", "static int x;", "[D_DECL_BADCLASS] line 1: specified storage class not appropriate in D"),
    ("D_DECL_BADCLASS", "BEGIN { register int x; }", "[D_DECL_BADCLASS] line 1: specified storage class not appropriate in D"),
    ("D_DECL_PROTO_FORM", "int f(int a, int a);", "[D_DECL_PROTO_FORM] line 1: parameter is already declared in function prototype: a, parameter #2"),
    ("D_DECL_PROTO_NAME", "int f(void v);", "[D_DECL_PROTO_NAME] line 1: void parameter may not have a name: v"),
    ("D_DECL_PROTO_VOID", "int f(void, int);", "[D_DECL_PROTO_VOID] line 1: void must be sole parameter"),
    ("D_SYNTAX", "int x = 1;", "[D_SYNTAX] line 1: syntax error near \"=\""),
    ("D_EMPTY", "int x;", "[D_EMPTY] line 1: empty D program translation unit"),
    ("D_EMPTY", "#pragma D option quiet\n/* nothing */\nstruct s { int a; };\n", "[D_EMPTY] line 4: empty D program translation unit"),
    ("D_DECL_ENOFLOW", "enum e { A = 2147483647, B };", "[D_DECL_ENOFLOW] line 1: enumerator 'B' value overflows INT_MAX (2147483647)"),
    ("D_DECL_CLASS", "self this int x;", "[D_DECL_CLASS] line 1: only one storage class allowed in a declaration"),
    ("D_DECL_INCOMPLETE", "struct fwd;\nstruct fwd v;", "[D_DECL_INCOMPLETE] line 2: incomplete struct/union/enum struct fwd: v"),
    ("D_DECL_INCOMPLETE", "struct nosuch s;", "[D_DECL_INCOMPLETE] line 1: incomplete struct/union/enum struct nosuch: s"),
    ("D_DECL_INCOMPLETE", "struct s { struct fwd f; };", "[D_DECL_INCOMPLETE] line 1: incomplete struct/union/enum struct fwd: f"),
    ("D_LQUANT_BASETYPE", "BEGIN { @ = lquantize(1, x, 10); }", "[D_IDENT_UNDEF] line 1: failed to resolve x: Unknown variable name"),
    ("D_LQUANT_BASETYPE", "BEGIN { @ = lquantize(1, arg0, 10); }", "[D_LQUANT_BASETYPE] line 1: lquantize( ) argument #1 must be an integer constant"),
    ("D_LQUANT_BASEVAL", "BEGIN { @ = lquantize(1, 0x100000000, 0x100000010); }", "[D_LQUANT_BASEVAL] line 1: lquantize( ) argument #1 must be a 32-bit quantity"),
    ("D_LQUANT_LIMTYPE", "BEGIN { @ = lquantize(1, 0, arg1); }", "[D_LQUANT_LIMTYPE] line 1: lquantize( ) argument #2 must be an integer constant"),
    ("D_LQUANT_LIMVAL", "BEGIN { @ = lquantize(1, 0, 0x100000000); }", "[D_LQUANT_LIMVAL] line 1: lquantize( ) argument #2 must be a 32-bit quantity"),
    ("D_LQUANT_MISMATCH", "BEGIN { @ = lquantize(1, 10, 0); }", "[D_LQUANT_MISMATCH] line 1: lquantize( ) base (argument #1) must be less than limit (argument #2)"),
    ("D_LQUANT_STEPTYPE", "BEGIN { @ = lquantize(1, 0, 10, 0); }", "[D_LQUANT_STEPTYPE] line 1: lquantize( ) argument #3 must be a non-zero positive integer constant"),
    ("D_LQUANT_STEPVAL", "BEGIN { @ = lquantize(1, 0, 1000000, 100000); }", "[D_LQUANT_STEPVAL] line 1: lquantize( ) argument #3 must be a 16-bit quantity"),
    ("D_LQUANT_STEPLARGE", "BEGIN { @ = lquantize(1, 0, 10, 20); }", "[D_LQUANT_STEPLARGE] line 1: lquantize( ) step (argument #3) too large: must have at least one quantization level"),
    ("D_LQUANT_STEPSMALL", "BEGIN { @ = lquantize(1, 0, 1000000); }", "[D_LQUANT_STEPSMALL] line 1: lquantize( ) step (argument #3) too small: number of quantization levels must be a 16-bit quantity"),
    ("D_LQUANT_MATCHBASE", "BEGIN { @ = lquantize(1, 0, 10); @ = lquantize(1, 1, 10); }", "[D_LQUANT_MATCHBASE] line 1: lquantize( ) base (argument #1) doesn't match previous declaration: expected 0, found 1"),
    ("D_LLQUANT_FACTORTYPE", "BEGIN { @ = llquantize(1, arg0, 0, 6, 10); }", "[D_LLQUANT_FACTORTYPE] line 1: llquantize( ) argument #1 must be an integer constant"),
    ("D_LLQUANT_FACTORVAL", "BEGIN { @ = llquantize(1, 70000, 0, 6, 10); }", "[D_LLQUANT_FACTORVAL] line 1: llquantize( ) argument #1 must be an unsigned 16-bit quantity greater than or equal to 2"),
    ("D_LLQUANT_FACTORVAL", "BEGIN { @a = llquantize(1, 1, 0, 6, 20); }", "[D_LLQUANT_FACTORVAL] line 1: llquantize( ) argument #1 must be an unsigned 16-bit quantity greater than or equal to 2"),
    ("D_LLQUANT_LMAGTYPE", "BEGIN { @ = llquantize(1, 10, arg0, 6, 10); }", "[D_LLQUANT_LMAGTYPE] line 1: llquantize( ) argument #2 must be an integer constant"),
    ("D_LLQUANT_LMAGVAL", "BEGIN { @a = llquantize(1, 10, 70000, 70001, 20); }", "[D_LLQUANT_LMAGVAL] line 1: llquantize( ) argument #2 must be an unsigned 16-bit quantity"),
    ("D_LLQUANT_HMAGTYPE", "BEGIN { @ = llquantize(1, 10, 0, arg0, 10); }", "[D_LLQUANT_HMAGTYPE] line 1: llquantize( ) argument #3 must be an integer constant"),
    ("D_LLQUANT_HMAGVAL", "BEGIN { @a = llquantize(1, 10, 0, 70000, 20); }", "[D_LLQUANT_HMAGVAL] line 1: llquantize( ) argument #3 must be an unsigned 16-bit quantity"),
    ("D_LLQUANT_HMAGVAL", "BEGIN { @a = llquantize(1, 10, 6, 2, 20); }", "[D_LLQUANT_HMAGVAL] line 1: llquantize( ) argument #3 (high magnitude) must be at least argument #2 (low magnitude)"),
    ("D_LLQUANT_HMAGVAL", "BEGIN { @ = llquantize(1, 10, 0, 30, 10); }", "[D_LLQUANT_HMAGVAL] line 1: llquantize( ) argument #3 (high magnitude) will cause overflow of 64 bits"),
    ("D_LLQUANT_STEPTYPE", "BEGIN { @ = llquantize(1, 10, 0, 6, arg0); }", "[D_LLQUANT_STEPTYPE] line 1: llquantize( ) argument #4 must be a non-zero positive integer constant"),
    ("D_LLQUANT_STEPTYPE", "BEGIN { @a = llquantize(1, 10, 0, 6, 0); }", "[D_LLQUANT_STEPTYPE] line 1: llquantize( ) argument #4 must be a non-zero positive integer constant"),
    ("D_LLQUANT_STEPVAL", "BEGIN { @a = llquantize(1, 10, 0, 6, 70000); }", "[D_LLQUANT_STEPVAL] line 1: llquantize( ) argument #4 must be an unsigned 16-bit quantity"),
    ("D_LLQUANT_STEPVAL", "BEGIN { @a = llquantize(1, 10, 0, 6, 3); }", "[D_LLQUANT_STEPVAL] line 1: llquantize() argument #4 (steps) must evenly divide argument #1 (factor) when steps<factor"),
    ("D_LLQUANT_STEPVAL", "BEGIN { @a = llquantize(1, 10, 0, 6, 25); }", "[D_LLQUANT_STEPVAL] line 1: llquantize() argument #4 (steps) must be a multiple of argument #1 (factor) when steps>factor"),
    ("D_LLQUANT_STEPVAL", "BEGIN { @a = llquantize(1, 10, 0, 6, 30); }", "[D_LLQUANT_STEPVAL] line 1: llquantize() argument #4 (steps) must evenly divide the square of argument #1 (factor) when steps>factor and lmag==0"),
    ("D_LLQUANT_STEPVAL", "BEGIN { @a = llquantize(1, 10, 1, 6, 30); }", "[D_LLQUANT_STEPVAL] line 1: llquantize() argument #4 (steps) must evenly divide pow(argument #1 (factor), lmag (argument #2) + 1) when steps>factor and lmag>0"),
    ("D_LLQUANT_MATCHFACTOR", "BEGIN { @a = llquantize(1, 10, 0, 6, 20); @a = llquantize(1, 2, 0, 6, 2); }", "[D_LLQUANT_MATCHFACTOR] line 1: llquantize() factor (argument #1) doesn't match previous declaration: expected 10, found 2"),
    ("D_LLQUANT_MATCHLMAG", "BEGIN { @a = llquantize(1, 10, 0, 6, 10); @a = llquantize(1, 10, 1, 6, 10); }", "[D_LLQUANT_MATCHLMAG] line 1: llquantize() lmag (argument #2) doesn't match previous declaration: expected 0, found 1"),
    ("D_LLQUANT_MATCHHMAG", "BEGIN { @a = llquantize(1, 10, 0, 6, 10); @a = llquantize(1, 10, 0, 7, 10); }", "[D_LLQUANT_MATCHHMAG] line 1: llquantize() hmag (argument #3) doesn't match previous declaration: expected 6, found 7"),
    ("D_LLQUANT_MATCHSTEPS", "BEGIN { @a = llquantize(1, 10, 0, 6, 10); @a = llquantize(1, 10, 0, 6, 20); }", "[D_LLQUANT_MATCHSTEPS] line 1: llquantize() steps (argument #4) doesn't match previous declaration: expected 10, found 20"),
    ("D_IDENT_UNDEF", "BEGIN { printa(@nope); }", "[D_IDENT_UNDEF] line 1: failed to resolve @nope: Unknown variable name"),
    ("D_PRINTA_AGGARG", "BEGIN { printa(1); }", "[D_PRINTA_AGGARG] line 1: printa( ) argument #1 is incompatible with prototype:\n\tprototype: aggregation\n\t argument: int"),
    ("D_PRINTA_AGGARG", "BEGIN { @a = count(); printa(\"%@d\", @a, execname); }", "[D_PRINTA_AGGARG] line 1: printa( ) argument #3 is incompatible with prototype:\n\tprototype: aggregation\n\t argument: string"),
    ("D_PRINTA_PROTO", "BEGIN { printa(\"%d\"); }", "[D_PRINTA_PROTO] line 1: printa( ) prototype mismatch: 1 args passed, 2 expected"),
    ("D_PROTO_LEN", "BEGIN { printa(); }", "[D_PROTO_LEN] line 1: printa( ) prototype mismatch: 0 args passed, at least 1 expected"),
    ("D_PRINTA_AGGKEY", "BEGIN { @a[1] = count(); @b = count(); printa(@a, @b); }", "[D_PRINTA_AGGKEY] line 1: printa( ): @a and @b do not have matching key signatures: @a has 1 key, @b has 0 keys"),
    ("D_PRINTA_AGGPROTO", "BEGIN { @a[1] = count(); @b[\"x\"] = count(); printa(@a, @b); }", "[D_PRINTA_AGGPROTO] line 1: printa( ): @b[ ] key #1 is incompatible with @a:\n        a key #1: int\n        b key #1: string"),
    ("D_PRINTF_ARG_PROTO", "BEGIN { printf(\"%d %d\\n\", 1); }", "[D_PRINTF_ARG_PROTO] line 1: printf( ) prototype mismatch: conversion #2 (%d) is missing a corresponding value argument"),
    ("D_PRINTF_ARG_EXTRA", "BEGIN { printf(\"%d\\n\", 1, 2); }", "[D_PRINTF_ARG_EXTRA] line 1: printf( ) prototype mismatch: only 2 arguments required by this format string"),
    ("D_PRINTF_ARG_TYPE", "BEGIN { printf(\"%d\\n\", execname); }", "[D_PRINTF_ARG_TYPE] line 1: printf( ) argument #2 is incompatible with conversion #1 prototype:\n\tconversion: %d\n\t prototype: char, short, int, long, or long long\n\t  argument: string"),
    ("D_PRINTF_ARG_TYPE", "BEGIN { printf(\"%s\\n\", 1); }", "[D_PRINTF_ARG_TYPE] line 1: printf( ) argument #2 is incompatible with conversion #1 prototype:\n\tconversion: %s\n\t prototype: char [] or string (or use stringof)\n\t  argument: int"),
    ("D_PRINTF_AGG_CONV", "BEGIN { printf(\"%@d\\n\", 1); }", "[D_PRINTF_AGG_CONV] line 1: %@ conversion requires an aggregation and is not for use with printf( )"),
    ("D_PRINTF_FMT_EMPTY", "BEGIN { printf(\"\"); }", "[D_PRINTF_FMT_EMPTY] line 1: printf( ) format string is empty"),
    // Format syntax is D_SYNTAX (no "near": the text is complete).
    ("D_SYNTAX", "BEGIN { printf(\"%hhd\", 1); }", "[D_SYNTAX] line 1: format conversion #1 is undefined: %hhd"),
    ("D_PRINTF_ARG_FMT", "BEGIN { printf(execname); }", "[D_PRINTF_ARG_FMT] line 1: printf( ) argument #1 is incompatible with prototype:\n\tprototype: string constant\n\t argument: string"),
    ("D_PROTO_ARG", "BEGIN { printf(1); }", "[D_PROTO_ARG] line 1: printf( ) argument #1 is incompatible with prototype:\n\tprototype: string\n\t argument: int"),
    ("D_SPEC_SPEC", "BEGIN { speculate(1); speculate(1); }", "[D_SPEC_SPEC] line 1: speculate( ) may not follow speculate( )"),
    ("D_SPEC_COMM", "BEGIN { commit(1); speculate(1); }", "[D_SPEC_COMM] line 1: speculate( ) may not follow commit( )"),
    ("D_SPEC_DREC", "BEGIN { trace(1); speculate(1); }", "[D_SPEC_DREC] line 1: speculate( ) may not follow data-recording action(s)"),
    ("D_SPEC_DREC", "BEGIN { @a = count(); speculate(1); }", "[D_SPEC_DREC] line 1: speculate( ) may not follow data-recording action(s)"),
    ("D_COMM_DREC", "BEGIN { trace(1); commit(1); }", "[D_COMM_DREC] line 1: commit( ) may not follow data-recording action(s)"),
    ("D_COMM_DREC", "BEGIN { @a = count(); commit(1); }", "[D_COMM_DREC] line 1: commit( ) may not follow data-recording action(s)"),
    ("D_AGG_SPEC", "BEGIN { speculate(1); @a = count(); }", "[D_AGG_SPEC] line 1: aggregating actions may not follow speculate( )"),
    ("D_AGG_COMM", "BEGIN { commit(1); @a = count(); }", "[D_AGG_COMM] line 1: aggregating actions may not follow commit( )"),
    ("D_DREC_COMM", "BEGIN { commit(1); trace(1); }", "[D_DREC_COMM] line 1: data-recording actions may not follow commit( )"),
    // Every action but speculate/commit/discard records data.
    ("D_DREC_COMM", "BEGIN { @a = count(); }\nEND { commit(1); clear(@a); }", "[D_DREC_COMM] line 2: data-recording actions may not follow commit( )"),
    ("D_ACT_SPEC", "BEGIN { speculate(1); raise(9); }", "[D_ACT_SPEC] line 1: destructive actions may not follow speculate( )"),
    ("D_EXIT_SPEC", "BEGIN { speculate(1); exit(0); }", "[D_EXIT_SPEC] line 1: exit( ) may not follow speculate( )"),
    ("D_MACRO_UNDEF", "BEGIN { trace($1); }", "[D_MACRO_UNDEF] line 1: macro argument $1 is not defined"),
    ("D_MACRO_UNDEF", "BEGIN { trace($target); }", "[D_MACRO_UNDEF] line 1: macro argument $target is not defined"),
    ("D_DIV_ZERO", "BEGIN { trace(1 / 0); }", "[D_DIV_ZERO] line 1: expression contains division by zero"),
    ("D_DIV_ZERO", "BEGIN { x = 4; trace(x % (2 - 2)); }", "[D_DIV_ZERO] line 1: expression contains division by zero"),
    ("D_PRED_SCALAR", "BEGIN /execname/ { }", "[D_PRED_SCALAR] line 1: predicate result must be of scalar type"),
    ("D_FUNC_UNDEF", "BEGIN { nosuch(1); }", "[D_FUNC_UNDEF] line 1: undefined function name: nosuch"),
    ("D_FUNC_IDKIND", "BEGIN { pid(1); }", "[D_FUNC_IDKIND] line 1: scalar 'pid' may not be referenced as a function"),
    ("D_CAST_INVAL", "BEGIN { trace((int)execname); }", "[D_CAST_INVAL] line 1: invalid cast expression: \"string\" to \"int\""),
    ("D_SIZEOF_TYPE", "BEGIN { trace(sizeof (void)); }", "[D_SIZEOF_TYPE] line 1: cannot apply sizeof to an operand of unknown size"),
    ("D_SIZEOF_TYPE", "BEGIN { trace(sizeof (struct nosuch)); }", "[D_SIZEOF_TYPE] line 1: cannot apply sizeof to an operand of unknown size"),
    ("D_SIZEOF_BITFIELD", "struct s { int a : 3; };\nstruct s v;\nBEGIN { trace(sizeof (v.a)); }", "[D_SIZEOF_BITFIELD] line 3: cannot apply sizeof to a bit-field"),
    ("D_OFFSETOF_TYPE", "BEGIN { trace(offsetof(int, a)); }", "[D_OFFSETOF_TYPE] line 1: offsetof operand must be a struct or union type"),
    ("D_OFFSETOF_TYPE", "BEGIN { trace(offsetof(struct nosuch, a)); }", "[D_OFFSETOF_TYPE] line 1: offsetof operand must be a struct or union type"),
    ("D_STRINGOF_TYPE", "struct s { int a; };\nstruct s v;\nBEGIN { trace(stringof(v)); }", "[D_STRINGOF_TYPE] line 3: cannot apply stringof to a value of type struct s"),
    // The description as written, in four fields.
    ("D_ARGS_IDX", "syscall::read:entry { trace(args[7]); }", "[D_ARGS_IDX] line 1: index 7 is out of range for syscall::read:entry args[ ]"),
    ("D_ARGS_IDX", "BEGIN { trace(args[0]); }", "[D_ARGS_IDX] line 1: index 0 is out of range for :::BEGIN args[ ]"),
    ("D_PROTO_ARG", "syscall::read:entry { trace(args[arg0]); }", "[D_PROTO_ARG] line 1: args[ ] argument #1 is incompatible with prototype:\n\tprototype: integer constant\n\t argument: int64_t"),
    ("D_PROTO_LEN", "syscall::read:entry { trace(args[0, 1]); }", "[D_PROTO_LEN] line 1: args[ ] prototype mismatch: 2 args passed, 1 expected"),
    ("D_IDENT_BADREF", "syscall::read:entry { trace(args); }", "[D_IDENT_BADREF] line 1: associative array 'args' may not be referenced as scalar"),
    // One description matching probes whose arguments differ.
    ("D_ARGS_MULTI", "syscall::read:* { trace(args[0]); }", "[D_ARGS_MULTI] line 1: args[ ] may not be referenced because probe description syscall::read:* matches an unstable set of probes"),
    // DTrace accepts this (it compiles the clause once per description);
    // Lumen compiles a clause once, so the descriptions must agree.
    ("D_UNSUPPORTED", "syscall::read:entry, syscall::open:entry { trace(args[0]); }", "[D_UNSUPPORTED] line 1: args[ ] may not be referenced in one clause for probe descriptions syscall::read:entry and syscall::open:entry: their arguments differ (Lumen compiles a clause once for all its descriptions; give each its own clause)"),
    ("D_TRACE_VOID", "BEGIN { trace((void)1); }", "[D_TRACE_VOID] line 1: trace( ) may not be applied to a void expression"),
    ("D_TRACE_DYN", "BEGIN { trace(stack()); }", "[D_TRACE_DYN] line 1: trace( ) may not be applied to a dynamic expression"),
    ("D_TRUNC_AGGARG", "BEGIN { trunc(1); }", "[D_TRUNC_AGGARG] line 1: trunc( ) argument #1 is incompatible with prototype:\n\tprototype: aggregation\n\t argument: int"),
    // The prototypes trunc(@, [int64_t]) and normalize(@, uint64_t) reject
    // a non-integer second argument before any check of the action's own.
    ("D_PROTO_ARG", "BEGIN { @a = count(); trunc(@a, execname); }", "[D_PROTO_ARG] line 1: trunc( ) argument #2 is incompatible with prototype:\n\tprototype: int64_t\n\t argument: string"),
    ("D_PROTO_ARG", "BEGIN { @a = count(); normalize(@a, \"x\"); }", "[D_PROTO_ARG] line 1: normalize( ) argument #2 is incompatible with prototype:\n\tprototype: uint64_t\n\t argument: string"),
    ("D_NORMALIZE_AGGARG", "BEGIN { normalize(1, 2); }", "[D_NORMALIZE_AGGARG] line 1: normalize( ) argument #1 is incompatible with prototype:\n\tprototype: aggregation\n\t argument: int"),
    ("D_NORMALIZE_AGGARG", "BEGIN { denormalize(execname); }", "[D_NORMALIZE_AGGARG] line 1: denormalize( ) argument #1 is incompatible with prototype:\n\tprototype: aggregation\n\t argument: string"),
    ("D_CLEAR_AGGARG", "BEGIN { clear(1); }", "[D_CLEAR_AGGARG] line 1: clear( ) argument #1 is incompatible with prototype:\n\tprototype: aggregation\n\t argument: int"),
    // The argument is type-checked first.
    ("D_IDENT_UNDEF", "BEGIN { clear(x); }", "[D_IDENT_UNDEF] line 1: failed to resolve x: Unknown variable name"),
    ("D_STACK_SIZE", "BEGIN { stack(arg0); }", "[D_STACK_SIZE] line 1: stack( ) argument #1 must be a non-zero positive integer constant"),
    ("D_STACK_SIZE", "BEGIN { stack(0); }", "[D_STACK_SIZE] line 1: stack( ) argument #1 must be a non-zero positive integer constant"),
    ("D_STACK_SIZE", "BEGIN { @a[stack(-1)] = count(); }", "[D_STACK_SIZE] line 1: stack( ) argument #1 must be a non-zero positive integer constant"),
    ("D_USTACK_FRAMES", "BEGIN { ustack(0); }", "[D_USTACK_FRAMES] line 1: ustack( ) argument #1 must be a non-zero positive integer constant"),
    ("D_USTACK_FRAMES", "BEGIN { ustack(arg0); }", "[D_USTACK_FRAMES] line 1: ustack( ) argument #1 must be a non-zero positive integer constant"),
    ("D_USTACK_STRSIZE", "BEGIN { ustack(5, arg0); }", "[D_USTACK_STRSIZE] line 1: ustack( ) argument #2 must be a positive integer constant"),
    ("D_TRACEMEM_SIZE", "BEGIN { tracemem(arg0, arg1); }", "[D_TRACEMEM_SIZE] line 1: tracemem( ) argument #2 must be a non-zero positive integral constant expression"),
    ("D_CG_EXPR", "BEGIN { x = stack(); }", "[D_CG_EXPR] line 1: tracing function stack( ) may not be called from a D expression (D program context required)"),
    ("D_CG_EXPR", "BEGIN\n{\n\tself->u =\n\t    ustack(3);\n}", "[D_CG_EXPR] line 4: tracing function ustack( ) may not be called from a D expression (D program context required)"),
    ("D_PRAGMA_OPTSET", "#pragma D option nosuchopt\nBEGIN { }", "[D_PRAGMA_OPTSET] line 1: failed to set option 'nosuchopt': Invalid option name"),
    ("D_PRAGMA_OPTSET", "#pragma D option bufsize=lots\nBEGIN { }", "[D_PRAGMA_OPTSET] line 1: failed to set option 'bufsize' to 'lots': Invalid value for specified option"),
    ("D_PRAGMA_INVAL", "#pragma D frobnicate\n", "[D_PRAGMA_INVAL] line 1: invalid D pragma: frobnicate"),
    ("D_PRAGMA_INVAL", "#pragma D depends_on nosuch x\n", "[D_PRAGMA_INVAL] line 1: invalid class nosuch specified by #pragma depends_on"),
    ("D_PRAGMA_INVAL", "#pragma D attributes Stable pid\n", "[D_PRAGMA_INVAL] line 1: invalid attributes specified by #pragma attributes"),
    ("D_PRAGMA_INVAL", "#pragma D binding \"1.x\" foo\n", "[D_PRAGMA_INVAL] line 1: invalid version string specified by #pragma binding"),
    ("D_PRAGMA_MALFORM", "#pragma D option\n", "[D_PRAGMA_MALFORM] line 1: malformed #pragma option <option>=<val>"),
    ("D_PRAGMA_MALFORM", "#pragma D option quiet flowindent\n", "[D_PRAGMA_MALFORM] line 1: superfluous arguments specified for #pragma option"),
    ("D_PRAGMA_MALFORM", "#pragma D depends_on provider\n", "[D_PRAGMA_MALFORM] line 1: malformed #pragma depends_on <class> <name>"),
    ("D_PRAGMA_MALFORM", "#pragma D attributes\n", "[D_PRAGMA_MALFORM] line 1: malformed #pragma attributes <attributes> <ident>"),
    ("D_PRAGMA_MALFORM", "#pragma D binding 1.0 foo\n", "[D_PRAGMA_MALFORM] line 1: malformed #pragma binding \"version\" <ident>"),
    // `#error` in its three forms: each word (strings unquoted, integers
    // dropped) followed by a space.
    ("D_PRAGERR", "#pragma error stop here\n", "[D_PRAGERR] line 1: #error: stop here "),
    ("D_PRAGERR", "#error stop here\n", "[D_PRAGERR] line 1: #error: stop here "),
    ("D_PRAGERR", "BEGIN { }\n#pragma D error \"at last\" 42 now\n", "[D_PRAGERR] line 2: #error: at last now "),
    ("D_PRAGMA_DEPEND", "#pragma D depends_on provider nosuch\n", "[D_PRAGMA_DEPEND] line 1: program requires provider nosuch"),
    ("D_PRAGCTL_INVAL", "#define X 1\n", "[D_PRAGCTL_INVAL] line 1: invalid control directive: #define"),
    ("D_INT_OFLOW", "BEGIN { trace(123456789012345678901234); }", "[D_INT_OFLOW] line 1: constant 123456789012345678901234 results in integer overflow"),
    // Fits 64 bits, but a decimal constant without `u` must fit long long.
    ("D_INT_OFLOW", "BEGIN { x = 18446744073709551615; }", "[D_INT_OFLOW] line 1: integer constant 0xffffffffffffffff cannot be represented in any built-in integral type"),
    ("D_INT_DIGIT", "BEGIN { trace(08); }", "[D_INT_DIGIT] line 1: constant 08 contains invalid digit 8"),
    ("D_INT_DIGIT", "BEGIN { trace(0719u); }", "[D_INT_DIGIT] line 1: constant 0719u contains invalid digit 9"),
    ("D_STR_NL", "BEGIN { trace(\"ab\ncd\"); }", "[D_STR_NL] line 1: newline encountered in string literal"),
    ("D_CHR_NULL", "BEGIN { trace(''); }", "[D_CHR_NULL] line 1: empty character constant"),
    ("D_CHR_OFLOW", "BEGIN { trace('abcdefghi'); }", "[D_CHR_OFLOW] line 1: character constant is too long"),
    ("D_IDENT_BADREF", "BEGIN { a[1] = 1; trace(a); }", "[D_IDENT_BADREF] line 1: associative array 'a' may not be referenced as scalar"),
    ("D_IDENT_BADREF", "BEGIN { trace(strlen); }", "[D_IDENT_BADREF] line 1: function 'strlen' may not be referenced as scalar"),
    ("D_XLATE_NONE", "struct o { int a; };\nBEGIN { trace(xlate<struct o>(1).a); }", "[D_XLATE_NONE] line 2: cannot translate from \"int\" to \"struct o\""),
    ("D_XLATE_MEMB", "struct o { int a; };\ntranslator struct o < int x > { b = x; };", "[D_XLATE_MEMB] line 2: translator member b is not a member of struct o"),
    ("D_XLATE_SOU", "translator int < int x > { a = x; };", "[D_XLATE_SOU] line 1: translator output type must be a struct or union"),
    ("D_XLATE_SOU", "translator struct fwd < int x > { a = x; };", "[D_XLATE_SOU] line 1: incomplete struct/union/enum struct fwd"),
    ("D_UNKNOWN", "BEGIN { jstack(); }", "[D_UNKNOWN] line 1: jstack() is not implemented (yet)"),
    ("D_UNKNOWN", "BEGIN { panic(); }", "[D_UNKNOWN] line 1: panic() is not implemented (yet)"),
    ("D_PROTO_LEN", "BEGIN { breakpoint(1); }", "[D_PROTO_LEN] line 1: breakpoint( ) prototype mismatch: 1 arg passed, 0 expected"),
    ("D_OP_INCOMPAT", "BEGIN { s = \"abc\"; s += 1; }", "[D_OP_INCOMPAT] line 1: operands have incompatible types: \"string\" += \"int\""),
    ("D_ARR_BOUNDS", "int a[4]; BEGIN { a[4] = 1; }", "[D_ARR_BOUNDS] line 1: index outside array bounds: 4, max is 4"),
    ("D_REGS_IDX", "BEGIN { trace(uregs[-1]); }", "[D_REGS_IDX] line 1: index -1 is out of range for array uregs"),
    ("D_PROTO_ARG", "BEGIN { trace(uregs[arg0]); }", "[D_PROTO_ARG] line 1: uregs[ ] argument #1 is incompatible with prototype:\n\tprototype: integer constant\n\t argument: int64_t"),
    ("D_PROV_BADNAME", "provider p1 { probe x(); };", "[D_PROV_BADNAME] line 1: provider name may not end with a digit: p1"),
    ("D_PROV_BADNAME", "provider aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa { probe x(); };", "[D_PROV_BADNAME] line 1: provider name may not exceed 63 characters: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
    ("D_PROV_PRDUP", "provider p { probe x(); probe x(); };", "[D_PROV_PRDUP] line 1: probe redeclared: p:::x"),
    // Probe prototypes get DTrace's prototype checks, before the names'.
    ("D_DECL_PROTO_VOID", "provider p { probe x(void, int); };", "[D_DECL_PROTO_VOID] line 1: void must be sole parameter"),
    ("D_DECL_PROTO_NAME", "provider p { probe x(void v); };", "[D_DECL_PROTO_NAME] line 1: void parameter may not have a name: v"),
    ("D_DECL_PROTO_FORM", "provider p1 { probe x(int a, int a); };", "[D_DECL_PROTO_FORM] line 1: parameter is already declared in probe input prototype: a, parameter #2"),
    ("D_DECL_PROTO_VARARGS", "provider p { probe x(int, ...); };", "[D_DECL_PROTO_VARARGS] line 1: probe input prototype may not use a variable-length argument list"),
    ("D_DECL_PROTO_VARARGS", "provider p { probe x(int a) : (int a, ...); };", "[D_DECL_PROTO_VARARGS] line 1: probe output prototype may not use a variable-length argument list"),
    ("D_DECL_PROTO_NAME", "provider p { probe x(int a) : (int); };", "[D_DECL_PROTO_NAME] line 1: parameter declaration requires a name: parameter #1"),
    ("D_DECL_PROTO_FORM", "provider p { probe x(int a) : (int b); };", "[D_DECL_PROTO_FORM] line 1: parameter is not declared in probe output prototype: b, parameter #1"),
    ("D_DECL_PROTO_TYPE", "int a[void];", "[D_DECL_PROTO_TYPE] line 1: array prototype may not use parameter of type void: (anonymous), parameter #1"),
    ("D_PROV_INCOMPAT", "provider p { probe x(int); };\nprovider p { probe x(char *); };", "[D_PROV_INCOMPAT] line 2: probe p:::x input prototype argument #1 mismatch:\n\t current: char *\n\tprevious: int"),
    ("D_PROV_INCOMPAT", "provider p { probe x(int); };\nprovider p { probe x(int, int); };", "[D_PROV_INCOMPAT] line 2: probe p:::x input prototype mismatch:\n\t current: 2 args\n\tprevious: 1 arg"),
    ("D_PROV_INCOMPAT", "provider p { probe x(); };\nprovider p { probe x(); probe y(); };", "[D_PROV_INCOMPAT] line 2: provider interface mismatch: p\n\t current: probe p:::y defined\n\tprevious: probe p:::y not defined"),
    ("D_ADDROF_BITFIELD", "struct s { int a : 3; }; struct s v; BEGIN { trace(&v.a); }", "[D_ADDROF_BITFIELD] line 1: cannot take address of bit-field"),
    ("D_OFFSETOF_BITFIELD", "struct s { int a : 3; }; BEGIN { trace(offsetof(struct s, a)); }", "[D_OFFSETOF_BITFIELD] line 1: cannot take offset of a bit-field: a"),
    ("D_DEREF_FUNC", "BEGIN { trace(*(int (*)())arg0); }", "[D_DEREF_FUNC] line 1: cannot dereference pointer to function"),
    ("D_ARGS_NONE", "inline int a0 = args[0];", "[D_ARGS_NONE] line 1: args[ ] may not be referenced outside of a probe clause"),
    ("D_ARGS_NONE", "BEGIN { }\ninline int a1 = args[1];", "[D_ARGS_NONE] line 2: args[ ] may not be referenced outside of a probe clause"),
    ("D_CHR_NL", "BEGIN { trace('a\n'); }", "[D_CHR_NL] line 1: newline encountered in character constant"),
    ("D_LQUANT_MATCHLIM", "BEGIN { @a = lquantize(1, 0, 10); @a = lquantize(1, 0, 20); }", "[D_LQUANT_MATCHLIM] line 1: lquantize( ) limit (argument #2) doesn't match previous declaration: expected 10, found 20"),
    ("D_LQUANT_MATCHSTEP", "BEGIN { @a = lquantize(1, 0, 10, 1); @a = lquantize(1, 0, 10, 2); }", "[D_LQUANT_MATCHSTEP] line 1: lquantize( ) step (argument #3) doesn't match previous declaration: expected 1, found 2"),
    ("D_XLATE_REDECL", "struct s { int a; };\ntranslator struct s < int x > { a = x; };\ntranslator struct s < int y > { a = y + 1; };", "[D_XLATE_REDECL] line 3: translator from int to struct s has already been declared"),
    // DTrace checks the member when the translator is defined; Lumen when
    // it is used, so this script uses it (same line, same text).
    ("D_XLATE_INCOMPAT", "struct s { int a; };\ntranslator struct s < int x > { a = \"s\"; };\nBEGIN { trace(xlate <struct s> (1).a); }", "[D_XLATE_INCOMPAT] line 2: translator member a definition uses incompatible types: \"int\" = \"string\""),
];

/// Cases `CASES` cannot hold, because they need compile options (macro
/// arguments) or a script too long to write out: (tag, options, script,
/// expected message body). Checked like `CASES`, and counted with them by
/// `every_raised_tag_has_a_case`.
fn built_cases() -> Vec<(&'static str, CompileOptions, String, &'static str)> {
    let file = || CompileOptions::new(Origin::File("t.d".into()));
    let with_args = |args: &[&str]| {
        let mut o = file();
        o.macro_args = std::iter::once("t.d")
            .chain(args.iter().copied())
            .map(String::from)
            .collect();
        o
    };
    let params = |n: usize| vec!["int"; n].join(", ");
    vec![
        // `dtrace -s t.d foo`: only the last argument is checked.
        (
            "D_MACRO_UNUSED",
            with_args(&["foo"]),
            "BEGIN { exit(0); }".into(),
            "[D_MACRO_UNUSED] line 1: extraneous argument 'foo' ($1 is not referenced)",
        ),
        (
            "D_MACRO_UNUSED",
            with_args(&["a", "b"]),
            "BEGIN { trace($1); }\nEND { exit(0); }\n".into(),
            "[D_MACRO_UNUSED] line 3: extraneous argument 'b' ($2 is not referenced)",
        ),
        (
            "D_PROV_PRARGLEN",
            file(),
            format!("provider p {{ probe x({}); }};", params(256)),
            "[D_PROV_PRARGLEN] line 1: probe x input prototype exceeds 255 parameters: 256 params used",
        ),
    ]
}

/// Tags that Lumen's sources raise but no `d_lang::compile` call can
/// reach, each with the reason. Every other raised tag needs a case.
const UNREACHABLE_TAGS: &[(&str, &str)] = &[
    // resolve/typing.rs: a declaration whose declarator has no name. The
    // parser reports every nameless declarator (`int *;`) as a syntax
    // error first, as DTrace's grammar does.
    (
        "D_DECL_IDENT",
        "the parser rejects nameless declarators first",
    ),
    // codegen/lower/memory.rs: code generation checks alloca( )'s constant
    // size against scratchsize; d_lang::compile stops before it. The
    // tests/d corpus has the case (memory/alloca_too_big.d).
    (
        "D_ALLOCA_SIZE",
        "raised by code generation, which compile( ) does not run",
    ),
];

fn compile_file(src: &str) -> Result<d_lang::ir::Program, d_lang::Diagnostic> {
    let opts = CompileOptions::new(Origin::File("t.d".into()));
    compile(src, &opts, &StaticCatalog::sample())
}

#[test]
fn every_case_reports_its_tag_and_message() {
    let mut failures = Vec::new();
    for (tag, src, want) in CASES {
        match compile_file(src) {
            Ok(_) => failures.push(format!(
                "{tag}: compiled, expected error\n  script: {src:?}"
            )),
            Err(d) => {
                let got = d.body(true, true);
                if got != *want {
                    failures.push(format!(
                        "{tag}:\n  script: {src:?}\n  want: {want:?}\n  got:  {got:?}"
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn built_cases_report_their_tag_and_message() {
    let cat = StaticCatalog::sample();
    let mut failures = Vec::new();
    for (tag, opts, src, want) in built_cases() {
        match compile(&src, &opts, &cat) {
            Ok(_) => failures.push(format!(
                "{tag}: compiled, expected error\n  script: {src:?}"
            )),
            Err(d) => {
                let got = d.body(true, true);
                if got != want {
                    failures.push(format!(
                        "{tag}:\n  script: {src:?}\n  want: {want:?}\n  got:  {got:?}"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every `ErrTag::D_…` named in d-lang's and the engine's sources (outside
/// diag.rs, which defines them all), read from the files themselves.
fn raised_tags() -> BTreeSet<String> {
    fn walk(dir: &std::path::Path, files: &mut Vec<std::path::PathBuf>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, files);
            } else if path.extension().is_some_and(|x| x == "rs") {
                files.push(path);
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk(&root.join("src"), &mut files);
    walk(&root.join("../engine/src"), &mut files);
    let diag_rs = root.join("src/diag.rs");
    let mut tags = BTreeSet::new();
    for f in files.iter().filter(|f| **f != diag_rs) {
        let text = std::fs::read_to_string(f).unwrap();
        for (i, _) in text.match_indices("ErrTag::D_") {
            let rest = &text[i + "ErrTag::".len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                .unwrap_or(rest.len());
            tags.insert(rest[..end].to_string());
        }
    }
    tags
}

/// The tag a case's expected message starts with (`[D_TAG] …`).
fn expected_tag(want: &str) -> &str {
    want.strip_prefix('[')
        .and_then(|w| w.split_once(']'))
        .map(|(t, _)| t)
        .unwrap_or_else(|| panic!("expected message without a tag: {want:?}"))
}

#[test]
fn every_raised_tag_has_a_case() {
    let raised = raised_tags();
    assert!(
        raised.contains("D_SYNTAX") && raised.len() > 100,
        "source scan found only {raised:?}"
    );
    let built = built_cases();
    let covered: BTreeSet<&str> = CASES
        .iter()
        .map(|(_, _, want)| expected_tag(want))
        .chain(built.iter().map(|(_, _, _, want)| expected_tag(want)))
        .collect();
    let unreachable: BTreeSet<&str> = UNREACHABLE_TAGS.iter().map(|(t, _)| *t).collect();
    let missing: Vec<&String> = raised
        .iter()
        .filter(|t| !covered.contains(t.as_str()) && !unreachable.contains(t.as_str()))
        .collect();
    assert!(missing.is_empty(), "raised tags with no case: {missing:?}");
    // The allow-list holds only tags that are raised and have no case.
    for t in &unreachable {
        assert!(
            raised.contains(*t),
            "{t} is allow-listed but no longer raised"
        );
        assert!(!covered.contains(t), "{t} is allow-listed but has a case");
    }
}

#[test]
fn at_least_forty_distinct_error_classes() {
    let tags: BTreeSet<&str> = CASES.iter().map(|(t, _, _)| *t).collect();
    assert!(tags.len() >= 40, "only {} distinct tags", tags.len());
}

#[test]
fn probe_specifier_errors_carry_region_not_line() {
    let opts = CompileOptions::new(Origin::Spec(DescField::Name));
    let cat = StaticCatalog::sample();
    let d = compile("BEGIN { x = \"a\" + \"b\"; }", &opts, &cat).unwrap_err();
    assert_eq!(
        d.body(false, false),
        "in action list: operands have incompatible types: \"string\" + \"string\""
    );
    let d = compile("BEGIN /execname/ { }", &opts, &cat).unwrap_err();
    assert_eq!(
        d.body(true, false),
        "[D_PRED_SCALAR] in predicate: predicate result must be of scalar type"
    );
    let d = compile("BEGIN { x = ; }", &opts, &cat).unwrap_err();
    assert_eq!(d.body(false, false), "syntax error near \";\"");
}

#[test]
fn zdefs_allows_unmatched_descriptions() {
    let mut opts = CompileOptions::new(Origin::File("t.d".into()));
    opts.zdefs = true;
    let p = compile(
        "nosuch:::probe { trace(1); }",
        &opts,
        &StaticCatalog::sample(),
    )
    .unwrap();
    assert_eq!(p.matched_probes(), 0);
    assert_eq!(p.clauses.len(), 1);
}

#[test]
fn defaultargs_makes_missing_macros_zero() {
    let mut opts = CompileOptions::new(Origin::File("t.d".into()));
    opts.defaultargs = true;
    let p = compile(
        "BEGIN { trace($3); trace($$3); }",
        &opts,
        &StaticCatalog::sample(),
    )
    .unwrap();
    assert_eq!(p.clauses[0].body.len(), 2);
}

#[test]
fn cpp_line_markers_name_the_original_file() {
    let src = "# 1 \"orig.d\"\n\n\n# 40 \"orig.d\"\nBEGIN { x = ; }\n";
    let d = compile_file(src).unwrap_err();
    assert_eq!(
        d.body(false, true),
        "\"orig.d\", line 40: syntax error near \";\""
    );
}
