//! Physical line numbers of CSV records.
//!
//! The `csv` crate gives each record the position where the previous record's bytes ended and
//! counts a line for every `\n` consumed by then. After a CRLF record the `\n` is still unread,
//! and blank lines before a record are not read yet either, so its line number would be one (or
//! more) too low. [`LineCounting`] wraps the input and remembers the runs of `\r`/`\n` bytes it
//! passes on; [`LineIndex::line_at`] skips the run a record's position falls in and returns the
//! line of the record's first byte, whatever the line endings and however many lines its quoted
//! fields span.
use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::Read;
use std::rc::Rc;

/// A maximal run of `\r` and `\n` bytes: `[start, end)` and the `\n` count before `end`.
#[derive(Debug, Clone, Copy)]
struct Run {
    start: u64,
    end: u64,
    newlines_before_end: u64,
}

/// Runs of line-break bytes not yet passed by the records read so far.
#[derive(Debug, Default)]
pub(crate) struct LineIndex {
    runs: VecDeque<Run>,
    open: Option<(u64, u64)>,
    offset: u64,
    newlines: u64,
}

impl LineIndex {
    fn scan(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if b == b'\n' || b == b'\r' {
                if self.open.is_none() {
                    self.open = Some((self.offset, 0));
                }
                self.newlines += u64::from(b == b'\n');
            } else {
                self.close();
            }
            self.offset += 1;
        }
    }

    fn close(&mut self) {
        if let Some((start, _)) = self.open.take() {
            self.runs.push_back(Run {
                start,
                end: self.offset,
                newlines_before_end: self.newlines,
            });
        }
    }

    /// The 1-based line of the first byte of the record at `pos`; positions must come in order.
    pub fn line_at(&mut self, pos: &csv::Position) -> usize {
        let byte = pos.byte();
        while self.runs.front().is_some_and(|r| r.end <= byte) {
            self.runs.pop_front();
        }
        match self.runs.front() {
            Some(r) if r.start <= byte => (r.newlines_before_end + 1) as usize,
            // Not before a line break: the `csv` crate's count is right.
            _ => pos.line() as usize,
        }
    }
}

/// A reader that feeds every byte it passes on to a shared [`LineIndex`].
pub(crate) struct LineCounting<R> {
    inner: R,
    index: Rc<RefCell<LineIndex>>,
}

impl<R: Read> LineCounting<R> {
    pub fn new(inner: R) -> (Self, Rc<RefCell<LineIndex>>) {
        let index = Rc::new(RefCell::new(LineIndex::default()));
        let reader = LineCounting {
            inner,
            index: index.clone(),
        };
        (reader, index)
    }
}

impl<R: Read> Read for LineCounting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut index = self.index.borrow_mut();
        if n == 0 {
            index.close();
        } else {
            index.scan(&buf[..n]);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line of each record of `text`, as the importers number them.
    fn lines(text: &str) -> Vec<usize> {
        let (input, index) = LineCounting::new(text.as_bytes());
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(input);
        let mut rec = csv::StringRecord::new();
        let mut out = Vec::new();
        while reader.read_record(&mut rec).unwrap() {
            out.push(index.borrow_mut().line_at(rec.position().unwrap()));
        }
        out
    }

    #[test]
    fn lf_crlf_blank_lines_and_quoted_newlines() {
        assert_eq!(lines("a\nb\nc\n"), [1, 2, 3]);
        assert_eq!(lines("a\r\nb\r\nc\r\n"), [1, 2, 3]);
        assert_eq!(lines("a\r\nb\r\nc"), [1, 2, 3]);
        assert_eq!(lines("a\n\n\nb\n"), [1, 4]);
        assert_eq!(lines("a\r\n\r\n\r\nb\r\n"), [1, 4]);
        assert_eq!(lines("\"x\r\ny\r\nz\",1\r\nb,2\r\n\"p\nq\",3\n"), [1, 4, 5]);
        assert_eq!(lines("a\rb\rc"), [1, 1, 1], "bare CR is not a line break");
    }
}
