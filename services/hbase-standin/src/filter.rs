//! The part of HBase's filter language (`TScan.filterString`) the stand-in understands:
//! `SingleColumnValueFilter`, `PrefixFilter` and `RowFilter` with `binary:` and
//! `substring:` comparators, joined by `AND` and `OR` (AND binds tighter) and grouped by
//! parentheses. Anything else is refused with the reason, as HBase refuses a filter it
//! cannot parse, so a client never gets unfiltered rows by mistake.

use std::cmp::Ordering;

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Both sides pass.
    And(Box<Filter>, Box<Filter>),
    /// Either side passes.
    Or(Box<Filter>, Box<Filter>),
    /// `SingleColumnValueFilter('family', 'qualifier', op, 'comparator'[, filterIfMissing,
    /// latestVersionOnly])`.
    SingleColumnValue {
        /// `family:qualifier`.
        column: Vec<u8>,
        /// How the cell's value compares.
        test: Comparison,
        /// Whether a row without the column is dropped (HBase's default: kept).
        filter_if_missing: bool,
    },
    /// `PrefixFilter('prefix')`: the row key starts with it.
    Prefix(Vec<u8>),
    /// `RowFilter(op, 'comparator')`: the row key compares.
    Row(Comparison),
}

/// An operator and a comparator, e.g. `=, 'binary:ACH'`.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    op: Op,
    comparator: Comparator,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Less,
    LessOrEqual,
    Equal,
    NotEqual,
    GreaterOrEqual,
    Greater,
}

#[derive(Debug, Clone, PartialEq)]
enum Comparator {
    Binary(Vec<u8>),
    Substring(Vec<u8>),
}

impl Comparison {
    fn passes(&self, value: &[u8]) -> bool {
        match &self.comparator {
            Comparator::Binary(expected) => {
                let order = value.cmp(expected.as_slice());
                match self.op {
                    Op::Less => order == Ordering::Less,
                    Op::LessOrEqual => order != Ordering::Greater,
                    Op::Equal => order == Ordering::Equal,
                    Op::NotEqual => order != Ordering::Equal,
                    Op::GreaterOrEqual => order != Ordering::Less,
                    Op::Greater => order == Ordering::Greater,
                }
            }
            Comparator::Substring(needle) => {
                let lower = |b: &[u8]| b.to_ascii_lowercase();
                let found = lower(value)
                    .windows(needle.len().max(1))
                    .any(|w| w == lower(needle).as_slice())
                    || needle.is_empty();
                (self.op == Op::Equal) == found
            }
        }
    }
}

impl Filter {
    /// Parses a filter string, or says what in it is not understood.
    pub fn parse(text: &str) -> Result<Self, String> {
        let tokens = tokenize(text)?;
        let mut parser = Parser { tokens, at: 0 };
        let filter = parser.or_expression()?;
        match parser.tokens.get(parser.at) {
            None => Ok(filter),
            Some(t) => Err(format!("unexpected {t:?} after a complete filter")),
        }
    }

