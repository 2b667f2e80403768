//! TensorBoard event files: `<dir>/events.out.tfevents.<unix secs>.<hostname>`, scalar summaries that
//! `tensorboard --logdir` shows while the run goes on.
//!
//! The file is a sequence of TFRecords, each `u64 LE length`, `u32 LE masked crc32c(length bytes)`, the
//! data, `u32 LE masked crc32c(data)`; each record's data is one protobuf `tensorflow.Event`. The first
//! event holds `file_version: "brain.Event:2"`, every later one a `Summary` of `simple_value`s.
use anyhow::{Context, Result};
use prost::Message;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What the first event of every file says; TensorBoard reads files of this version.
const FILE_VERSION: &str = "brain.Event:2";

/// Writes one TensorBoard event file. Every event is flushed and fsync'd before the call returns,
/// so a live `tensorboard` (and a reader after a kill) sees each one whole.
#[derive(Debug)]
pub struct EventWriter {
    file: File,
    path: PathBuf,
    /// Bytes of whole records in the file: a failed write is cut back to this length.
    len: u64,
}

impl EventWriter {
    /// Creates `<dir>/events.out.tfevents.<unix secs>.<hostname>` (`dir` created if needed; a `.1`,
    /// `.2`, … suffix when a writer of the same second already has that name) and writes the
    /// `file_version: "brain.Event:2"` event first.
    pub fn create(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let base = format!("events.out.tfevents.{}.{}", unix_seconds() as u64, hostname());
        let mut suffix = 0u32;
        let (file, path) = loop {
            let name = if suffix == 0 {
                base.clone()
            } else {
                format!("{base}.{suffix}")
            };
            let path = dir.join(name);
            // Append mode: after a failed write is cut back (`set_len`), the next one lands at the end.
            match std::fs::OpenOptions::new().append(true).create_new(true).open(&path) {
                Ok(file) => break (file, path),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && suffix < 1000 => suffix += 1,
                Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
            }
        };
        let mut writer = Self { file, path, len: 0 };
        writer.write_event(&Event {
            wall_time: unix_seconds(),
            step: 0,
            what: Some(What::FileVersion(FILE_VERSION.to_string())),
        })?;
        Ok(writer)
    }

    /// Writes one event at `step` (wall time now) whose summary holds one `simple_value` per
    /// `(tag, value)`, then flushes and fsyncs it. TensorBoard stores scalars as `f32`: each value is
    /// rounded to the nearest `f32` (NaN and infinities stay as they are). An empty `values` writes
    /// nothing. When the write fails, the file is cut back to its last whole record (best effort), so
    /// later events still read.
    pub fn scalars(&mut self, step: i64, values: &[(&str, f64)]) -> Result<()> {
        if values.is_empty() {
            return Ok(());
        }
        let value = values
            .iter()
            .map(|&(tag, value)| SummaryValue {
                tag: tag.to_string(),
                simple_value: Some(value as f32),
            })
            .collect();
        self.write_event(&Event {
            wall_time: unix_seconds(),
            step,
            what: Some(What::Summary(Summary { value })),
        })
    }

    /// The event file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write_event(&mut self, event: &Event) -> Result<()> {
        let record = record(&event.encode_to_vec());
        let label = || format!("cannot write to {}", self.path.display());
        let written = self.file.write_all(&record).and_then(|()| self.file.sync_data());
        if let Err(e) = written {
            // A torn record would stop every reader there: drop it, keep what was whole.
            let _ = self.file.set_len(self.len);
            return Err(e).with_context(label);
        }
        self.len += record.len() as u64;
        Ok(())
    }
}

/// `data` framed as one TFRecord.
fn record(data: &[u8]) -> Vec<u8> {
    let len = (data.len() as u64).to_le_bytes();
    let mut out = Vec::with_capacity(data.len() + 16);
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc(&len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc(data).to_le_bytes());
    out
}

/// TFRecord's masked crc32c (Castagnoli): `((crc >> 15) | (crc << 17)) + 0xa282ead8`, wrapping.
fn masked_crc(data: &[u8]) -> u32 {
    let crc = crc32c::crc32c(data);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

fn unix_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// This host's name for the file name (characters other than `[A-Za-z0-9._-]` as `_`), or `localhost`.
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: `buf` is writable for `buf.len()` bytes; gethostname NUL-terminates within it on success
    // (the last byte stays 0 in any case, as it is not passed).
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) };
    let end = buf.iter().position(|&b| b == 0).unwrap_or(0);
    let name: String = String::from_utf8_lossy(&buf[..end])
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if rc != 0 || name.is_empty() {
        "localhost".to_string()
    } else {
        name
    }
}

// tensorflow/core/util/event.proto and tensorflow/core/framework/summary.proto, only the fields
// written here (same names and field numbers).

/// `tensorflow.Event`.
#[derive(Clone, PartialEq, prost::Message)]
struct Event {
    #[prost(double, tag = "1")]
    wall_time: f64,
    #[prost(int64, tag = "2")]
    step: i64,
    #[prost(oneof = "What", tags = "3, 5")]
    what: Option<What>,
}

/// `oneof what` of `tensorflow.Event`.
#[derive(Clone, PartialEq, prost::Oneof)]
enum What {
    #[prost(string, tag = "3")]
    FileVersion(String),
    #[prost(message, tag = "5")]
    Summary(Summary),
}

