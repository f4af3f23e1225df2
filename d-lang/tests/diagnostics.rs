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
    ("D_PROTO_LEN", "BEGIN { x[1, 2] = 3; trace(x[1]); }", "[D_PROTO_LEN] line 1: x[ ] prototype mismatch: 1 arg passed, 2 expected"),
    ("D_PROTO_LEN", "BEGIN { @a[1] = count(); @a[1, 2] = count(); }", "[D_PROTO_LEN] line 1: @a[ ] prototype mismatch: 2 args passed, 1 expected"),
    ("D_PROTO_ARG", "BEGIN { exit(\"no\"); }", "[D_PROTO_ARG] line 1: exit( ) argument #1 is incompatible with prototype:\n\tprototype: int\n\t argument: string"),
    ("D_PROTO_ARG", "BEGIN { x = strlen(1); }", "[D_PROTO_ARG] line 1: strlen( ) argument #1 is incompatible with prototype:\n\tprototype: string\n\t argument: int"),
    ("D_PROTO_ARG", "BEGIN { x[1] = 2; trace(x[\"a\"]); }", "[D_PROTO_ARG] line 1: x[ ] argument #1 is incompatible with prototype:\n\tprototype: int\n\t argument: string"),
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
    ("D_OP_SOU", "BEGIN { trace(curthread->pid); }", "[D_OP_SOU] line 1: operator -> cannot be applied to a forward declaration: no struct task_struct definition is available"),
    ("D_OP_SOU", "BEGIN { x = 1; trace(x.y); }", "[D_OP_SOU] line 1: operator . cannot be applied to type \"int\": must be applied to a struct or union"),
    ("D_TYPE_MEMBER", "struct s { int a; };\nstruct s v;\nBEGIN { trace(v.b); }", "[D_TYPE_MEMBER] line 3: b is not a member of struct s"),
    ("D_TYPE_ERR", "BEGIN { x = (struct nosuch *)0; trace(sizeof (enum nope)); }", "[D_TYPE_ERR] line 1: failed to resolve type enum nope"),
    ("D_DEREF_NONPTR", "BEGIN { x = 1; trace(*x); }", "[D_DEREF_NONPTR] line 1: cannot dereference non-pointer type"),
    ("D_DEREF_VOID", "BEGIN { trace(*(void *)arg0); }", "[D_DEREF_VOID] line 1: cannot dereference pointer to void"),
    ("D_ADDROF_VAR", "BEGIN { x = 1; trace(&x); }", "[D_ADDROF_VAR] line 1: cannot take address of dynamic variable"),
    ("D_ADDROF_LVAL", "BEGIN { trace(&1); }", "[D_ADDROF_LVAL] line 1: unacceptable operand for unary & operator"),
    ("D_AGG_REDEF", "BEGIN { @a = count(); @a = sum(1); }", "[D_AGG_REDEF] line 1: aggregation redefined: @a\n\t current: sum( )\n\tprevious: count( )"),
    ("D_AGG_SCALAR", "BEGIN { @a = sum(execname); }", "[D_AGG_SCALAR] line 1: sum( ) argument #1 must be of scalar type"),
    ("D_AGG_FUNC", "BEGIN { @a = 1; }", "[D_AGG_FUNC] line 1: @a must be assigned the result of an aggregating function"),
    ("D_AGG_FUNC", "BEGIN { @a += count(); }", "[D_AGG_FUNC] line 1: @a must be assigned the result of an aggregating function"),
    ("D_AGG_FUNC", "BEGIN { @a = 1; }", "[D_AGG_FUNC] line 1: @a must be assigned the result of an aggregating function"),
    ("D_OP_INCOMPAT", "BEGIN { x = count(); }", "[D_OP_INCOMPAT] line 1: operands have incompatible types: \"scalar\" = \"aggregating function\""),
    ("D_OP_INCOMPAT", "BEGIN { x = trace(1); }", "[D_OP_INCOMPAT] line 1: operands have incompatible types: \"void\" = \"void\""),
    ("D_AGG_NULL", "BEGIN { @a = count(); @a; }", "[D_AGG_NULL] line 1: expression has null effect: @a"),
    ("D_AGG_MDIM", "BEGIN { @a[1][2] = count(); }", "[D_AGG_MDIM] line 1: multi-dimensional aggregation arrays may not be used"),
    ("D_KEY_TYPE", "BEGIN { @a[trace(1)] = count(); }", "[D_OP_ACT] line 1: action trace( ) may not be used in an expression"),
    ("D_KEY_TYPE", "BEGIN { x[(void)0] = 1; }", "[D_KEY_TYPE] line 1: void expression may not be used as associative array index: key #1"),
    ("D_DECL_IDRED", "int x;\nstring x;", "[D_DECL_IDRED] line 2: identifier redeclared: x"),
    ("D_DECL_IDRED", "int pid;", "[D_DECL_IDRED] line 1: identifier redeclared: pid"),
    ("D_DECL_VOIDOBJ", "void v;", "[D_DECL_VOIDOBJ] line 1: cannot have void object: v"),
    ("D_DECL_LOCASSC", "this int a[int];", "[D_DECL_LOCASSC] line 1: associative arrays may not be declared as local variables: a"),
    ("D_DECL_COMBO", "short long x;", "[D_DECL_COMBO] line 1: invalid type combination"),
    ("D_DECL_SIGNINT", "signed unsigned x;", "[D_DECL_SIGNINT] line 1: invalid type combination"),
    ("D_DECL_LONGINT", "long long long x;", "[D_DECL_LONGINT] line 1: invalid type combination"),
    ("D_DECL_USELESS", "int;", "[D_DECL_USELESS] line 1: useless declaration"),
    ("D_DECL_ARRNULL", "int a[];", "[D_DECL_ARRNULL] line 1: array declaration requires array dimension or tuple signature"),
    ("D_DECL_ARRSUB", "int a[-1];", "[D_DECL_ARRSUB] line 1: positive integral constant expression or tuple signature expected as array declaration subscript"),
    ("D_DECL_TYPERED", "struct s { int a; };\nstruct s { int b; };", "[D_DECL_TYPERED] line 2: type redeclared: struct s"),
    ("D_DECL_MNAME", "struct s { int a; char a; };", "[D_DECL_MNAME] line 1: member redeclared: a"),
    ("D_DECL_BFTYPE", "struct s { string a : 3; };", "[D_DECL_BFTYPE] line 1: invalid type for bit-field: a"),
    ("D_DECL_BFSIZE", "struct s { int a : 40; };", "[D_DECL_BFSIZE] line 1: bit-field size 40 is invalid for type int"),
    ("D_DECL_ENOFLOW", "enum e { A = 2147483647, B };", "[D_DECL_ENOFLOW] line 1: enumerator 'B' overflows INT_MAX (2147483647)"),
    ("D_DECL_CLASS", "self this int x;", "[D_DECL_CLASS] line 1: only one storage class allowed in a declaration"),
    ("D_DECL_INCOMPLETE", "struct fwd;\nstruct fwd v;", "[D_DECL_INCOMPLETE] line 2: declaration of v has incomplete type struct fwd"),
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
    ("D_LLQUANT_FACTORVAL", "BEGIN { @ = llquantize(1, 70000, 0, 6, 10); }", "[D_LLQUANT_FACTORVAL] line 1: llquantize( ) argument #1 must be an unsigned 16-bit quantity"),
    ("D_LLQUANT_LOWTYPE", "BEGIN { @ = llquantize(1, 10, arg0, 6, 10); }", "[D_LLQUANT_LOWTYPE] line 1: llquantize( ) argument #2 must be an integer constant"),
    ("D_LLQUANT_HIGHTYPE", "BEGIN { @ = llquantize(1, 10, 0, arg0, 10); }", "[D_LLQUANT_HIGHTYPE] line 1: llquantize( ) argument #3 must be an integer constant"),
    ("D_LLQUANT_NSTEPTYPE", "BEGIN { @ = llquantize(1, 10, 0, 6, arg0); }", "[D_LLQUANT_NSTEPTYPE] line 1: llquantize( ) argument #4 must be an integer constant"),
    ("D_LLQUANT_FACTORSMALL", "BEGIN { @ = llquantize(1, 1, 0, 6, 1); }", "[D_LLQUANT_FACTORSMALL] line 1: llquantize( ) argument #1 (factor) must be at least 2"),
    ("D_LLQUANT_FACTORNSTEPS", "BEGIN { @ = llquantize(1, 10, 0, 6, 7); }", "[D_LLQUANT_FACTORNSTEPS] line 1: llquantize( ) argument #1 (factor) must be a multiple of argument #4 (nsteps) or vice versa"),
    ("D_LLQUANT_MAGRANGE", "BEGIN { @ = llquantize(1, 10, 6, 2, 10); }", "[D_LLQUANT_MAGRANGE] line 1: llquantize( ) argument #3 (high magnitude) must be at least argument #2 (low magnitude)"),
    ("D_LLQUANT_MAGTOOBIG", "BEGIN { @ = llquantize(1, 10, 0, 30, 10); }", "[D_LLQUANT_MAGTOOBIG] line 1: llquantize( ) argument #1 (factor) raised to the power of argument #3 (high magnitude) plus one must fit in 64 bits"),
    ("D_IDENT_UNDEF", "BEGIN { printa(@nope); }", "[D_IDENT_UNDEF] line 1: failed to resolve @nope: Unknown variable name"),
    ("D_PRINTA_AGGARG", "BEGIN { printa(1); }", "[D_PRINTA_AGGARG] line 1: printa( ) argument #1 must be an aggregation"),
    ("D_PRINTA_PROTO", "BEGIN { printa(\"%d\"); }", "[D_PRINTA_PROTO] line 1: printa( ) prototype mismatch: aggregation argument expected"),
    ("D_PRINTA_AGGKEY", "BEGIN { @a[1] = count(); @b[\"x\"] = count(); printa(@a, @b); }", "[D_PRINTA_AGGKEY] line 1: printa( ) argument #2 is incompatible with argument #1:\n\tprototype: @[ int ]\n\t argument: @[ string ]"),
    ("D_PRINTF_ARG_PROTO", "BEGIN { printf(\"%d %d\\n\", 1); }", "[D_PRINTF_ARG_PROTO] line 1: printf( ) prototype mismatch: conversion #2 (%d) is missing a corresponding value argument"),
    ("D_PRINTF_ARG_EXTRA", "BEGIN { printf(\"%d\\n\", 1, 2); }", "[D_PRINTF_ARG_EXTRA] line 1: printf( ) prototype mismatch: only 2 arguments required by this format string"),
    ("D_PRINTF_ARG_TYPE", "BEGIN { printf(\"%d\\n\", execname); }", "[D_PRINTF_ARG_TYPE] line 1: printf( ) argument #2 is incompatible with conversion #1 prototype:\n\tconversion: %d\n\t prototype: char, short, int, long, or long long\n\t  argument: string"),
    ("D_PRINTF_ARG_TYPE", "BEGIN { printf(\"%s\\n\", 1); }", "[D_PRINTF_ARG_TYPE] line 1: printf( ) argument #2 is incompatible with conversion #1 prototype:\n\tconversion: %s\n\t prototype: char [] or string (or use stringof)\n\t  argument: int"),
    ("D_PRINTF_AGG_CONV", "BEGIN { printf(\"%@d\\n\", 1); }", "[D_PRINTF_AGG_CONV] line 1: %@ conversion requires an aggregation and is for use with printa( ) only"),
    ("D_PRINTF_FMT_EMPTY", "BEGIN { printf(\"\"); }", "[D_PRINTF_FMT_EMPTY] line 1: printf( ) format string is empty"),
    ("D_PRINTF_ARG_FMT", "BEGIN { printf(\"%hhd\", 1); }", "[D_PRINTF_ARG_FMT] line 1: format conversion #1 is undefined: %hhd"),
    ("D_PRINTF_ARG_FMT", "BEGIN { printf(execname); }", "[D_PRINTF_ARG_FMT] line 1: printf( ) argument #1 is incompatible with prototype:\n\tprototype: string constant\n\t argument: expression"),
    ("D_SPEC_SPEC", "BEGIN { speculate(1); speculate(1); }", "[D_SPEC_SPEC] line 1: speculate( ) may not follow speculate( )"),
    ("D_SPEC_COMM", "BEGIN { commit(1); speculate(1); }", "[D_SPEC_COMM] line 1: speculate( ) may not follow commit( )"),
    ("D_SPEC_DREC", "BEGIN { trace(1); speculate(1); }", "[D_SPEC_DREC] line 1: speculate( ) may not follow data-recording actions"),
    ("D_COMM_COMM", "BEGIN { commit(1); commit(2); }", "[D_COMM_COMM] line 1: commit( ) may not follow commit( )"),
    ("D_COMM_DREC", "BEGIN { trace(1); commit(1); }", "[D_COMM_DREC] line 1: commit( ) may not follow data-recording actions"),
    ("D_ACT_SPEC", "BEGIN { speculate(1); @a = count(); }", "[D_ACT_SPEC] line 1: aggregating actions may not follow speculate( )"),
    ("D_EXIT_SPEC", "BEGIN { speculate(1); exit(0); }", "[D_EXIT_SPEC] line 1: exit( ) may not follow speculate( )"),
    ("D_MACRO_UNDEF", "BEGIN { trace($1); }", "[D_MACRO_UNDEF] line 1: macro argument $1 is not defined"),
    ("D_MACRO_UNDEF", "BEGIN { trace($target); }", "[D_MACRO_UNDEF] line 1: macro argument $target is not defined"),
    ("D_DIV_ZERO", "BEGIN { trace(1 / 0); }", "[D_DIV_ZERO] line 1: expression contains division by zero"),
    ("D_DIV_ZERO", "BEGIN { x = 4; trace(x % (2 - 2)); }", "[D_DIV_ZERO] line 1: expression contains division by zero"),
    ("D_PRED_SCALAR", "BEGIN /execname/ { }", "[D_PRED_SCALAR] line 1: predicate result must be of scalar type"),
    ("D_FUNC_UNDEF", "BEGIN { nosuch(1); }", "[D_FUNC_UNDEF] line 1: undefined function name: nosuch"),
    ("D_FUNC_IDKIND", "BEGIN { pid(1); }", "[D_FUNC_IDKIND] line 1: scalar 'pid' may not be referenced as a function"),
    ("D_CAST_INVAL", "BEGIN { trace((int)execname); }", "[D_CAST_INVAL] line 1: invalid cast expression: \"string\" to \"int\""),
    ("D_SIZEOF_TYPE", "BEGIN { trace(sizeof (void)); }", "[D_SIZEOF_TYPE] line 1: cannot apply sizeof to an expression of type void"),
    ("D_SIZEOF_BITFIELD", "struct s { int a : 3; };\nstruct s v;\nBEGIN { trace(sizeof (v.a)); }", "[D_SIZEOF_BITFIELD] line 3: cannot apply sizeof to a bit-field"),
    ("D_OFFSETOF_TYPE", "BEGIN { trace(offsetof(int, a)); }", "[D_OFFSETOF_TYPE] line 1: offsetof( ) first argument must be a struct or union type"),
    ("D_STRINGOF_TYPE", "struct s { int a; };\nstruct s v;\nBEGIN { trace(stringof(v)); }", "[D_STRINGOF_TYPE] line 3: cannot apply stringof to a value of type struct s"),
    ("D_ARGS_IDX", "syscall::read:entry { trace(args[7]); }", "[D_ARGS_IDX] line 1: index 7 is out of range for syscall:vmlinux:read:entry args[ ]"),
    ("D_ARGS_IDX", "syscall::read:entry { trace(args[arg0]); }", "[D_ARGS_IDX] line 1: args[ ] must be indexed by an integer constant"),
    ("D_ARGS_MULTI", "syscall::read:entry, syscall::open:entry { trace(args[0]); }", "[D_ARGS_MULTI] line 1: args[ ] may not be referenced because probe description syscall::read:entry matches an unstable set of probes"),
    ("D_TRACE_VOID", "BEGIN { trace((void)1); }", "[D_TRACE_VOID] line 1: trace( ) may not be applied to a void expression"),
    ("D_TRACE_DYN", "BEGIN { trace(stack()); }", "[D_TRACE_DYN] line 1: trace( ) may not be applied to a dynamic expression"),
    ("D_TRUNC_AGGARG", "BEGIN { trunc(1); }", "[D_TRUNC_AGGARG] line 1: trunc( ) argument #1 must be an aggregation"),
    ("D_TRUNC_SCALAR", "BEGIN { @a = count(); trunc(@a, execname); }", "[D_TRUNC_SCALAR] line 1: trunc( ) argument #2 must be of scalar type"),
    ("D_NORMALIZE_SCALAR", "BEGIN { @a = count(); normalize(@a, \"x\"); }", "[D_NORMALIZE_SCALAR] line 1: normalize( ) argument #2 must be of scalar type"),
    ("D_NORMALIZE_AGGARG", "BEGIN { normalize(1, 2); }", "[D_NORMALIZE_AGGARG] line 1: normalize( ) argument #1 must be an aggregation"),
    ("D_CLEAR_AGGARG", "BEGIN { clear(x); }", "[D_CLEAR_AGGARG] line 1: clear( ) argument #1 must be an aggregation"),
    ("D_STACK_PROTO", "BEGIN { stack(arg0); }", "[D_STACK_PROTO] line 1: stack( ) argument #1 must be a non-zero positive integer constant"),
    ("D_PRAGMA_OPTSET", "#pragma D option nosuchopt\nBEGIN { }", "[D_PRAGMA_OPTSET] line 1: failed to set option 'nosuchopt': Invalid option name"),
    ("D_PRAGMA_OPTSET", "#pragma D option bufsize=lots\nBEGIN { }", "[D_PRAGMA_OPTSET] line 1: failed to set option 'bufsize' to 'lots': Invalid value for specified option"),
    ("D_PRAGMA_INVAL", "#pragma D frobnicate\n", "[D_PRAGMA_INVAL] line 1: invalid control directive: #pragma D frobnicate"),
    ("D_PRAGMA_MALFORM", "#pragma D option\n", "[D_PRAGMA_MALFORM] line 1: malformed #pragma D option"),
    ("D_PRAGERR", "#pragma error stop here\n", "[D_PRAGERR] line 1: #pragma error: stop here"),
    ("D_PRAGMA_DEPEND", "#pragma D depends_on provider nosuch\n", "[D_PRAGMA_DEPEND] line 1: program requires provider nosuch"),
    ("D_PRAGCTL_INVAL", "#define X 1\n", "[D_PRAGCTL_INVAL] line 1: invalid control directive: #define"),
    ("D_INT_OFLOW", "BEGIN { trace(123456789012345678901234); }", "[D_INT_OFLOW] line 1: integer constant 123456789012345678901234 results in integer overflow"),
    ("D_INT_DIGIT", "BEGIN { trace(08); }", "[D_INT_DIGIT] line 1: invalid digit '8' in octal constant"),
    ("D_STR_NL", "BEGIN { trace(\"ab\ncd\"); }", "[D_STR_NL] line 1: newline encountered in string literal"),
    ("D_CHR_NULL", "BEGIN { trace(''); }", "[D_CHR_NULL] line 1: empty character constant"),
    ("D_CHR_OFLOW", "BEGIN { trace('abcdefghi'); }", "[D_CHR_OFLOW] line 1: character constant is too long"),
    ("D_IDENT_BADREF", "BEGIN { a[1] = 1; trace(a); }", "[D_IDENT_BADREF] line 1: array 'a' may not be referenced as a scalar"),
    ("D_XLATE_NONE", "struct o { int a; };\nBEGIN { trace(xlate<struct o>(1).a); }", "[D_XLATE_NONE] line 2: cannot translate from \"int\" to \"struct o\""),
    ("D_XLATE_MEMB", "struct o { int a; };\ntranslator struct o < int x > { b = x; };", "[D_XLATE_MEMB] line 2: translator member b is not a member of struct o"),
    ("D_XLATE_SOU", "translator int < int x > { a = x; };", "[D_XLATE_SOU] line 1: translator output type must be a struct or union: int"),
    ("D_UNKNOWN", "BEGIN { jstack(); }", "[D_UNKNOWN] line 1: jstack() is not implemented (yet)"),
    ("D_UNKNOWN", "BEGIN { panic(); }", "[D_UNKNOWN] line 1: panic() is not implemented (yet)"),
    ("D_PROTO_LEN", "BEGIN { breakpoint(1); }", "[D_PROTO_LEN] line 1: breakpoint( ) prototype mismatch: 1 arg passed, 0 expected"),
    ("D_PROV_BADNAME", "provider p1 { probe x(); };", "[D_PROV_BADNAME] line 1: provider name may not end with a digit: p1"),
    ("D_PROV_BADNAME", "provider aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa { probe x(); };", "[D_PROV_BADNAME] line 1: provider name may not exceed 63 characters: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
    ("D_PROV_PRDUP", "provider p { probe x(); probe x(); };", "[D_PROV_PRDUP] line 1: probe redeclared: p:::x"),
    ("D_PROV_INCOMPAT", "provider p { probe x(int); };\nprovider p { probe x(char *); };", "[D_PROV_INCOMPAT] line 2: probe p:::x input prototype argument #1 mismatch:\n\t current: char *\n\tprevious: int"),
    ("D_PROV_INCOMPAT", "provider p { probe x(int); };\nprovider p { probe x(int, int); };", "[D_PROV_INCOMPAT] line 2: probe p:::x input prototype mismatch:\n\t current: 2 args\n\tprevious: 1 arg"),
    ("D_PROV_INCOMPAT", "provider p { probe x(); };\nprovider p { probe x(); probe y(); };", "[D_PROV_INCOMPAT] line 2: provider interface mismatch: p\n\t current: probe p:::y defined\n\tprevious: probe p:::y not defined"),
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
