//! Lexer: D source text to tokens with spans, on demand, in two modes.
//!
//! D's lexer is context-sensitive, as libdtrace's `dt_lex.l` is: at the top
//! of a program a word like `syscall::read*:entry` or `profile-97` is one
//! probe-specifier token ([`Mode::ProbeSpec`]), while inside predicates and
//! action lists the same characters are C tokens ([`Mode::Code`]). The parser
//! asks for each token in the mode it needs. Token recognisers are `nom`
//! parsers over the remaining text.
//!
//! The lexer also handles what is not grammar: comments, `#pragma` lines,
//! preprocessor line markers (`# 12 "file.d"`, from `-C`), and macro
//! arguments (`$1`, `$$1`, `$pid`, `$target`…), which it substitutes.

use crate::diag::{diag, DResult, ErrTag};
use crate::options::CompileOptions;
use crate::span::{SourceMap, Span};
use crate::token::{IntSuffix, Keyword, Tok, Token};
use nom::branch::alt;
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{char as nchar, satisfy};
use nom::combinator::{opt, recognize};
use nom::sequence::pair;
use nom::IResult;

/// Which token set the parser wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// C tokens: identifiers, literals, operators.
    Code,
    /// Probe specifiers at the top of a clause.
    ProbeSpec,
}

/// Operators, longest first so that maximal munch falls out of the order.
const PUNCTS: &[&str] = &[
    "<<=", ">>=", "...", "->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "^^",
    "*=", "/=", "%=", "+=", "-=", "&=", "^=", "|=", "[", "]", "(", ")", "{", "}", ".", "&", "*",
    "+", "-", "~", "!", "/", "%", "<", ">", "^", "|", "?", ":", ";", "=", ",", "@", "`",
];

/// The on-demand tokenizer the parser drives.
#[derive(Debug, Clone)]
pub struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    opts: &'a CompileOptions,
    /// True at the start of a line (only whitespace seen since the newline).
    /// Tracked by scanning back, so re-lexing from any position is exact.
    _private: (),
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn is_pspec_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-$:_.?*\\[]!".contains(c)
}

fn identifier(i: &str) -> IResult<&str, &str> {
    recognize(pair(satisfy(is_ident_start), take_while(is_ident_char)))(i)
}

fn punct(i: &str) -> IResult<&str, &'static str> {
    for p in PUNCTS {
        if let Some(rest) = i.strip_prefix(p) {
            return Ok((rest, p));
        }
    }
    Err(nom::Err::Error(nom::error::Error::new(
        i,
        nom::error::ErrorKind::Tag,
    )))
}

/// `0x1f`, `017`, `42`, then the letters that follow (suffix or junk).
fn number_text(i: &str) -> IResult<&str, (&str, &str)> {
    let (rest, digits) = alt((
        recognize(pair(
            alt((tag("0x"), tag("0X"))),
            take_while(|c: char| c.is_ascii_hexdigit()),
        )),
        take_while1(|c: char| c.is_ascii_digit()),
    ))(i)?;
    let (rest, suffix) = take_while(|c: char| c.is_ascii_alphanumeric() || c == '_')(rest)?;
    Ok((rest, (digits, suffix)))
}

fn float_tail(i: &str) -> IResult<&str, &str> {
    recognize(pair(
        opt(pair(nchar('.'), take_while(|c: char| c.is_ascii_digit()))),
        opt(pair(
            alt((nchar('e'), nchar('E'))),
            pair(
                opt(alt((nchar('+'), nchar('-')))),
                take_while1(|c: char| c.is_ascii_digit()),
            ),
        )),
    ))(i)
}

impl<'a> Lexer<'a> {
    /// A lexer over `src` that substitutes macro arguments from `opts`.
    pub fn new(src: &'a str, opts: &'a CompileOptions) -> Self {
        Lexer {
            src,
            pos: 0,
            opts,
            _private: (),
        }
    }