    /// Whether the row passes: `row` is its key, `cell` looks up a column's value among
    /// the scanned columns.
    pub fn passes<'a>(&self, row: &[u8], cell: &dyn Fn(&[u8]) -> Option<&'a [u8]>) -> bool {
        match self {
            Self::And(a, b) => a.passes(row, cell) && b.passes(row, cell),
            Self::Or(a, b) => a.passes(row, cell) || b.passes(row, cell),
            Self::SingleColumnValue {
                column,
                test,
                filter_if_missing,
            } => match cell(column) {
                Some(value) => test.passes(value),
                None => !filter_if_missing,
            },
            Self::Prefix(prefix) => row.starts_with(prefix),
            Self::Row(test) => test.passes(row),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Quoted(Vec<u8>),
    Open,
    Close,
    Comma,
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\n' => i += 1,
            b'(' => {
                tokens.push(Token::Open);
                i += 1;
            }
            b')' => {
                tokens.push(Token::Close);
                i += 1;
            }
            b',' => {
                tokens.push(Token::Comma);
                i += 1;
            }
            b'\'' => {
                // A quote inside a quoted string is written twice, as in HBase.
                let mut value = Vec::new();
                i += 1;
                loop {
                    match bytes.get(i) {
                        None => return Err("unterminated quoted string".into()),
                        Some(b'\'') if bytes.get(i + 1) == Some(&b'\'') => {
                            value.push(b'\'');
                            i += 2;
                        }
                        Some(b'\'') => {
                            i += 1;
                            break;
                        }
                        Some(b) => {
                            value.push(*b);
                            i += 1;
                        }
                    }
                }
                tokens.push(Token::Quoted(value));
            }
            _ => {
                let start = i;
                while i < bytes.len() && !b" \t\n(),'".contains(&bytes[i]) {
                    i += 1;
                }
                tokens.push(Token::Word(text[start..i].to_owned()));
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn peek_word(&self, word: &str) -> bool {
        matches!(self.tokens.get(self.at), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn or_expression(&mut self) -> Result<Filter, String> {
        let mut left = self.and_expression()?;
        while self.peek_word("OR") {
            self.at += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and_expression()?));
        }
        Ok(left)
    }

    fn and_expression(&mut self) -> Result<Filter, String> {
        let mut left = self.term()?;
        while self.peek_word("AND") {
            self.at += 1;
            left = Filter::And(Box::new(left), Box::new(self.term()?));
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Filter, String> {
        match self.next() {
            Some(Token::Open) => {
                let inner = self.or_expression()?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    other => Err(format!("expected ')', found {other:?}")),
                }
            }
            Some(Token::Word(name)) => {
                let args = self.arguments(&name)?;
                filter_call(&name, &args)
            }
            other => Err(format!("expected a filter, found {other:?}")),
        }
    }

    fn arguments(&mut self, name: &str) -> Result<Vec<Token>, String> {
        if self.next() != Some(Token::Open) {
            return Err(format!("{name}: expected '(' after the filter name"));
        }
        let mut args = Vec::new();
        loop {
            match self.next() {
                Some(Token::Close) if args.is_empty() => return Ok(args),
                Some(arg @ (Token::Word(_) | Token::Quoted(_))) => args.push(arg),
                other => return Err(format!("{name}: expected an argument, found {other:?}")),
            }
            match self.next() {
                Some(Token::Comma) => {}
                Some(Token::Close) => return Ok(args),
                other => return Err(format!("{name}: expected ',' or ')', found {other:?}")),
            }
        }
    }
}

fn filter_call(name: &str, args: &[Token]) -> Result<Filter, String> {
    let quoted = |i: usize| match args.get(i) {
        Some(Token::Quoted(v)) => Ok(v.clone()),
        other => Err(format!(
            "{name}: argument {} must be a quoted string, found {other:?}",
            i + 1
        )),
    };
    let word = |i: usize| match args.get(i) {
        Some(Token::Word(w)) => Ok(w.clone()),
        other => Err(format!(
            "{name}: argument {} must be a bare word, found {other:?}",
            i + 1
        )),
    };
    let boolean = |i: usize| match word(i)?.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(format!(
            "{name}: argument {} must be true or false, not {other}",
            i + 1
        )),
    };
    match name {
        "SingleColumnValueFilter" => {
            if args.len() != 4 && args.len() != 6 {
                return Err(format!("{name} takes 4 or 6 arguments, got {}", args.len()));
            }
            let mut column = quoted(0)?;
            column.push(b':');
            column.extend(quoted(1)?);
            let test = comparison(name, &word(2)?, &quoted(3)?)?;
            let filter_if_missing = if args.len() == 6 { boolean(4)? } else { false };
            Ok(Filter::SingleColumnValue {
                column,
                test,
                filter_if_missing,
            })
        }
        "PrefixFilter" if args.len() == 1 => Ok(Filter::Prefix(quoted(0)?)),
        "RowFilter" if args.len() == 2 => {
            Ok(Filter::Row(comparison(name, &word(0)?, &quoted(1)?)?))
        }
        "PrefixFilter" | "RowFilter" => Err(format!("{name}: wrong number of arguments")),
        _ => Err(format!(
            "the stand-in does not implement {name}; it understands SingleColumnValueFilter, \
             PrefixFilter and RowFilter"
        )),
    }
}

fn comparison(name: &str, op: &str, comparator: &[u8]) -> Result<Comparison, String> {
    let op = match op {
        "<" => Op::Less,
        "<=" => Op::LessOrEqual,
        "=" => Op::Equal,
        "!=" => Op::NotEqual,
        ">=" => Op::GreaterOrEqual,
        ">" => Op::Greater,
        other => return Err(format!("{name}: unknown operator {other:?}")),
    };
    let comparator = if let Some(v) = comparator.strip_prefix(b"binary:") {
        Comparator::Binary(v.to_vec())
    } else if let Some(v) = comparator.strip_prefix(b"substring:") {
        if !matches!(op, Op::Equal | Op::NotEqual) {
            return Err(format!("{name}: substring comparators take only = and !="));
        }
        Comparator::Substring(v.to_vec())
    } else {
        return Err(format!(
            "{name}: comparator {:?} is not binary: or substring:",
            String::from_utf8_lossy(comparator)
        ));
    };
    Ok(Comparison { op, comparator })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn row_passes(filter: &str, row: &str, cells: &[(&str, &str)]) -> bool {
        let cells: BTreeMap<Vec<u8>, Vec<u8>> = cells
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect();
        let lookup = |c: &[u8]| cells.get(c).map(Vec::as_slice);
        match Filter::parse(filter) {
            Ok(f) => f.passes(row.as_bytes(), &lookup),
            Err(e) => panic!("{filter}: {e}"),
        }
    }

    #[test]
    fn single_column_value_filters_compare_and_join() {
        let f = "SingleColumnValueFilter('cf', 'payment_type', =, 'binary:ACH', true, true) \
                 AND SingleColumnValueFilter('cf','originator_id',=,'binary:C-1',true,true)";
        let cells = [("cf:payment_type", "ACH"), ("cf:originator_id", "C-1")];
        assert!(row_passes(f, "r", &cells));
        assert!(!row_passes(
            f,
            "r",
            &[("cf:payment_type", "ACH"), ("cf:originator_id", "C-2")]
        ));
        // filterIfMissing=true drops rows without the column; the 4-argument form keeps them.
        assert!(!row_passes(f, "r", &[("cf:payment_type", "ACH")]));
        assert!(row_passes(
            "SingleColumnValueFilter('cf','x',=,'binary:1')",
            "r",
            &[]
        ));
    }

    #[test]
    fn and_binds_tighter_than_or_and_parentheses_group() {
        let cells = [("cf:a", "1")];
        let t = "SingleColumnValueFilter('cf','a',=,'binary:1',true,true)";
        let f = "SingleColumnValueFilter('cf','a',=,'binary:2',true,true)";
        assert!(row_passes(&format!("{t} OR {f} AND {f}"), "r", &cells));
        assert!(!row_passes(&format!("({t} OR {f}) AND {f}"), "r", &cells));
    }

    #[test]
    fn row_key_filters() {
        assert!(row_passes("PrefixFilter('2024')", "20240101_ACH", &[]));
        assert!(!row_passes("PrefixFilter('2025')", "20240101_ACH", &[]));
        assert!(row_passes(
            "RowFilter(=, 'substring:_ach_')",
            "20240101_ACH_C",
            &[]
        ));
        assert!(row_passes("RowFilter(<, 'binary:3')", "20240101", &[]));
    }

    #[test]
    fn quotes_inside_values_are_doubled() {
        assert!(row_passes(
            "SingleColumnValueFilter('cf','n',=,'binary:O''Brien')",
            "r",
            &[("cf:n", "O'Brien")]
        ));
    }

    #[test]
    fn what_is_not_understood_is_refused_with_the_reason() {
        for (filter, reason) in [
            (
                "ColumnPrefixFilter('a')",
                "does not implement ColumnPrefixFilter",
            ),
            (
                "SingleColumnValueFilter('cf','a',=)",
                "takes 4 or 6 arguments",
            ),
            (
                "SingleColumnValueFilter('cf','a',~,'binary:1')",
                "unknown operator",
            ),
            (
                "RowFilter(=, 'regexstring:^a')",
                "is not binary: or substring:",
            ),
            ("PrefixFilter('a'", "expected ',' or ')'"),
            (
                "PrefixFilter('a') PrefixFilter('b')",
                "after a complete filter",
            ),
            ("PrefixFilter('a)", "unterminated"),
        ] {
            match Filter::parse(filter) {
                Ok(f) => panic!("{filter} parsed as {f:?}"),
                Err(e) => assert!(e.contains(reason), "{filter}: {e}"),
            }
        }
    }
}
