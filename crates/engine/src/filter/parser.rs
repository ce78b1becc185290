//! The string form of filters: a tokenizer and a recursive-descent parser with bounded depth,
//! producing `FilterExpr` or an error message that points at the offending part of the text in
//! the Meilisearch style (`message\nstart:end filter`).
//!
//! Grammar (keywords case-insensitive, geo function names case-sensitive):
//! ```text
//! or        = and ("OR" and)*
//! and       = not ("AND" not)*
//! not       = "NOT" not | primary
//! primary   = "(" or ")" | geo | foreign | field operation
//! foreign   = "_foreign" "(" field "," or ")"
//! operation = cmp value | value "TO" value | "IN" list | "NOT" "IN" list | "EXISTS"
//!           | "NOT" "EXISTS" | "IS" ["NOT"] ("NULL" | "EMPTY") | ["NOT"] "CONTAINS" value
//!           | ["NOT"] "STARTS" "WITH" value
//! list      = "[" [value ("," value)* [","]] "]"
//! ```

use std::fmt::Display;

use super::{Condition, FilterError, FilterExpr, MAX_FILTER_DEPTH, MAX_FILTER_LENGTH};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Cmp(Cmp),
    /// An unquoted run of value characters; its text is the source slice.
    Word,
    /// A quoted string, escapes already resolved.
    Quoted(String),
    /// A quote that is never closed; runs to the end of the input.
    Unterminated(char),
    /// Characters that can start nothing.
    Unknown,
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
}

/// Characters an unquoted field name or value is made of.
fn is_value_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')
}

fn is_special(c: char) -> bool {
    matches!(
        c,
        '(' | ')' | '[' | ']' | ',' | '=' | '!' | '<' | '>' | '\'' | '"'
    )
}

/// Keywords that cannot be used unquoted as a field name or a value.
fn is_reserved(word: &str) -> bool {
    ["or", "and", "not", "to", "in", "exists"]
        .iter()
        .any(|kw| word.eq_ignore_ascii_case(kw))
}

fn tokenize(src: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = src.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        chars.next();
        let mut end = start + c.len_utf8();
        let kind = match c {
            c if c.is_whitespace() => continue,
            '(' => Kind::LParen,
            ')' => Kind::RParen,
            '[' => Kind::LBracket,
            ']' => Kind::RBracket,
            ',' => Kind::Comma,
            '=' => Kind::Cmp(Cmp::Eq),
            '!' | '<' | '>' => {
                if chars.peek().map(|&(_, d)| d) == Some('=') {
                    chars.next();
                    end += 1;
                    Kind::Cmp(match c {
                        '!' => Cmp::Ne,
                        '<' => Cmp::Le,
                        _ => Cmp::Ge,
                    })
                } else {
                    match c {
                        '<' => Kind::Cmp(Cmp::Lt),
                        '>' => Kind::Cmp(Cmp::Gt),
                        _ => Kind::Unknown,
                    }
                }
            }
            '\'' | '"' => {
                let mut value = String::new();
                let mut closed = false;
                while let Some((i, d)) = chars.next() {
                    if d == '\\' {
                        match chars.next() {
                            Some((_, e @ ('\\' | '\'' | '"'))) => value.push(e),
                            Some((_, e)) => {
                                value.push('\\');
                                value.push(e);
                            }
                            None => value.push('\\'),
                        }
                    } else if d == c {
                        end = i + 1;
                        closed = true;
                        break;
                    } else {
                        value.push(d);
                    }
                }
                if closed {
                    Kind::Quoted(value)
                } else {
                    end = src.len();
                    Kind::Unterminated(c)
                }
            }
            c if is_value_char(c) => {
                while let Some(&(i, d)) = chars.peek() {
                    if !is_value_char(d) {
                        break;
                    }
                    end = i + d.len_utf8();
                    chars.next();
                }
                Kind::Word
            }
            _ => {
                while let Some(&(i, d)) = chars.peek() {
                    if d.is_whitespace() || is_value_char(d) || is_special(d) {
                        break;
                    }
                    end = i + d.len_utf8();
                    chars.next();
                }
                Kind::Unknown
            }
        };
        out.push(Token { kind, start, end });
    }
    out
}

