//! Recursive-descent parser for filters (`or` < `and` < `not`/grouping) and for PATCH paths,
//! with bounds on input length and nesting depth so hostile input cannot exhaust the stack.

use super::lexer::{Tok, Token, lex};
use super::{CompValue, CompareOp, Filter};
use crate::attr_path::AttrPath;
use crate::error::FilterError;

/// Longest filter accepted, in characters.
pub const MAX_FILTER_LEN: usize = 4096;
/// Deepest nesting of parentheses, `not (…)` and value filters accepted.
pub const MAX_DEPTH: usize = 32;

const EXPECT_OPERATOR: &str = "an operator (eq, ne, co, sw, ew, pr, gt, ge, lt, le)";
const EXPECT_VALUE: &str = "a value (a quoted string, a number, true, false or null)";

/// Parses a filter such as `userName eq "bjensen" and emails[type eq "work"]`.
///
/// Keywords and operators are case-insensitive. As a leniency for Microsoft Entra ID, a value
/// path followed by a sub-attribute comparison, `emails[type eq "work"].value eq "x"`, is read
/// as `emails[type eq "work" and value eq "x"]`: some element must satisfy both. RFC 7644's
/// grammar has no such form; this reading is the one Entra means.
pub fn parse_filter(input: &str) -> Result<Filter, FilterError> {
    let mut parser = Parser::new(input)?;
    if parser.peek().is_none() {
        return Err(FilterError::new(0, "the filter is empty"));
    }
    let filter = parser.or()?;
    if parser.peek().is_some() {
        return Err(parser.unexpected("\"and\", \"or\" or the end of the filter"));
    }
    Ok(filter)
}

/// Parses a PATCH path, `attrPath [ "[" valFilter "]" ] [ "." subAttr ]` (RFC 7644 §3.5.2).
pub(crate) fn parse_patch_path(
    input: &str,
) -> Result<(AttrPath, Option<Filter>, Option<String>), FilterError> {
    let mut parser = Parser::new(input)?;
    let path = parser.attr_path()?;
    let mut filter = None;
    let mut sub = None;
    if parser.next_is(&Tok::LBracket) {
        filter = Some(parser.value_filter()?);
        if parser.next_is(&Tok::Dot) {
            parser.pos += 1;
            sub = Some(parser.plain_name()?);
        }
    }
    if parser.peek().is_some() {
        return Err(parser.unexpected("\"[\" or the end of the path"));
    }
    Ok((path, filter, sub))
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    /// Character length of the input, the position reported for "unexpected end".
    end: usize,
    depth: usize,
    in_value_filter: bool,
}

