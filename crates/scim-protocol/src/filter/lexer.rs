//! Tokenizer for filters and PATCH paths.

use serde_json::Number;

use crate::attr_path::is_word_char;
use crate::error::FilterError;

/// One token kind.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    /// A `.` that starts a token, i.e. the one in `emails[…].value`.
    Dot,
    /// An attribute path, keyword, operator or `true`/`false`/`null`.
    Word(String),
    /// A string literal with escapes resolved.
    Str(String),
    Num(Number),
}

impl Tok {
    /// How the token is named in error messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::LParen => "\"(\"".into(),
            Self::RParen => "\")\"".into(),
            Self::LBracket => "\"[\"".into(),
            Self::RBracket => "\"]\"".into(),
            Self::Dot => "\".\"".into(),
            Self::Word(w) => format!("\"{w}\""),
            Self::Str(s) => format!("string {}", serde_json::Value::from(s.as_str())),
            Self::Num(n) => format!("number {n}"),
        }
    }
}

/// A token and the character offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) pos: usize,
}

/// Splits `chars` into tokens; positions are character offsets.
pub(crate) fn lex(chars: &[char]) -> Result<Vec<Token>, FilterError> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let start = i;
        let tok = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            '[' => Tok::LBracket,
            ']' => Tok::RBracket,
            '.' => Tok::Dot,
            '"' => {
                let (text, end) = string(chars, start)?;
                i = end;
                tokens.push(Token {
                    tok: Tok::Str(text),
                    pos: start,
                });
                continue;
            }
            '-' | '0'..='9' => {
                let (number, end) = number(chars, start)?;
                i = end;
                tokens.push(Token {
                    tok: Tok::Num(number),
                    pos: start,
                });
                continue;
            }
            c if c.is_ascii_alphabetic() || c == '$' => {
                let end = scan(chars, start, is_word_char);
                i = end;
                tokens.push(Token {
                    tok: Tok::Word(chars[start..end].iter().collect()),
                    pos: start,
                });
                continue;
            }
            other => {
                return Err(FilterError::new(
                    start,
                    format!("unexpected character \"{other}\" at position {start}"),
                ));
            }
        };
        tokens.push(Token { tok, pos: start });
        i += 1;
    }
    Ok(tokens)
}

/// The index of the first character at or after `from` that is not `keep`.
fn scan(chars: &[char], from: usize, keep: impl Fn(char) -> bool) -> usize {
    chars[from..]
        .iter()
        .position(|&c| !keep(c))
        .map_or(chars.len(), |n| from + n)
}

/// Reads the string literal opening at `start`; returns its value and the index after it.
fn string(chars: &[char], start: usize) -> Result<(String, usize), FilterError> {
    let mut j = start + 1;
    loop {
        match chars.get(j) {
            None => {
                return Err(FilterError::new(
                    start,
                    format!("unterminated string starting at position {start}"),
                ));
            }
            Some('\\') => j += 2,
            Some('"') => break,
            Some(_) => j += 1,
        }
    }
    // Filter strings are JSON strings (RFC 7644 §3.4.2.2), so serde_json resolves escapes.
    let raw: String = chars[start..=j].iter().collect();
    let text = serde_json::from_str::<String>(&raw).map_err(|e| {
        let reason = e.to_string();
        let reason = reason.split(" at line ").next().unwrap_or_default();
        FilterError::new(
            start,
            format!("invalid string starting at position {start}: {reason}"),
        )
    })?;
    if text.contains('\0') {
        // No stored text can hold U+0000 (PostgreSQL refuses it), so it is refused here too.
        return Err(FilterError::new(
            start,
            format!(
                "the string starting at position {start} contains the NUL character (\\u0000), which no value can hold"
            ),
        ));
    }
    Ok((text, j + 1))
}

/// Reads the JSON number starting at `start`; returns it and the index after it.
fn number(chars: &[char], start: usize) -> Result<(Number, usize), FilterError> {
    let digits = |from: usize| scan(chars, from, |c| c.is_ascii_digit());
    let mut j = start;
    if chars.get(j) == Some(&'-') {
        j += 1;
    }
    let int_end = digits(j);
    let mut well_formed = int_end > j;
    j = int_end;
    let mut float = false;
    if chars.get(j) == Some(&'.') {
        let end = digits(j + 1);
        well_formed &= end > j + 1;
        (j, float) = (end, true);
    }
    if matches!(chars.get(j), Some('e' | 'E')) {
        j += 1;
        if matches!(chars.get(j), Some('+' | '-')) {
            j += 1;
        }
        let end = digits(j);
        well_formed &= end > j;
        (j, float) = (end, true);
    }
    let end = scan(chars, j, is_word_char);
    let text: String = chars[start..end].iter().collect();
    let parsed = if well_formed && end == j {
        to_number(&text, float)
    } else {
        None
    };
    parsed.map(|n| (n, end)).ok_or_else(|| {
        FilterError::new(
            start,
            format!("invalid number \"{text}\" at position {start}"),
        )
    })
}

/// Converts number text exactly: integers stay integers, and floats use the standard
/// library's correctly rounded parser, so that printed numbers parse back to the same value.
fn to_number(text: &str, float: bool) -> Option<Number> {
    if !float {
        if let Ok(n) = text.parse::<u64>() {
            return Some(Number::from(n));
        }
        if let Ok(n) = text.parse::<i64>() {
            return Some(Number::from(n));
        }
    }
    text.parse::<f64>().ok().and_then(Number::from_f64)
}