    /// The source text.
    pub fn source(&self) -> &'a str {
        self.src
    }

    /// Current byte offset.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Rewind or advance to a byte offset (the parser re-lexes a token in
    /// another mode this way).
    pub fn seek(&mut self, pos: usize) {
        self.pos = pos.min(self.src.len());
    }

    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn at_line_start(&self, pos: usize) -> bool {
        self.src[..pos]
            .chars()
            .rev()
            .take_while(|&c| c != '\n')
            .all(|c| c == ' ' || c == '\t')
    }

    /// Skip blanks, comments and line markers; `#pragma` lines are tokens.
    fn skip_trivia(&mut self) -> DResult<()> {
        loop {
            let rest = self.rest();
            let trimmed = rest.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
            self.pos += rest.len() - trimmed.len();
            let rest = self.rest();
            if let Some(body) = rest.strip_prefix("/*") {
                match body.find("*/") {
                    Some(end) => self.pos += end + 4,
                    None => {
                        return Err(diag(
                            ErrTag::D_SYNTAX,
                            Span::new(self.pos, self.src.len()),
                            "end-of-file encountered before matching */",
                        ))
                    }
                }
            } else if rest.starts_with("//") {
                self.pos += rest.find('\n').unwrap_or(rest.len());
            } else if rest.starts_with('#') && self.at_line_start(self.pos) {
                let line_end = rest.find('\n').unwrap_or(rest.len());
                let line = &rest[1..line_end];
                let word = line.trim_start();
                // `#pragma`, and the control lines DTrace also takes
                // without it (`#error`, `#ident`), become pragma tokens.
                let directive = word.split(char::is_whitespace).next().unwrap_or("");
                if word.starts_with("pragma") || matches!(directive, "error" | "ident") {
                    return Ok(());
                }
                if self.pos == 0 && line.starts_with('!') {
                    // `#!/usr/sbin/dtrace -s`: the interpreter line of an executable script.
                    self.pos += line_end;
                    continue;
                }
                if word.starts_with(|c: char| c.is_ascii_digit())
                    || word.starts_with("line")
                    || word.is_empty()
                {
                    // A preprocessor line marker or a null directive: [`line_of`] reads markers.
                    self.pos += line_end;
                    continue;
                }
                let directive: String = word.chars().take_while(|c| !c.is_whitespace()).collect();
                return Err(diag(
                    ErrTag::D_PRAGCTL_INVAL,
                    Span::new(self.pos, self.pos + line_end),
                    format!("invalid control directive: #{directive}"),
                ));
            } else {
                return Ok(());
            }
        }
    }

    /// Lex the next token in `mode`.
    pub fn next(&mut self, mode: Mode) -> DResult<Token> {
        self.skip_trivia()?;
        let start = self.pos;
        let rest = self.rest();
        let Some(c) = rest.chars().next() else {
            return Ok(Token {
                tok: Tok::Eof,
                span: Span::new(start, start),
            });
        };
        let tok = if c == '#' {
            let line_end = rest.find('\n').unwrap_or(rest.len());
            let text = rest[1..line_end].trim_start();
            // `#error …` is `#pragma error …` (a control line starts a line).
            let body = match text.strip_prefix("pragma") {
                Some(b) => b,
                None if self.at_line_start(start) => text,
                None => "",
            };
            let body = body.trim().to_string();
            self.pos += line_end;
            Tok::Pragma(body)
        } else if mode == Mode::ProbeSpec && is_pspec_char(c) {
            let len = rest.find(|c: char| !is_pspec_char(c)).unwrap_or(rest.len());
            let raw = &rest[..len];
            self.pos += len;
            Tok::ProbeSpec(self.expand_pspec(raw, Span::new(start, start + len))?)
        } else if c == '$' {
            return self.macro_arg(start);
        } else if is_ident_start(c) {
            let (r, word) = identifier(rest).map_err(|_| self.near(start))?;
            self.pos += rest.len() - r.len();
            match Keyword::from_word(word) {
                Some(k) => Tok::Kw(k),
                None => Tok::Ident(word.to_string()),
            }
        } else if c.is_ascii_digit() {
            self.number(start)?
        } else if c == '"' {
            self.string(start)?
        } else if c == '\'' {
            self.char_const(start)?
        } else if let Ok((r, p)) = punct(rest) {
            self.pos += rest.len() - r.len();
            if p == "/" && self.closes_predicate() {
                Tok::EndPred
            } else {
                Tok::Punct(p)
            }
        } else {
            let ch_len = c.len_utf8();
            return Err(diag(
                ErrTag::D_SYNTAX,
                Span::new(start, start + ch_len),
                format!("syntax error near \"{c}\""),
            ));
        };
        Ok(Token {
            tok,
            span: Span::new(start, self.pos),
        })
    }

    /// dt_lex.l's rule: a `/` closes a predicate when the next non-blank
    /// character is end of input, `;`, `{` or `/`; otherwise it divides.
    fn closes_predicate(&self) -> bool {
        let mut probe = self.clone();
        if probe.skip_trivia().is_err() {
            return true;
        }
        match probe.rest().chars().next() {
            None => true,
            Some(c) => matches!(c, ';' | '{' | '/'),
        }
    }

    fn near(&self, start: usize) -> crate::diag::Diagnostic {
        let text: String = self.src[start..].chars().take(1).collect();
        diag(
            ErrTag::D_SYNTAX,
            Span::new(start, start + text.len()),
            format!("syntax error near \"{text}\""),
        )
    }

    fn number(&mut self, start: usize) -> DResult<Tok> {
        let rest = self.rest();
        let (r, (digits, suffix)) = number_text(rest).map_err(|_| self.near(start))?;
        // A '.' or exponent after the digits makes a floating-point constant.
        if !digits.starts_with("0x") && !digits.starts_with("0X") {
            let after = &rest[digits.len()..];
            if after.starts_with('.') || suffix.starts_with(['e', 'E']) {
                let (r2, _) = float_tail(after).map_err(|_| self.near(start))?;
                let end = start + digits.len() + (after.len() - r2.len());
                return Err(diag(
                    ErrTag::D_SYNTAX,
                    Span::new(start, end),
                    "floating-point constants are not permitted",
                ));
            }
        }
        let end = start + (rest.len() - r.len());
        let span = Span::new(start, end);
        let text = &rest[..digits.len()];
        let (radix, body, decimal) =
            if let Some(h) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
                (16, h, false)
            } else if text.len() > 1 && text.starts_with('0') {
                (8, &text[1..], false)
            } else {
                (10, text, true)
            };
        // dt_lex.l's texts name the whole constant as written, suffix
        // included.
        let written = &rest[..end - start];
        if let Some(bad) = body.chars().find(|c| !c.is_digit(radix)) {
            return Err(diag(
                ErrTag::D_INT_DIGIT,
                span,
                format!("constant {written} contains invalid digit {bad}"),
            ));
        }
        if body.is_empty() {
            return Err(diag(
                ErrTag::D_INT_DIGIT,
                span,
                "invalid digit in hexadecimal constant",
            ));
        }
        let value = u64::from_str_radix(body, radix).map_err(|_| {
            diag(
                ErrTag::D_INT_OFLOW,
                span,
                format!("constant {written} results in integer overflow"),
            )
        })?;
        let mut sfx = IntSuffix::default();
        let lower = suffix.to_ascii_lowercase();
        let ok = match lower.as_str() {
            "" => true,
            "u" => {
                sfx.unsigned = true;
                true
            }
            "l" | "ll" => {
                sfx.longs = lower.len() as u8;
                true
            }
            "ul" | "ull" | "lu" | "llu" => {
                sfx.unsigned = true;
                sfx.longs = (lower.len() - 1) as u8;
                true
            }
            _ => false,
        };
        // "lL" is not a valid suffix in C; require matching case for "ll".
        if !ok || suffix.contains("lL") || suffix.contains("Ll") {
            return Err(diag(
                ErrTag::D_INT_DIGIT,
                span,
                format!("invalid integer constant suffix: {suffix}"),
            ));
        }
        self.pos = end;
        Ok(Tok::Int {
            value,
            suffix: sfx,
            decimal,
        })
    }

    /// Decode one escape after a backslash at byte `i` of `s`; returns the
    /// byte and how many bytes of `s` it used.
    fn escape(s: &str, i: usize) -> Option<(u8, usize)> {
        let b = s.as_bytes();
        let c = *b.get(i + 1)?;
        let simple = match c {
            b'n' => Some(b'\n'),
            b't' => Some(b'\t'),
            b'r' => Some(b'\r'),
            b'a' => Some(7),
            b'b' => Some(8),
            b'f' => Some(12),
            b'v' => Some(11),
            b'\\' => Some(b'\\'),
            b'\'' => Some(b'\''),
            b'"' => Some(b'"'),
            b'?' => Some(b'?'),
            _ => None,
        };
        if let Some(v) = simple {
            return Some((v, 2));
        }
        if (b'0'..=b'7').contains(&c) {
            let mut v: u32 = 0;
            let mut n = 0;
            while n < 3 && matches!(b.get(i + 1 + n), Some(d) if (b'0'..=b'7').contains(d)) {
                v = v * 8 + (b[i + 1 + n] - b'0') as u32;
                n += 1;
            }
            return Some(((v & 0xff) as u8, 1 + n));
        }
        if c == b'x' {
            let mut v: u32 = 0;
            let mut n = 0;
            while matches!(b.get(i + 2 + n), Some(d) if d.is_ascii_hexdigit()) {
                v = (v << 4) | (b[i + 2 + n] as char).to_digit(16).unwrap_or(0);
                v &= 0xfff;
                n += 1;
            }
            if n == 0 {
                return None;
            }
            return Some(((v & 0xff) as u8, 2 + n));
        }
        // Unknown escapes stand for the character itself, as in C compilers.
        Some((c, 2))
    }

    /// The bytes of a quoted literal starting at `start` (the opening
    /// `quote`), escapes decoded; returns them and the literal's length.
    /// `what` names it in messages; `nl_tag` is the newline error's tag.
    fn quoted(
        &self,
        start: usize,
        quote: u8,
        what: &str,
        nl_tag: ErrTag,
    ) -> DResult<(Vec<u8>, usize)> {
        let s = self.rest();
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 1;
        let unterminated = || {
            diag(
                ErrTag::D_SYNTAX,
                Span::new(start, self.src.len()),
                format!("unterminated {what}"),
            )
        };
        loop {
            match bytes.get(i) {
                None => return Err(unterminated()),
                Some(&q) if q == quote => return Ok((out, i + 1)),
                Some(b'\n') => {
                    return Err(diag(
                        nl_tag,
                        Span::new(start, start + i),
                        format!("newline encountered in {what}"),
                    ))
                }
                Some(b'\\') if i + 1 >= bytes.len() => return Err(unterminated()),
                Some(b'\\') => match Self::escape(s, i) {
                    Some((v, used)) => {
                        out.push(v);
                        i += used;
                    }
                    None => {
                        return Err(diag(
                            ErrTag::D_SYNTAX,
                            Span::new(start + i, (start + i + 2).min(self.src.len())),
                            "\\x used with no following hex digits",
                        ))
                    }
                },
                Some(&b) => {
                    out.push(b);
                    i += 1;
                }
            }
        }
    }

    fn string(&mut self, start: usize) -> DResult<Tok> {
        let (out, len) = self.quoted(start, b'"', "string literal", ErrTag::D_STR_NL)?;
        self.pos = start + len;
        Ok(Tok::Str(out))
    }

    fn char_const(&mut self, start: usize) -> DResult<Tok> {
        let (vals, i) = self.quoted(start, b'\'', "character constant", ErrTag::D_CHR_NL)?;
        let span = Span::new(start, start + i);
        if vals.is_empty() {
            return Err(diag(ErrTag::D_CHR_NULL, span, "empty character constant"));
        }
        if vals.len() > 8 {
            return Err(diag(
                ErrTag::D_CHR_OFLOW,
                span,
                "character constant is too long",
            ));
        }
        // Multi-character constants pack big-endian, as C compilers do; a
        // single char is a signed char promoted to int.
        let value = if vals.len() == 1 {
            vals[0] as i8 as i64
        } else {
            vals.iter().fold(0i64, |acc, &b| (acc << 8) | b as i64)
        };
        self.pos = start + i;
        Ok(Tok::Char(value))
    }

    /// The text of macro argument `$n`, or the D_MACRO_UNDEF error.
    fn macro_value(&self, name: &str, span: Span) -> DResult<Option<String>> {
        let o = self.opts;
        Ok(Some(match name {
            "pid" => o.pid.to_string(),
            "ppid" => o.ppid.to_string(),
            "uid" => o.uid.to_string(),
            "gid" => o.gid.to_string(),
            "euid" => o.euid.to_string(),
            "egid" => o.egid.to_string(),
            "pgid" => o.pgid.to_string(),
            "sid" => o.sid.to_string(),
            "target" => match o.target {
                Some(t) => t.to_string(),
                None if o.defaultargs => "0".into(),
                None => {
                    return Err(diag(
                        ErrTag::D_MACRO_UNDEF,
                        span,
                        "macro argument $target is not defined",
                    ))
                }
            },
            n if n.chars().all(|c| c.is_ascii_digit()) => {
                let idx: usize = n.parse().unwrap_or(usize::MAX);
                o.macro_refs.add(idx);
                match o.macro_args.get(idx) {
                    Some(v) => v.clone(),
                    None if idx == 0 => "dtrace".into(),
                    None if o.defaultargs => return Ok(None),
                    None => {
                        return Err(diag(
                            ErrTag::D_MACRO_UNDEF,
                            span,
                            format!("macro argument ${n} is not defined"),
                        ))
                    }
                }
            }
            _ => {
                return Err(diag(
                    ErrTag::D_SYNTAX,
                    span,
                    format!("syntax error near \"${name}\""),
                ))
            }
        }))
    }

    /// `$n`, `$$n`, `$pid`, `$target`…: an integer if the value is one, an
    /// identifier if it is one, and always a string for `$$`.
    fn macro_arg(&mut self, start: usize) -> DResult<Token> {
        let rest = self.rest();
        let as_string = rest.starts_with("$$");
        let name_start = if as_string { 2 } else { 1 };
        let name_len = rest[name_start..]
            .find(|c: char| !is_ident_char(c))
            .unwrap_or(rest.len() - name_start);
        let name = &rest[name_start..name_start + name_len];
        let span = Span::new(start, start + name_start + name_len);
        if name.is_empty() {
            return Err(diag(ErrTag::D_SYNTAX, span, "syntax error near \"$\""));
        }
        self.pos = span.end;
        let value = self.macro_value(name, span)?;
        let tok = match value {
            None if as_string => Tok::Str(Vec::new()),
            None => Tok::Int {
                value: 0,
                suffix: IntSuffix::default(),
                decimal: true,
            },
            Some(v) if as_string => Tok::Str(v.into_bytes()),
            Some(v) => {
                let trimmed = v.trim();
                let num = if let Some(neg) = trimmed.strip_prefix('-') {
                    crate::options::parse_int(neg).map(|n| (n as i64).wrapping_neg() as u64)
                } else {
                    crate::options::parse_int(trimmed)
                };
                if let Some(n) = num {
                    Tok::Int {
                        value: n,
                        suffix: IntSuffix::default(),
                        decimal: true,
                    }
                } else if identifier(trimmed)
                    .map(|(r, _)| r.is_empty())
                    .unwrap_or(false)
                {
                    match Keyword::from_word(trimmed) {
                        Some(k) => Tok::Kw(k),
                        None => Tok::Ident(trimmed.to_string()),
                    }
                } else {
                    return Err(diag(
                        ErrTag::D_SYNTAX,
                        span,
                        format!("syntax error near \"{trimmed}\""),
                    ));
                }
            }
        };
        Ok(Token { tok, span })
    }

    /// Substitute `$n`/`$target`… inside a probe specifier.
    fn expand_pspec(&self, raw: &str, span: Span) -> DResult<String> {
        if !raw.contains('$') {
            return Ok(raw.to_string());
        }
        let mut out = String::new();
        let mut rest = raw;
        while let Some(i) = rest.find('$') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            let after = after.strip_prefix('$').unwrap_or(after);
            let n = after
                .find(|c: char| !is_ident_char(c))
                .unwrap_or(after.len());
            let name = &after[..n];
            if name.is_empty() {
                out.push('$');
            } else if let Some(v) = self.macro_value(name, span)? {
                out.push_str(&v);
            }
            rest = &after[n..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// File and 1-based line of a byte offset, honouring preprocessor line
/// markers (`# 12 "file.d"`) so `-C` errors name the original file and line.
/// Whether byte `offset` of a `-C` script's preprocessed text `src` lies
/// in a file the script included: a line marker before it names a file
/// other than the script (`main`) and cpp's own `<stdin>`-like names.
pub fn in_included_file(src: &str, offset: usize, main: &str) -> bool {
    match line_of(src, offset).0 {
        Some(file) => file != main && !file.starts_with('<'),
        None => false,
    }
}

/// The file and line of byte `offset`, after the line markers before it.
pub fn line_of(src: &str, offset: usize) -> (Option<String>, usize) {
    let map = SourceMap::new(src);
    let target = map.line_of(offset.min(src.len()));
    let mut file = None;
    let mut delta: isize = 0;
    for (idx, line) in src.lines().enumerate().take(target.saturating_sub(1)) {
        let t = line.trim_start();
        if let Some(m) = t.strip_prefix('#') {
            let m = m.trim_start();
            let m = m.strip_prefix("line").unwrap_or(m).trim_start();
            let num: String = m.chars().take_while(|c| c.is_ascii_digit()).collect();
            if let Ok(n) = num.parse::<isize>() {
                // The line after the marker is line n.
                delta = n - (idx as isize + 2);
                let after = m[num.len()..].trim_start();
                if let Some(q) = after.strip_prefix('"') {
                    if let Some(end) = q.find('"') {
                        file = Some(q[..end].to_string());
                    }
                }
            }
        }
    }
    let line = (target as isize + delta).max(1) as usize;
    (file, line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::DescField;
    use crate::options::Origin;

    fn lex_all(src: &str, mode: Mode) -> DResult<Vec<Tok>> {
        let opts = CompileOptions::new(Origin::Spec(DescField::Name));
        let mut l = Lexer::new(src, &opts);
        let mut v = Vec::new();
        loop {
            let t = l.next(mode)?;
            if t.tok == Tok::Eof {
                return Ok(v);
            }
            v.push(t.tok);
        }
    }

    #[test]
    fn code_tokens() {
        let toks = lex_all("x <<= 0x1fUL + 'a' ^^ y->z", Mode::Code).unwrap();
        assert_eq!(toks[0], Tok::Ident("x".into()));
        assert_eq!(toks[1], Tok::Punct("<<="));
        assert_eq!(
            toks[2],
            Tok::Int {
                value: 31,
                suffix: IntSuffix {
                    unsigned: true,
                    longs: 1
                },
                decimal: false
            }
        );
        assert_eq!(toks[4], Tok::Char(97));
        assert_eq!(toks[5], Tok::Punct("^^"));
        assert_eq!(toks[7], Tok::Punct("->"));
    }

    #[test]
    fn strings_and_escapes() {
        let toks = lex_all(r#""a\tb\x41\101\n\\\"""#, Mode::Code).unwrap();
        assert_eq!(toks[0], Tok::Str(b"a\tbAA\n\\\"".to_vec()));
        let e = lex_all("\"abc\ndef\"", Mode::Code).unwrap_err();
        assert_eq!(e.tag, ErrTag::D_STR_NL);
        assert_eq!(
            lex_all("''", Mode::Code).unwrap_err().tag,
            ErrTag::D_CHR_NULL
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(
            lex_all("1.5", Mode::Code).unwrap_err().message,
            "floating-point constants are not permitted"
        );
        assert_eq!(
            lex_all("09", Mode::Code).unwrap_err().tag,
            ErrTag::D_INT_DIGIT
        );
        assert_eq!(
            lex_all("0x", Mode::Code).unwrap_err().tag,
            ErrTag::D_INT_DIGIT
        );
        assert_eq!(
            lex_all("99999999999999999999", Mode::Code).unwrap_err().tag,
            ErrTag::D_INT_OFLOW
        );
        assert_eq!(
            lex_all("12q", Mode::Code).unwrap_err().tag,
            ErrTag::D_INT_DIGIT
        );
        assert!(matches!(
            lex_all("017", Mode::Code).unwrap()[0],
            Tok::Int { value: 15, .. }
        ));
    }

    #[test]
    fn predicate_slash() {
        let toks = lex_all("a / b /{", Mode::Code).unwrap();
        assert_eq!(toks[1], Tok::Punct("/"));
        assert_eq!(toks[3], Tok::EndPred);
    }

    #[test]
    fn pspec_and_comments() {
        let toks = lex_all(
            "/* c */ syscall::read*:entry, profile-97 // x\n",
            Mode::ProbeSpec,
        )
        .unwrap();
        assert_eq!(toks[0], Tok::ProbeSpec("syscall::read*:entry".into()));
        assert_eq!(toks[1], Tok::Punct(","));
        assert_eq!(toks[2], Tok::ProbeSpec("profile-97".into()));
        assert_eq!(
            lex_all("/* open", Mode::Code).unwrap_err().tag,
            ErrTag::D_SYNTAX
        );
    }

    #[test]
    fn macros() {
        let mut opts = CompileOptions::new(Origin::File("x.d".into()));
        opts.macro_args = vec!["x.d".into(), "42".into(), "foo".into()];
        opts.pid = 7;
        let mut l = Lexer::new("$1 $2 $$1 $pid $3", &opts);
        assert!(matches!(
            l.next(Mode::Code).unwrap().tok,
            Tok::Int { value: 42, .. }
        ));
        assert_eq!(l.next(Mode::Code).unwrap().tok, Tok::Ident("foo".into()));
        assert_eq!(l.next(Mode::Code).unwrap().tok, Tok::Str(b"42".to_vec()));
        assert!(matches!(
            l.next(Mode::Code).unwrap().tok,
            Tok::Int { value: 7, .. }
        ));
        let e = l.next(Mode::Code).unwrap_err();
        assert_eq!(e.message, "macro argument $3 is not defined");
        let mut l = Lexer::new("pid$1:::entry", &opts);
        assert_eq!(
            l.next(Mode::ProbeSpec).unwrap().tok,
            Tok::ProbeSpec("pid42:::entry".into())
        );
    }

    #[test]
    fn pragma_and_markers() {
        let toks = lex_all("# 1 \"a.d\"\n#pragma D option quiet\nx", Mode::Code).unwrap();
        assert_eq!(toks[0], Tok::Pragma("D option quiet".into()));
        assert_eq!(toks[1], Tok::Ident("x".into()));
        let src = "# 10 \"a.d\"\nx\ny";
        assert_eq!(line_of(src, src.len() - 1), (Some("a.d".into()), 11));
        assert_eq!(
            lex_all("#define X 1\n", Mode::Code).unwrap_err().tag,
            ErrTag::D_PRAGCTL_INVAL
        );
    }
}