/// Builds the user-facing error: the diagnostic, then `start:end` columns and the whole filter.
pub(super) fn error_at(src: &str, start: usize, end: usize, message: impl Display) -> FilterError {
    let line_start = src[..start].rfind('\n').map_or(0, |i| i + 1);
    let column = src[line_start..start].chars().count() + 1;
    let end_column = column + src[start..end].chars().count();
    FilterError {
        message: format!("{message}\n{column}:{end_column} {src}"),
    }
}

fn escaped(text: &str) -> String {
    text.escape_debug().to_string()
}

const OPERATIONS: &str = "`=`, `!=`, `>=`, `>`, `<=`, `<`, `IN`, `NOT IN`, `TO`, `EXISTS`, \
`NOT EXISTS`, `IS NULL`, `IS NOT NULL`, `IS EMPTY`, `IS NOT EMPTY`, `CONTAINS`, `NOT CONTAINS`, \
`STARTS WITH`, `NOT STARTS WITH`, `_geoRadius`, or `_geoBoundingBox`";

const RADIUS_SHAPE: &str = "The `_geoRadius` filter expects three arguments: \
`_geoRadius(latitude, longitude, radius)`.";
const BOUNDING_BOX_SHAPE: &str = "The `_geoBoundingBox` filter expects two pairs of arguments: \
`_geoBoundingBox([latitude, longitude], [latitude, longitude])`.";
const POLYGON_SHAPE: &str = "The `_geoPolygon` filter expects at least three points: \
`_geoPolygon([latitude, longitude], [latitude, longitude], [latitude, longitude], ...)`.";

#[derive(Clone, Copy)]
enum Geo {
    Radius,
    BoundingBox,
    Polygon,
}

impl Geo {
    fn from_name(name: &str) -> Option<Geo> {
        match name {
            "_geoRadius" => Some(Geo::Radius),
            "_geoBoundingBox" => Some(Geo::BoundingBox),
            "_geoPolygon" => Some(Geo::Polygon),
            _ => None,
        }
    }

    fn shape(self) -> &'static str {
        match self {
            Geo::Radius => RADIUS_SHAPE,
            Geo::BoundingBox => BOUNDING_BOX_SHAPE,
            Geo::Polygon => POLYGON_SHAPE,
        }
    }
}

/// Names reserved for geo data that are not filter operations.
fn is_reserved_geo(name: &str) -> bool {
    matches!(name, "_geo" | "_geoPoint" | "_geoDistance")
}

/// One argument of a geo function: a number, or a `[lat, lng]` pair (token indexes).
enum GeoArg {
    Number(usize),
    Point(usize, usize),
}

type Parsed<T> = Result<T, FilterError>;

