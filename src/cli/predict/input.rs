//! `predict`'s input lines and standard output.
use super::Format;
use crate::limits;
use anyhow::{anyhow, bail, Context, Result};
use serde_json::{Map, Value};
use std::io::{BufRead, BufReader, IsTerminal, Read};

/// Input lines with their 1-based numbers.
pub struct Lines {
    /// The file as given, or `<stdin>`.
    pub name: String,
    reader: Box<dyn BufRead>,
    pub number: usize,
    peeked: Option<(usize, String)>,
    /// Standard input from a terminal (someone typing).
    pub interactive: bool,
}

impl Lines {
    pub fn open(input: &str) -> Result<Self> {
        let (name, reader): (String, Box<dyn BufRead>) = if input == "-" {
            ("<stdin>".into(), Box::new(BufReader::new(std::io::stdin())))
        } else {
            let file = std::fs::File::open(input).map_err(|e| anyhow!("{input}: cannot open input: {e}"))?;
            (input.into(), Box::new(BufReader::new(file)))
        };
        let mut lines = Self::from_reader(name, reader);
        lines.interactive = input == "-" && std::io::stdin().is_terminal();
        Ok(lines)
    }

    fn from_reader(name: String, reader: Box<dyn BufRead>) -> Self {
        Self {
            name,
            reader,
            number: 0,
            peeked: None,
            interactive: false,
        }
    }

    /// The next line without its terminator (`\n` or `\r\n`; a leading BOM is dropped).
    pub fn next_line(&mut self) -> Result<Option<(usize, String)>> {
        if let Some(line) = self.peeked.take() {
            return Ok(Some(line));
        }
        let mut buf = Vec::new();
        // Capped, so a file without line breaks (or `/dev/zero`) is refused instead of filling memory.
        let read = (&mut self.reader)
            .take(limits::INPUT_LINE_BYTES + 1)
            .read_until(b'\n', &mut buf)
            .with_context(|| format!("{}: cannot read input", self.name))?;
        if read == 0 {
            return Ok(None);
        }
        self.number += 1;
        if read as u64 > limits::INPUT_LINE_BYTES {
            bail!(
                "{}:{}: line longer than {} bytes; expected one example per line",
                self.name,
                self.number,
                limits::INPUT_LINE_BYTES
            );
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
        }
        if self.number == 1 && buf.starts_with(b"\xef\xbb\xbf") {
            buf.drain(..3);
        }
        let text = String::from_utf8(buf).map_err(|e| {
            let column = e.utf8_error().valid_up_to() + 1;
            anyhow!(
                "{}:{}: invalid UTF-8 at byte column {column}; the input must be UTF-8",
                self.name,
                self.number
            )
        })?;
        Ok(Some((self.number, text)))
    }

    /// Up to `n` lines (fewer only at the end).
    pub fn chunk(&mut self, n: usize) -> Result<Vec<(usize, String)>> {
        let mut lines = Vec::with_capacity(n.min(4096));
        while lines.len() < n {
            match self.next_line()? {
                Some(line) => lines.push(line),
                None => break,
            }
        }
        Ok(lines)
    }

    /// Whether the first line starts with `{` (a SQuAD JSON file); the line stays to be read.
    pub fn starts_with_brace(&mut self) -> Result<bool> {
        let first = self.next_line()?;
        let brace = first
            .as_ref()
            .is_some_and(|(_, text)| text.trim_start().starts_with('{'));
        self.peeked = first;
        Ok(brace)
    }

    /// Everything not read yet, as bytes; refused when over `max` bytes (a stream without end, such
    /// as `{` followed by `/dev/zero`, would otherwise fill memory).
    pub fn rest(&mut self, max: u64) -> Result<Vec<u8>> {
        let mut bytes = self
            .peeked
            .take()
            .map(|(_, l)| l + "\n")
            .unwrap_or_default()
            .into_bytes();
        let left = (max + 1).saturating_sub(bytes.len() as u64);
        (&mut self.reader)
            .take(left)
            .read_to_end(&mut bytes)
            .with_context(|| format!("{}: cannot read input", self.name))?;
        if bytes.len() as u64 > max {
            bail!("{}: input larger than {max} bytes; refusing to read it", self.name);
        }
        Ok(bytes)
    }
}

/// Standard output, flushed after every chunk; a closed pipe (`| head`) ends the run quietly.
pub struct Output {
    pub format: Format,
    pub closed: bool,
}

impl Output {
    pub fn new(format: Format) -> Self {
        Self { format, closed: false }
    }

    pub fn emit(&mut self, text: &str) -> Result<()> {
        self.closed = !crate::io::stdout::write(text)?;
        Ok(())
    }
}

/// What a prediction is keyed by in the output: its input line, or its SQuAD question id.
#[derive(Clone, Copy)]
pub enum Key<'a> {
    Line(usize),
    Id(&'a str),
}

impl Key<'_> {
    /// A JSON object that starts with `"line": n` or `"id": "..."`.
    pub fn object(self) -> Map<String, Value> {
        let mut map = Map::new();
        match self {
            Key::Line(n) => map.insert("line".into(), n.into()),
            Key::Id(id) => map.insert("id".into(), id.into()),
        };
        map
    }
}

pub fn push_json(out: &mut String, map: Map<String, Value>) {
    out.push_str(&Value::Object(map).to_string());
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &'static str) -> Lines {
        Lines::from_reader("in.json".into(), Box::new(text.as_bytes()))
    }

    #[test]
    fn rest_returns_the_peeked_line_and_everything_after_it() {
        let mut input = lines("{\"data\":\n []}\n");
        assert!(input.starts_with_brace().unwrap());
        assert_eq!(input.rest(100).unwrap(), b"{\"data\":\n []}\n");
    }

    #[test]
    fn rest_refuses_input_over_its_cap() {
        let text = "{\"data\":\n []}\n";
        assert_eq!(lines(text).rest(text.len() as u64).unwrap().len(), text.len());
        let err = lines(text).rest(text.len() as u64 - 1).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "in.json: input larger than {} bytes; refusing to read it",
                text.len() - 1
            )
        );
        // The cap counts the peeked first line too.
        let mut input = lines(text);
        assert!(input.starts_with_brace().unwrap());
        assert!(input.rest(5).is_err());
    }
}
