//! `model.safetensors` through the `safetensors` crate: its header alone (names and shapes, to check
//! a config against the weights before building anything) or every tensor.
use std::io::Read;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use safetensors::tensor::{Dtype, Metadata, SafeTensors};
use tch::{Kind, Tensor};

use crate::error::escape_controls;

/// The largest header read (the crate's own limit).
const MAX_HEADER_BYTES: u64 = 100_000_000;

/// Whether `head` (a file's first 9 bytes) starts a safetensors file: a little-endian u64 header
/// length, then the JSON header's `{`.
pub fn is_safetensors(head: &[u8]) -> bool {
    head.len() == 9 && head[8] == b'{'
}

/// Names and shapes of the tensors of a safetensors file, from its header only.
pub fn index(path: &Path) -> Result<Vec<(String, Vec<i64>)>> {
    let mut file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let file_len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut len = [0u8; 8];
    file.read_exact(&mut len).context("shorter than a safetensors header")?;
    let n = header_len(&len, file_len)?;
    let mut header = len.to_vec();
    header.resize(8 + n as usize, 0);
    file.read_exact(&mut header[8..])
        .context("truncated safetensors header")?;
    index_header(&header, file_len)
}

/// The header length a file's first 8 bytes give, checked against the file's length.
fn header_len(first: &[u8; 8], file_len: u64) -> Result<u64> {
    let n = u64::from_le_bytes(*first);
    if n > MAX_HEADER_BYTES || n.saturating_add(8) > file_len {
        bail!("header length {n} does not fit a {file_len}-byte file (or exceeds {MAX_HEADER_BYTES})");
    }
    Ok(n)
}

/// Names and shapes from a safetensors header (`header`: the length and the JSON) of a file of
/// `file_len` bytes; the tensors' data must end exactly at the end of the file.
pub fn index_header(header: &[u8], file_len: u64) -> Result<Vec<(String, Vec<i64>)>> {
    let first: &[u8; 8] = header
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| anyhow!("shorter than a safetensors header"))?;
    let n = header_len(first, file_len)?;
    let json = header
        .get(8..8 + n as usize)
        .ok_or_else(|| anyhow!("truncated safetensors header"))?;
    let metadata: Metadata = serde_json::from_slice(json)
        .map_err(|e| anyhow!("invalid safetensors header ({})", escape_controls(&e.to_string())))?;
    let mut tensors: Vec<(String, Vec<i64>)> = Vec::new();
    let mut data_end = 0u64;
    for (name, info) in metadata.tensors() {
        let shape = info
            .shape
            .iter()
            .map(|&d| i64::try_from(d))
            .collect::<Result<Vec<_>, _>>();
        let shape = shape.map_err(|_| anyhow!("tensor {name}: a dimension too large"))?;
        data_end = data_end.max(info.data_offsets.1 as u64);
        tensors.push((name, shape));
    }
    if data_end.saturating_add(8 + n) != file_len {
        bail!(
            "the header puts tensor data up to byte {}, but the file has {file_len} bytes (truncated?)",
            data_end.saturating_add(8 + n)
        );
    }
    Ok(tensors)
}

/// Every tensor of a safetensors file's bytes.
pub fn read(bytes: &[u8]) -> Result<Vec<(String, Tensor)>> {
    let file = SafeTensors::deserialize(bytes)
        .map_err(|e| anyhow!("invalid safetensors file ({})", escape_controls(&e.to_string())))?;
    let mut tensors = Vec::new();
    for (name, view) in file.tensors() {
        let kind = kind_of(view.dtype()).with_context(|| format!("tensor {name}"))?;
        let shape = view
            .shape()
            .iter()
            .map(|&d| i64::try_from(d))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| anyhow!("tensor {name}: a dimension too large"))?;
        let tensor = Tensor::f_from_data_size(view.data(), &shape, kind)
            .map_err(|e| anyhow!("tensor {name}: {}", crate::error::first_line(&e.to_string())))?;
        tensors.push((name, tensor));
    }
    Ok(tensors)
}

fn kind_of(dtype: Dtype) -> Result<Kind> {
    Ok(match dtype {
        Dtype::F32 => Kind::Float,
        Dtype::F64 => Kind::Double,
        Dtype::F16 => Kind::Half,
        Dtype::BF16 => Kind::BFloat16,
        Dtype::I64 => Kind::Int64,
        Dtype::I32 => Kind::Int,
        Dtype::I16 => Kind::Int16,
        Dtype::I8 => Kind::Int8,
        Dtype::U8 => Kind::Uint8,
        Dtype::BOOL => Kind::Bool,
        other => bail!("dtype {other:?} is not supported"),
    })
}