pub(super) fn parse(src: &str) -> Parsed<Option<FilterExpr>> {
    if src.len() > MAX_FILTER_LENGTH {
        return Err(FilterError {
            message: format!(
                "The filter is too long: it is {} bytes long but the maximum is {MAX_FILTER_LENGTH} bytes.",
                src.len()
            ),
        });
    }
    let toks = tokenize(src);
    if toks.is_empty() {
        return Ok(None);
    }
    let mut parser = Parser { src, toks, pos: 0 };
    let expr = parser.parse_or(0)?;
    if let Some(tok) = parser.peek() {
        return Err(parser.error(
            tok.start,
            src.len(),
            format_args!(
                "Found unexpected characters at the end of the filter: `{}`. You probably forgot an `OR` or an `AND` rule.",
                escaped(&src[tok.start..])
            ),
        ));
    }
    Ok(Some(expr))
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }

    fn kind_at(&self, index: usize) -> Option<&Kind> {
        self.toks.get(index).map(|t| &t.kind)
    }

    fn text(&self, tok: &Token) -> &str {
        &self.src[tok.start..tok.end]
    }

    /// Whether the token at `index` is the unquoted keyword `kw`.
    fn is_kw(&self, index: usize, kw: &str) -> bool {
        matches!(self.toks.get(index), Some(t) if t.kind == Kind::Word && self.text(t).eq_ignore_ascii_case(kw))
    }

    /// Byte offset of the next token, or the end of the input.
    fn here(&self) -> usize {
        self.peek().map_or(self.src.len(), |t| t.start)
    }

    fn error(&self, start: usize, end: usize, message: impl Display) -> FilterError {
        error_at(self.src, start, end, message)
    }

    fn depth_error(&self) -> FilterError {
        self.error(
            self.here(),
            self.src.len(),
            "The filter exceeded the maximum depth limit. Try rewriting the filter so that it contains fewer nested conditions.",
        )
    }

    fn invalid_primary(&self, start: usize) -> FilterError {
        let rest = &self.src[start..];
        if rest.trim().is_empty() {
            self.error(
                start,
                self.src.len(),
                format_args!("Was expecting an operation {OPERATIONS} but instead got nothing."),
            )
        } else {
            self.error(
                start,
                self.src.len(),
                format_args!(
                    "Was expecting an operation {OPERATIONS} at `{}`.",
                    escaped(rest)
                ),
            )
        }
    }

    fn missing_delimiter(&self, start: usize, delimiter: char) -> FilterError {
        self.error(
            start,
            self.src.len(),
            format_args!(
                "Expression `{}` is missing the following closing delimiter: `{delimiter}`.",
                escaped(&self.src[start..])
            ),
        )
    }

    fn reserved_keyword(&self, tok: &Token) -> FilterError {
        let word = escaped(self.text(tok));
        self.error(
            tok.start,
            tok.end,
            format_args!("Was expecting a value but instead got `{word}`, which is a reserved keyword. To use `{word}` as a field name or a value, surround it by quotes."),
        )
    }

    /// The span of `name(...)` starting at token `index`: through the matching `)`, or to the
    /// end of the input when it is never closed; just the name when no `(` follows.
    fn call_end(&self, index: usize) -> usize {
        if self.kind_at(index + 1) != Some(&Kind::LParen) {
            return self.toks[index].end;
        }
        let mut depth = 0usize;
        for tok in &self.toks[index + 1..] {
            match tok.kind {
                Kind::LParen => depth += 1,
                Kind::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        return tok.end;
                    }
                }
                _ => {}
            }
        }
        self.src.len()
    }

    fn reserved_geo(&self, index: usize) -> FilterError {
        let tok = &self.toks[index];
        self.error(
            tok.start,
            self.call_end(index),
            format_args!("`{}` is a reserved keyword and thus can't be used as a filter expression. Use the `_geoRadius(latitude, longitude, distance)` or `_geoBoundingBox([latitude, longitude], [latitude, longitude])` built-in rules to filter on `_geo` coordinates.", escaped(self.text(tok))),
        )
    }

    fn parse_or(&mut self, depth: usize) -> Parsed<FilterExpr> {
        let mut items = vec![self.parse_and(depth)?];
        while self.is_kw(self.pos, "or") {
            self.pos += 1;
            items.push(self.parse_and(depth)?);
        }
        Ok(if items.len() == 1 {
            items.swap_remove(0)
        } else {
            FilterExpr::Or(items)
        })
    }

    fn parse_and(&mut self, depth: usize) -> Parsed<FilterExpr> {
        let mut items = vec![self.parse_not(depth)?];
        while self.is_kw(self.pos, "and") {
            self.pos += 1;
            items.push(self.parse_not(depth)?);
        }
        Ok(if items.len() == 1 {
            items.swap_remove(0)
        } else {
            FilterExpr::And(items)
        })
    }

    fn parse_not(&mut self, depth: usize) -> Parsed<FilterExpr> {
        if self.is_kw(self.pos, "not") {
            if depth >= MAX_FILTER_DEPTH {
                return Err(self.depth_error());
            }
            self.pos += 1;
            return Ok(FilterExpr::Not(Box::new(self.parse_not(depth + 1)?)));
        }
        self.parse_primary(depth)
    }

    fn parse_primary(&mut self, depth: usize) -> Parsed<FilterExpr> {
        let Some(tok) = self.peek().cloned() else {
            return Err(self.invalid_primary(self.src.len()));
        };
        match &tok.kind {
            Kind::LParen => {
                if depth >= MAX_FILTER_DEPTH {
                    return Err(self.depth_error());
                }
                self.pos += 1;
                let inner = self.parse_or(depth + 1)?;
                if self.kind_at(self.pos) == Some(&Kind::RParen) {
                    self.pos += 1;
                    Ok(inner)
                } else {
                    Err(self.missing_delimiter(tok.start, ')'))
                }
            }
            Kind::Word => {
                let word = self.text(&tok);
                if is_reserved(word) {
                    Err(self.reserved_keyword(&tok))
                } else if let Some(geo) = Geo::from_name(word) {
                    self.parse_geo(geo)
                } else if word == "_foreign" {
                    self.parse_foreign(depth)
                } else if is_reserved_geo(word) {
                    Err(self.reserved_geo(self.pos))
                } else {
                    self.parse_condition(tok)
                }
            }
            Kind::Quoted(_) => self.parse_condition(tok),
            Kind::Unterminated(quote) => Err(self.missing_delimiter(tok.start, *quote)),
            _ => Err(self.invalid_primary(tok.start)),
        }
    }

    /// The text of a field or value token (quoted strings with escapes resolved).
    fn token_value(&self, tok: &Token) -> String {
        match &tok.kind {
            Kind::Quoted(value) => value.clone(),
            _ => self.text(tok).to_string(),
        }
    }

    fn parse_condition(&mut self, field_tok: Token) -> Parsed<FilterExpr> {
        let field = self.token_value(&field_tok);
        self.pos += 1;
        let p = self.pos;
        let condition = match self.kind_at(p).cloned() {
            Some(Kind::Cmp(cmp)) => {
                self.pos += 1;
                let value = self.parse_value()?;
                match cmp {
                    Cmp::Eq => Condition::Equal(value),
                    Cmp::Ne => Condition::NotEqual(value),
                    Cmp::Gt => Condition::GreaterThan(value),
                    Cmp::Ge => Condition::GreaterThanOrEqual(value),
                    Cmp::Lt => Condition::LowerThan(value),
                    Cmp::Le => Condition::LowerThanOrEqual(value),
                }
            }
            Some(Kind::Word) if self.is_kw(p, "contains") => {
                self.pos += 1;
                Condition::Contains(self.parse_value()?)
            }
            Some(Kind::Word) if self.is_kw(p, "starts") && self.is_kw(p + 1, "with") => {
                self.pos += 2;
                Condition::StartsWith(self.parse_value()?)
            }
            Some(Kind::Word) if self.is_kw(p, "in") => {
                self.pos += 1;
                Condition::In(self.parse_list()?)
            }
            Some(Kind::Word) if self.is_kw(p, "exists") => {
                self.pos += 1;
                Condition::Exists
            }
            Some(Kind::Word) if self.is_kw(p, "is") => {
                let (negated, at) = if self.is_kw(p + 1, "not") {
                    (true, p + 2)
                } else {
                    (false, p + 1)
                };
                let condition = match (negated, self.is_kw(at, "null"), self.is_kw(at, "empty")) {
                    (false, true, _) => Condition::IsNull,
                    (true, true, _) => Condition::IsNotNull,
                    (false, _, true) => Condition::IsEmpty,
                    (true, _, true) => Condition::IsNotEmpty,
                    _ => return Err(self.invalid_primary(field_tok.start)),
                };
                self.pos = at + 1;
                condition
            }
            Some(Kind::Word) if self.is_kw(p, "not") => {
                if self.is_kw(p + 1, "in") {
                    self.pos += 2;
                    Condition::NotIn(self.parse_list()?)
                } else if self.is_kw(p + 1, "exists") {
                    self.pos += 2;
                    Condition::NotExists
                } else if self.is_kw(p + 1, "contains") {
                    self.pos += 2;
                    Condition::NotContains(self.parse_value()?)
                } else if self.is_kw(p + 1, "starts") && self.is_kw(p + 2, "with") {
                    self.pos += 3;
                    Condition::NotStartsWith(self.parse_value()?)
                } else {
                    return Err(self.invalid_primary(field_tok.start));
                }
            }
            Some(Kind::Word | Kind::Quoted(_)) if self.is_kw(p + 1, "to") => {
                let from_tok = self.toks[p].clone();
                if from_tok.kind == Kind::Word && is_reserved(self.text(&from_tok)) {
                    return Err(self.invalid_primary(field_tok.start));
                }
                let from = self.token_value(&from_tok);
                self.pos += 2;
                let to = self.parse_value()?;
                Condition::Between { from, to }
            }
            _ => return Err(self.invalid_primary(field_tok.start)),
        };
        Ok(FilterExpr::Condition {
            field,
            condition,
            span: (field_tok.start, field_tok.end),
        })
    }

    fn parse_value(&mut self) -> Parsed<String> {
        let Some(tok) = self.peek().cloned() else {
            return Err(self.error(
                self.src.len(),
                self.src.len(),
                "Was expecting a value but instead got nothing.",
            ));
        };
        match &tok.kind {
            Kind::Quoted(value) => {
                self.pos += 1;
                Ok(value.clone())
            }
            Kind::Word => {
                let word = self.text(&tok);
                if is_reserved(word) {
                    return Err(self.reserved_keyword(&tok));
                }
                if Geo::from_name(word).is_some() {
                    return Err(self.error(
                        tok.start,
                        self.call_end(self.pos),
                        format_args!(
                            "The `{word}` filter is an operation and can't be used as a value."
                        ),
                    ));
                }
                if is_reserved_geo(word) {
                    return Err(self.reserved_geo(self.pos));
                }
                let word = word.to_string();
                self.pos += 1;
                Ok(word)
            }
            Kind::Unterminated(quote) => Err(self.missing_delimiter(tok.start, *quote)),
            _ => Err(self.error(
                tok.start,
                tok.end,
                format_args!(
                    "Was expecting a value but instead got `{}`.",
                    escaped(self.text(&tok))
                ),
            )),
        }
    }

    /// `[a, b, "c d"]` after `IN`; an empty list is allowed, and so is a trailing comma.
    fn parse_list(&mut self) -> Parsed<Vec<String>> {
        if self.kind_at(self.pos) != Some(&Kind::LBracket) {
            return Err(self.error(
                self.here(),
                self.src.len(),
                "Expected `[` after `IN` keyword.",
            ));
        }
        self.pos += 1;
        let unclosed = |p: &Self| {
            p.error(
                p.src.len(),
                p.src.len(),
                "Expected matching `]` after the list of field names given to `IN[`",
            )
        };
        let unexpected = |p: &Self, start: usize| {
            p.error(
                start,
                p.src.len(),
                format_args!(
                    "Expected only comma-separated field names inside `IN[..]` but instead found `{}`.",
                    escaped(&p.src[start..])
                ),
            )
        };
        let mut values = Vec::new();
        loop {
            let Some(tok) = self.peek().cloned() else {
                return Err(unclosed(self));
            };
            match &tok.kind {
                Kind::RBracket => {
                    self.pos += 1;
                    return Ok(values);
                }
                Kind::Quoted(value) => values.push(value.clone()),
                Kind::Word if !is_reserved(self.text(&tok)) => {
                    values.push(self.text(&tok).to_string())
                }
                Kind::Unterminated(quote) => return Err(self.missing_delimiter(tok.start, *quote)),
                _ => return Err(unexpected(self, tok.start)),
            }
            self.pos += 1;
            match self.peek().map(|t| (t.kind.clone(), t.start)) {
                None => return Err(unclosed(self)),
                Some((Kind::Comma, _)) => self.pos += 1,
                Some((Kind::RBracket, _)) => {
                    self.pos += 1;
                    return Ok(values);
                }
                Some((_, start)) => return Err(unexpected(self, start)),
            }
        }
    }

    /// The parenthesised arguments of a geo function; `None` when they are malformed. On
    /// success the position is just past the closing `)`.
    fn parse_geo_args(&mut self) -> Option<Vec<GeoArg>> {
        let is_value = |k: Option<&Kind>| matches!(k, Some(Kind::Word | Kind::Quoted(_)));
        if self.kind_at(self.pos) != Some(&Kind::LParen) {
            return None;
        }
        self.pos += 1;
        let mut args = Vec::new();
        if self.kind_at(self.pos) == Some(&Kind::RParen) {
            self.pos += 1;
            return Some(args);
        }
        loop {
            let p = self.pos;
            if is_value(self.kind_at(p)) {
                args.push(GeoArg::Number(p));
                self.pos += 1;
            } else if self.kind_at(p) == Some(&Kind::LBracket)
                && is_value(self.kind_at(p + 1))
                && self.kind_at(p + 2) == Some(&Kind::Comma)
                && is_value(self.kind_at(p + 3))
                && self.kind_at(p + 4) == Some(&Kind::RBracket)
            {
                args.push(GeoArg::Point(p + 1, p + 3));
                self.pos += 5;
            } else {
                return None;
            }
            match self.kind_at(self.pos) {
                Some(Kind::Comma) => self.pos += 1,
                Some(Kind::RParen) => {
                    self.pos += 1;
                    return Some(args);
                }
                _ => return None,
            }
        }
    }

    fn number(&self, index: usize) -> Parsed<f64> {
        let tok = &self.toks[index];
        let text = self.token_value(tok);
        match text.trim().parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(n),
            Ok(_) => Err(self.error(tok.start, tok.end, "Non finite floats are not supported")),
            Err(_) => Err(self.error(tok.start, tok.end, "invalid float literal")),
        }
    }

    fn latitude(&self, index: usize) -> Parsed<f64> {
        let lat = self.number(index)?;
        if !(-90.0..=90.0).contains(&lat) {
            let tok = &self.toks[index];
            return Err(self.error(
                tok.start,
                tok.end,
                format_args!(
                    "Bad latitude `{lat}`. Latitude must be contained between -90 and 90 degrees."
                ),
            ));
        }
        Ok(lat)
    }

    fn longitude(&self, index: usize) -> Parsed<f64> {
        let lng = self.number(index)?;
        if !(-180.0..=180.0).contains(&lng) {
            let tok = &self.toks[index];
            return Err(self.error(
                tok.start,
                tok.end,
                format_args!(
                    "Bad longitude `{lng}`. Longitude must be contained between -180 and 180 degrees."
                ),
            ));
        }
        Ok(lng)
    }

    fn point(&self, arg: &GeoArg) -> Option<Parsed<(f64, f64)>> {
        match *arg {
            GeoArg::Point(lat, lng) => Some(self.latitude(lat).and_then(|lat| {
                let lng = self.longitude(lng)?;
                Ok((lat, lng))
            })),
            GeoArg::Number(_) => None,
        }
    }

    /// `_foreign(field, filter)`: once `_foreign` is read, the rest must be its arguments.
    fn parse_foreign(&mut self, depth: usize) -> Parsed<FilterExpr> {
        let name = self.toks[self.pos].clone();
        self.pos += 1;
        let shape_error = |parser: &Self| {
            let rest = &parser.src[name.end..];
            parser.error(
                name.end,
                parser.src.len(),
                format_args!(
                    "Was expecting a field name and a condition inside `_foreign(..)` filter but instead found `{}`.",
                    escaped(rest.trim())
                ),
            )
        };
        if self.kind_at(self.pos) != Some(&Kind::LParen) {
            return Err(shape_error(self));
        }
        if depth >= MAX_FILTER_DEPTH {
            return Err(self.depth_error());
        }
        self.pos += 1;
        let field_tok = match self.peek() {
            Some(tok) if matches!(tok.kind, Kind::Word | Kind::Quoted(_)) => tok.clone(),
            _ => return Err(shape_error(self)),
        };
        let field = self.token_value(&field_tok);
        self.pos += 1;
        if self.kind_at(self.pos) != Some(&Kind::Comma) {
            return Err(shape_error(self));
        }
        self.pos += 1;
        if self.peek().is_none() {
            return Err(shape_error(self));
        }
        let filter = self.parse_or(depth + 1)?;
        if self.kind_at(self.pos) != Some(&Kind::RParen) {
            return Err(self.missing_delimiter(name.start, ')'));
        }
        self.pos += 1;
        Ok(FilterExpr::Foreign {
            field,
            span: (field_tok.start, field_tok.end),
            filter: Box::new(filter),
        })
    }

    fn parse_geo(&mut self, geo: Geo) -> Parsed<FilterExpr> {
        let name = self.toks[self.pos].clone();
        self.pos += 1;
        let Some(args) = self.parse_geo_args() else {
            return Err(self.error(name.start, self.src.len(), geo.shape()));
        };
        let end = self.toks[self.pos - 1].end;
        let shape_error = || Err(self.error(name.start, end, geo.shape()));
        match geo {
            Geo::Radius => {
                let mut numbers = Vec::with_capacity(4);
                for arg in &args {
                    match arg {
                        GeoArg::Number(index) => numbers.push(*index),
                        GeoArg::Point(..) => return shape_error(),
                    }
                }
                if !(3..=4).contains(&numbers.len()) {
                    return shape_error();
                }
                let lat = self.latitude(numbers[0])?;
                let lng = self.longitude(numbers[1])?;
                let radius_meters = self.number(numbers[2])?;
                let resolution = match numbers.get(3) {
                    Some(&index) => {
                        let resolution = self.number(index)?;
                        if !(3.0..=1000.0).contains(&resolution) {
                            let tok = &self.toks[index];
                            return Err(self.error(
                                tok.start,
                                tok.end,
                                format_args!("Invalid resolution `{resolution}`. Resolution must be between 3 and 1000."),
                            ));
                        }
                        Some(resolution)
                    }
                    None => None,
                };
                Ok(FilterExpr::GeoRadius {
                    lat,
                    lng,
                    radius_meters,
                    resolution,
                })
            }
            Geo::BoundingBox => {
                if args.len() != 2 {
                    return shape_error();
                }
                let (Some(top_right), Some(bottom_left)) =
                    (self.point(&args[0]), self.point(&args[1]))
                else {
                    return shape_error();
                };
                let (top_right, bottom_left) = (top_right?, bottom_left?);
                if top_right.0 < bottom_left.0 {
                    let GeoArg::Point(top_index, _) = args[0] else {
                        return shape_error();
                    };
                    let tok = &self.toks[top_index];
                    return Err(self.error(
                        tok.start,
                        tok.end,
                        format_args!(
                            "The top latitude `{}` is below the bottom latitude `{}`.",
                            top_right.0, bottom_left.0
                        ),
                    ));
                }
                Ok(FilterExpr::GeoBoundingBox {
                    top_right,
                    bottom_left,
                })
            }
            Geo::Polygon => {
                if args.len() < 3 || args.iter().any(|a| matches!(a, GeoArg::Number(_))) {
                    return shape_error();
                }
                let mut points = Vec::with_capacity(args.len());
                for arg in &args {
                    match self.point(arg) {
                        Some(point) => points.push(point?),
                        None => return shape_error(),
                    }
                }
                Ok(FilterExpr::GeoPolygon(points))
            }
        }
    }
}