/// `tensorflow.Summary`.
#[derive(Clone, PartialEq, prost::Message)]
struct Summary {
    #[prost(message, repeated, tag = "1")]
    value: Vec<SummaryValue>,
}

/// `tensorflow.Summary.Value`. `simple_value` is a member of the `oneof value` there, so it has
/// presence: `optional` makes prost write it even when it is 0.0 (a plain proto3 float would be left
/// out, and TensorBoard would drop the scalar).
#[derive(Clone, PartialEq, prost::Message)]
struct SummaryValue {
    #[prost(string, tag = "1")]
    tag: String,
    #[prost(float, optional, tag = "2")]
    simple_value: Option<f32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits a file into its records' data, checking every length and CRC.
    fn parse_records(bytes: &[u8]) -> Vec<Vec<u8>> {
        let (mut at, mut out) = (0, vec![]);
        while at < bytes.len() {
            let len_bytes = &bytes[at..at + 8];
            let len = u64::from_le_bytes(len_bytes.try_into().unwrap()) as usize;
            let len_crc = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap());
            assert_eq!(len_crc, masked_crc(len_bytes), "length crc at {at}");
            let data = &bytes[at + 12..at + 12 + len];
            let data_crc = u32::from_le_bytes(bytes[at + 12 + len..at + 16 + len].try_into().unwrap());
            assert_eq!(data_crc, masked_crc(data), "data crc at {at}");
            out.push(data.to_vec());
            at += 16 + len;
        }
        assert_eq!(at, bytes.len(), "trailing bytes");
        out
    }

    #[test]
    fn masked_crc32c_of_known_vectors() {
        // Expected values from a pure-Python bitwise crc32c (reflected polynomial 0x82F63B78, init and
        // final xor 0xFFFFFFFF; it gives the standard check value 0xE3069283 for b"123456789") and the
        // TFRecord mask, cross-checked with tensorboard 2.21.0's
        // `tensorboard.compat.tensorflow_stub.pywrap_tensorflow.masked_crc32c`.
        assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(masked_crc(b"123456789"), 0xc78a_b0e5);
        assert_eq!(masked_crc(&0u64.to_le_bytes()), 0x0798_0329);
        assert_eq!(masked_crc(&24u64.to_le_bytes()), 0x224b_7fa3);
        assert_eq!(masked_crc(b""), 0xa282_ead8);
    }

    #[test]
    fn record_framing() {
        let framed = record(b"abc");
        assert_eq!(framed.len(), 3 + 16);
        assert_eq!(&framed[..8], &3u64.to_le_bytes());
        assert_eq!(&framed[12..15], b"abc");
        assert_eq!(parse_records(&framed), vec![b"abc".to_vec()]);
        assert_eq!(parse_records(&record(b"")), vec![Vec::<u8>::new()]);
    }

    #[test]
    fn events_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("runs/a");
        let mut writer = EventWriter::create(&sub).unwrap();
        let name = writer.path().file_name().unwrap().to_str().unwrap().to_string();
        assert!(name.starts_with("events.out.tfevents."), "{name}");
        assert_eq!(writer.path().parent().unwrap(), sub);
        writer
            .scalars(7, &[("train/loss", 0.1), ("train/learning_rate", 0.0)])
            .unwrap();
        writer.scalars(8, &[]).unwrap();
        writer.scalars(-1, &[("dev/acc", 1.5)]).unwrap();

        let records = parse_records(&std::fs::read(writer.path()).unwrap());
        let events: Vec<Event> = records.iter().map(|r| Event::decode(r.as_slice()).unwrap()).collect();
        assert_eq!(events.len(), 3, "the empty call writes nothing");
        assert_eq!(events[0].what, Some(What::FileVersion("brain.Event:2".into())));
        assert!(events[0].wall_time > 1.6e9);
        let summary = |e: &Event| match &e.what {
            Some(What::Summary(s)) => s
                .value
                .iter()
                .map(|v| (v.tag.clone(), v.simple_value))
                .collect::<Vec<_>>(),
            other => panic!("not a summary: {other:?}"),
        };
        assert_eq!(events[1].step, 7);
        let zero = Some(0.0f32); // present on the wire although 0
        assert_eq!(
            summary(&events[1]),
            [
                ("train/loss".to_string(), Some(0.1f32)),
                ("train/learning_rate".to_string(), zero)
            ]
        );
        assert_eq!(events[2].step, -1);
        assert_eq!(summary(&events[2]), [("dev/acc".to_string(), Some(1.5f32))]);
    }

    #[test]
    fn writers_of_the_same_second_get_their_own_file() {
        let dir = tempfile::tempdir().unwrap();
        let a = EventWriter::create(dir.path()).unwrap();
        let b = EventWriter::create(dir.path()).unwrap();
        assert_ne!(a.path(), b.path());
    }

    #[test]
    fn bad_dir_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain-file");
        std::fs::write(&file, b"x").unwrap();
        let bad = file.join("runs");
        let err = format!("{:#}", EventWriter::create(&bad).unwrap_err());
        assert!(err.contains(&bad.display().to_string()), "{err}");
    }
}