impl Parser {
    fn new(input: &str) -> Result<Self, FilterError> {
        let chars: Vec<char> = input.chars().collect();
        if chars.len() > MAX_FILTER_LEN {
            return Err(FilterError::new(
                MAX_FILTER_LEN,
                format!(
                    "the filter is {} characters long; the limit is {MAX_FILTER_LEN}",
                    chars.len()
                ),
            ));
        }
        Ok(Self {
            tokens: lex(&chars)?,
            pos: 0,
            end: chars.len(),
            depth: 0,
            in_value_filter: false,
        })
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next_is(&self, tok: &Tok) -> bool {
        self.peek().is_some_and(|t| &t.tok == tok)
    }

    fn word_at(&self, pos: usize) -> Option<&str> {
        match self.tokens.get(pos) {
            Some(Token {
                tok: Tok::Word(w), ..
            }) => Some(w),
            _ => None,
        }
    }

    fn next_is_keyword(&self, keyword: &str) -> bool {
        self.word_at(self.pos)
            .is_some_and(|w| w.eq_ignore_ascii_case(keyword))
    }

    fn unexpected(&self, expected: &str) -> FilterError {
        match self.peek() {
            Some(t) => FilterError::new(
                t.pos,
                format!(
                    "unexpected token {} at position {}: expected {expected}",
                    t.tok.describe(),
                    t.pos
                ),
            ),
            None => FilterError::new(
                self.end,
                format!(
                    "unexpected end of input at position {}: expected {expected}",
                    self.end
                ),
            ),
        }
    }

    fn expect(&mut self, tok: &Tok, expected: &str) -> Result<(), FilterError> {
        if self.next_is(tok) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    /// Counts one level of nesting opened at the current token.
    fn enter(&mut self) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let at = self.peek().map_or(self.end, |t| t.pos);
            return Err(FilterError::new(
                at,
                format!("the filter nests more than {MAX_DEPTH} levels deep at position {at}"),
            ));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.and()?;
        while self.next_is_keyword("or") {
            self.pos += 1;
            let right = self.and()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.unary()?;
        while self.next_is_keyword("and") {
            self.pos += 1;
            let right = self.unary()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, FilterError> {
        // `not` is a keyword only before "(", so an attribute may still be called `not`.
        let is_not = self.next_is_keyword("not")
            && matches!(self.tokens.get(self.pos + 1), Some(t) if t.tok == Tok::LParen);
        if is_not {
            self.pos += 1;
            return Ok(Filter::Not(Box::new(self.group()?)));
        }
        match self.peek().map(|t| &t.tok) {
            Some(Tok::LParen) => self.group(),
            Some(Tok::Word(_)) => self.attr_expr(),
            _ => Err(self.unexpected("an attribute name, \"(\" or \"not\"")),
        }
    }

    /// `"(" filter ")"`.
    fn group(&mut self) -> Result<Filter, FilterError> {
        self.enter()?;
        self.expect(&Tok::LParen, "\"(\"")?;
        let inner = self.or()?;
        self.expect(&Tok::RParen, "\")\" or another \"and\"/\"or\" clause")?;
        self.depth -= 1;
        Ok(inner)
    }

    fn attr_path(&mut self) -> Result<AttrPath, FilterError> {
        let Some(word) = self.word_at(self.pos) else {
            return Err(self.unexpected("an attribute name"));
        };
        let at = self.tokens.get(self.pos).map_or(0, |t| t.pos);
        let path = AttrPath::from_word(word).map_err(|reason| {
            FilterError::new(
                at,
                format!("invalid attribute path at position {at}: {reason}"),
            )
        })?;
        self.pos += 1;
        Ok(path)
    }

    /// A bare attribute name, as after `].`.
    fn plain_name(&mut self) -> Result<String, FilterError> {
        let at = self.peek().map_or(self.end, |t| t.pos);
        let path = self.attr_path()?;
        if path.uri.is_some() || path.sub_attr.is_some() {
            return Err(FilterError::new(
                at,
                format!("expected a sub-attribute name at position {at}, found \"{path}\""),
            ));
        }
        Ok(path.attr)
    }

    /// `"[" filter "]"`; value filters may not nest (RFC 7644 §3.4.2.2 `valFilter`).
    fn value_filter(&mut self) -> Result<Filter, FilterError> {
        if self.in_value_filter {
            return Err(self.unexpected("an operator; value filters cannot be nested"));
        }
        self.enter()?;
        self.pos += 1;
        self.in_value_filter = true;
        let inner = self.or()?;
        self.in_value_filter = false;
        self.expect(&Tok::RBracket, "\"]\" to close the value filter")?;
        self.depth -= 1;
        Ok(inner)
    }

    fn attr_expr(&mut self) -> Result<Filter, FilterError> {
        let path = self.attr_path()?;
        if !self.next_is(&Tok::LBracket) {
            return self.comparison(path);
        }
        let mut filter = self.value_filter()?;
        if self.next_is(&Tok::Dot) {
            // Entra's `emails[type eq "work"].value eq "x"`: see `parse_filter`.
            self.pos += 1;
            let sub = AttrPath::new(self.plain_name()?);
            let tail = self.comparison(sub)?;
            filter = Filter::And(Box::new(filter), Box::new(tail));
        }
        Ok(Filter::ValuePath {
            path,
            filter: Box::new(filter),
        })
    }

    /// The operator and value after an attribute path.
    fn comparison(&mut self, path: AttrPath) -> Result<Filter, FilterError> {
        let Some(word) = self.word_at(self.pos) else {
            return Err(self.unexpected(EXPECT_OPERATOR));
        };
        if word.eq_ignore_ascii_case("pr") {
            self.pos += 1;
            return Ok(Filter::Present(path));
        }
        let Some(op) = CompareOp::from_keyword(word) else {
            return Err(self.unexpected(EXPECT_OPERATOR));
        };
        self.pos += 1;
        let value = match self.peek().map(|t| &t.tok) {
            Some(Tok::Str(s)) => CompValue::Str(s.clone()),
            Some(Tok::Num(n)) => CompValue::Number(n.clone()),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("true") => CompValue::Bool(true),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("false") => CompValue::Bool(false),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("null") => CompValue::Null,
            _ => return Err(self.unexpected(EXPECT_VALUE)),
        };
        self.pos += 1;
        Ok(Filter::Compare { path, op, value })
    }
}
