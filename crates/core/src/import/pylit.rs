//! A small parser for Python list literals of strings, as RouterBench stores its prompts and
//! responses: `['a', "b\n"]`. Handles single, double and triple quotes, adjacent-literal
//! concatenation, the escapes `\n \t \r \\ \' \" \0 \a \b \f \v \xNN \uNNNN \UNNNNNNNN`, octal
//! escapes, backslash-newline continuations, and `r`/`u`/`b` prefixes (bytes are read as
//! Latin-1). Anything else is a clear error with its character offset.

/// Why a literal could not be parsed, with the character offset where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyLitError {
    /// 0-based character offset into the literal.
    pub at: usize,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for PyLitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "not a Python list of strings: {} at character {}",
            self.reason, self.at
        )
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

/// Parse `[ 'a', "b", ... ]` (an optional trailing comma is allowed) into its strings.
pub fn parse_str_list(text: &str) -> Result<Vec<String>, PyLitError> {
    let mut p = Parser {
        chars: text.chars().collect(),
        pos: 0,
    };
    p.skip_ws();
    p.expect('[')?;
    let mut out = Vec::new();
    loop {
        p.skip_ws();
        if p.eat(']') {
            break;
        }
        out.push(p.string()?);
        p.skip_ws();
        if p.eat(',') {
            continue;
        }
        p.skip_ws();
        p.expect(']')?;
        break;
    }
    p.skip_ws();
    if p.pos < p.chars.len() {
        return Err(p.err("unexpected text after the closing `]`"));
    }
    Ok(out)
}

impl Parser {
    fn err(&self, reason: impl Into<String>) -> PyLitError {
        PyLitError {
            at: self.pos,
            reason: reason.into(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), PyLitError> {
        match self.peek() {
            Some(x) if x == c => {
                self.pos += 1;
                Ok(())
            }
            Some(x) => Err(self.err(format!("expected `{c}`, found `{x}`"))),
            None => Err(self.err(format!("expected `{c}`, found the end"))),
        }
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// One string item: one or more adjacent literals, concatenated as Python does.
    fn string(&mut self) -> Result<String, PyLitError> {
        let mut s = self.literal()?;
        loop {
            let save = self.pos;
            self.skip_ws();
            if matches!(
                self.peek(),
                Some('\'' | '"' | 'r' | 'R' | 'u' | 'U' | 'b' | 'B')
            ) {
                s.push_str(&self.literal()?);
            } else {
                self.pos = save;
                return Ok(s);
            }
        }
    }

    fn literal(&mut self) -> Result<String, PyLitError> {
        let (mut raw, mut bytes) = (false, false);
        while let Some(c) = self.peek() {
            match c.to_ascii_lowercase() {
                'r' => raw = true,
                'b' => bytes = true,
                'u' => {}
                _ => break,
            }
            self.pos += 1;
        }
        let quote = match self.peek() {
            Some(q @ ('\'' | '"')) => q,
            Some(x) => return Err(self.err(format!("expected a quoted string, found `{x}`"))),
            None => return Err(self.err("expected a quoted string, found the end")),
        };
        let start = self.pos;
        let triple = self.chars[self.pos..].starts_with(&[quote, quote, quote]);
        self.pos += if triple { 3 } else { 1 };
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                self.pos = start;
                return Err(self.err("unterminated string"));
            };
            if c == quote {
                if !triple {
                    self.pos += 1;
                    return Ok(out);
                }
                if self.chars[self.pos..].starts_with(&[quote, quote, quote]) {
                    self.pos += 3;
                    return Ok(out);
                }
            }
            if c == '\n' && !triple {
                return Err(self.err("newline inside a single-quoted string"));
            }
            self.pos += 1;
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some(e) = self.peek() else {
                self.pos = start;
                return Err(self.err("unterminated string"));
            };
            self.pos += 1;
            if raw {
                out.push('\\');
                out.push(e);
                continue;
            }
            self.escape(e, bytes, &mut out)?;
        }
    }

    fn escape(&mut self, e: char, bytes: bool, out: &mut String) -> Result<(), PyLitError> {
        match e {
            '\n' => {}
            '\\' | '\'' | '"' => out.push(e),
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'v' => out.push('\x0b'),
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap();
                for _ in 0..2 {
                    match self.peek().and_then(|c| c.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            self.pos += 1;
                        }
                        None => break,
                    }
                }
                out.push(self.code_point(v)?);
            }
            'x' => {
                let v = self.hex(2)?;
                out.push(self.code_point(v)?);
            }
            'u' | 'U' if !bytes => {
                let v = self.hex(if e == 'u' { 4 } else { 8 })?;
                out.push(self.code_point(v)?);
            }
            // Python keeps unknown escapes (e.g. `\d`) as they are.
            other => {
                out.push('\\');
                out.push(other);
            }
        }
        Ok(())
    }

    fn hex(&mut self, n: usize) -> Result<u32, PyLitError> {
        let mut v = 0u32;
        for _ in 0..n {
            match self.peek().and_then(|c| c.to_digit(16)) {
                Some(d) => {
                    v = v * 16 + d;
                    self.pos += 1;
                }
                None => return Err(self.err(format!("expected {n} hex digits in an escape"))),
            }
        }
        Ok(v)
    }

    fn code_point(&self, v: u32) -> Result<char, PyLitError> {
        char::from_u32(v).ok_or_else(|| self.err(format!("escape \\u{v:x} is not a character")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quotes_and_escapes() {
        let v = parse_str_list(r#"['a\'b', "c\"d\n", 'tab\there', '\\x', '\x41\u00e9\U0001F600']"#)
            .unwrap();
        assert_eq!(v, ["a'b", "c\"d\n", "tab\there", "\\x", "Aé😀"]);
        assert_eq!(parse_str_list(" [ ] ").unwrap(), Vec::<String>::new());
        assert_eq!(parse_str_list("['x',]").unwrap(), ["x"]);
        assert_eq!(parse_str_list("['a' \"b\"]").unwrap(), ["ab"]);
        assert_eq!(parse_str_list("['''tri'ple\n''']").unwrap(), ["tri'ple\n"]);
        assert_eq!(parse_str_list(r"[r'\d+', '\d']").unwrap(), [r"\d+", r"\d"]);
        assert_eq!(parse_str_list(r"['\101\0']").unwrap(), ["A\0"]);
        assert_eq!(parse_str_list("['é ü']").unwrap(), ["é ü"]);
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "'a'",
            "['a'",
            "['a' 'b",
            "['a', 3]",
            "['a'] x",
            r"['\x4']",
            "['a\nb']",
            "[\"a\", 'b\"]",
            r"['\ud800']",
        ] {
            let e = parse_str_list(bad).unwrap_err();
            assert!(e.to_string().contains("not a Python list"), "{bad}: {e}");
        }
        assert_eq!(parse_str_list("['ok', x]").unwrap_err().at, 7);
    }
}
