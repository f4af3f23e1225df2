//! Tokens: what the lexer hands the parser — D's reserved words, literals,
//! operators, probe specifiers and `#pragma` lines, each with its span.

use crate::span::Span;

/// D's reserved words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Keyword {
    Auto,
    Break,
    Case,
    Char,
    Const,
    Continue,
    Counter,
    Default,
    Do,
    Double,
    Else,
    Enum,
    Extern,
    Float,
    For,
    Goto,
    If,
    Import,
    Inline,
    Int,
    Long,
    Offsetof,
    Probe,
    Provider,
    Register,
    Restrict,
    Return,
    SelfKw,
    Short,
    Signed,
    Sizeof,
    Static,
    String,
    Stringof,
    Struct,
    Switch,
    This,
    Translator,
    Typedef,
    Union,
    Unsigned,
    Userland,
    Void,
    Volatile,
    While,
    Xlate,
}

impl Keyword {
    /// The keyword for a word, if it is one.
    pub fn from_word(w: &str) -> Option<Keyword> {
        use Keyword::*;
        Some(match w {
            "auto" => Auto,
            "break" => Break,
            "case" => Case,
            "char" => Char,
            "const" => Const,
            "continue" => Continue,
            "counter" => Counter,
            "default" => Default,
            "do" => Do,
            "double" => Double,
            "else" => Else,
            "enum" => Enum,
            "extern" => Extern,
            "float" => Float,
            "for" => For,
            "goto" => Goto,
            "if" => If,
            "import" => Import,
            "inline" => Inline,
            "int" => Int,
            "long" => Long,
            "offsetof" => Offsetof,
            "probe" => Probe,
            "provider" => Provider,
            "register" => Register,
            "restrict" => Restrict,
            "return" => Return,
            "self" => SelfKw,
            "short" => Short,
            "signed" => Signed,
            "sizeof" => Sizeof,
            "static" => Static,
            "string" => String,
            "stringof" => Stringof,
            "struct" => Struct,
            "switch" => Switch,
            "this" => This,
            "translator" => Translator,
            "typedef" => Typedef,
            "union" => Union,
            "unsigned" => Unsigned,
            "userland" => Userland,
            "void" => Void,
            "volatile" => Volatile,
            "while" => While,
            "xlate" => Xlate,
            _ => return None,
        })
    }

    /// The keyword's spelling.
    pub fn as_str(self) -> &'static str {
        use Keyword::*;
        match self {
            Auto => "auto",
            Break => "break",
            Case => "case",
            Char => "char",
            Const => "const",
            Continue => "continue",
            Counter => "counter",
            Default => "default",
            Do => "do",
            Double => "double",
            Else => "else",
            Enum => "enum",
            Extern => "extern",
            Float => "float",
            For => "for",
            Goto => "goto",
            If => "if",
            Import => "import",
            Inline => "inline",
            Int => "int",
            Long => "long",
            Offsetof => "offsetof",
            Probe => "probe",
            Provider => "provider",
            Register => "register",
            Restrict => "restrict",
            Return => "return",
            SelfKw => "self",
            Short => "short",
            Signed => "signed",
            Sizeof => "sizeof",
            Static => "static",
            String => "string",
            Stringof => "stringof",
            Struct => "struct",
            Switch => "switch",
            This => "this",
            Translator => "translator",
            Typedef => "typedef",
            Union => "union",
            Unsigned => "unsigned",
            Userland => "userland",
            Void => "void",
            Volatile => "volatile",
            While => "while",
            Xlate => "xlate",
        }
    }
}

/// Integer literal suffix (`u`, `l`, `ul`, `ll`, `ull`, any case and order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IntSuffix {
    /// `u` present.
    pub unsigned: bool,
    /// Number of `l`s (0, 1 or 2).
    pub longs: u8,
}

/// One token.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// An identifier that is not a keyword.
    Ident(String),
    /// A reserved word.
    Kw(Keyword),
    /// An integer constant; `decimal` matters for C's typing rules.
    Int {
        /// Value.
        value: u64,
        /// Suffix letters.
        suffix: IntSuffix,
        /// Written in decimal (vs octal/hex).
        decimal: bool,
    },
    /// A string literal, escapes decoded.
    Str(Vec<u8>),
    /// A character constant's value.
    Char(i64),
    /// An operator or punctuator.
    Punct(&'static str),
    /// The `/` that closes a predicate.
    EndPred,
    /// A probe specifier (lexer mode [`crate::lexer::Mode::ProbeSpec`]), macros substituted.
    ProbeSpec(String),
    /// A `#pragma` line: the words after `#pragma`.
    Pragma(String),
    /// End of input.
    Eof,
}

impl Tok {
    /// How DTrace quotes the token in `syntax error near "…"`.
    pub fn describe(&self, text: &str) -> String {
        match self {
            Tok::Eof => String::new(),
            _ => text.to_string(),
        }
    }
}

/// A token and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// The token.
    pub tok: Tok,
    /// Its bytes in the source.
    pub span: Span,
}
