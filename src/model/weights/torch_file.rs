//! `pytorch_model.bin` read in safe Rust: the zip format of `torch.save` (PyTorch ≥ 1.6) and the
//! legacy format before it (one pickle stream, the storages appended after it).
//!
//! The state-dict pickle goes through [`super::pickle`] (only the globals `torch.save(state_dict)`
//! writes). Every tensor is checked against its storage (offset, sizes and strides within the
//! storage's elements; the storage's bytes exactly its elements times the element size) before
//! libtorch sees any byte, so libtorch only builds tensors from checked bytes.
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};

use anyhow::{anyhow, bail, Context, Result};
use tch::{Kind, Tensor};

use super::pickle::{self, Object, StorageRef, TensorRef};
use crate::error::first_line;

/// The largest `data.pkl` read (a state dict's pickle is kilobytes; a base model's, about 100 KB).
const MAX_PICKLE_BYTES: u64 = 256 << 20;

/// How many times over the tensors may copy their storages' bytes (an ELECTRA pretraining checkpoint
/// ties its word embeddings three ways).
const MAX_COPIES: u64 = 4;

/// `pickle.dumps(0x1950a86a20f9469cfc6c)` payload: the legacy format's magic number.
const LEGACY_MAGIC: [u8; 10] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
/// The legacy format's protocol version.
const LEGACY_PROTOCOL: i64 = 1001;

/// Whether `head` (a file's first bytes) starts a zip archive.
pub fn is_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04")
}

/// Whether `head` starts a pickle (the legacy format).
pub fn is_legacy(head: &[u8]) -> bool {
    head.first() == Some(&0x80)
}

/// Every tensor of a zip-format checkpoint, in the state dict's order.
pub fn read_zip<R: Read + Seek>(reader: R) -> Result<Vec<(String, Tensor)>> {
    let mut archive = Archive::open(reader)?;
    let (prefix, tensors) = archive.state_dict()?;
    let mut storages = Storages::default();
    for (_, t) in &tensors {
        if storages.contains(&t.storage.key) {
            continue;
        }
        let name = format!("{prefix}data/{}", t.storage.key);
        let bytes = archive.read(&name, Some(storage_bytes(&t.storage)?))?;
        storages.insert(&t.storage, bytes)?;
    }
    build(tensors, &storages)
}

/// Names and shapes of a zip-format checkpoint's tensors (its pickle only, no tensor data).
pub fn index_zip<R: Read + Seek>(reader: R) -> Result<Vec<(String, Vec<i64>)>> {
    let (_, tensors) = Archive::open(reader)?.state_dict()?;
    Ok(tensors.into_iter().map(|(name, t)| (name, t.size)).collect())
}

/// A zip archive and its length, which bounds what any entry may claim to hold.
struct Archive<R> {
    zip: zip::ZipArchive<R>,
    len: u64,
}

impl<R: Read + Seek> Archive<R> {
    fn open(mut reader: R) -> Result<Self> {
        let len = reader.seek(SeekFrom::End(0)).context("cannot seek")?;
        let zip = zip::ZipArchive::new(reader).context("not a readable zip archive")?;
        Ok(Self { zip, len })
    }

    /// The archive's folder prefix (`archive/`) and its state dict.
    fn state_dict(&mut self) -> Result<(String, Vec<(String, TensorRef)>)> {
        let names = self
            .zip
            .file_names()
            .map(|name| name.map(|n| n.into_owned()))
            .collect::<Result<Vec<String>, _>>()
            .context("unreadable file name in the archive")?;
        let pickles: Vec<&String> = names.iter().filter(|n| n.ends_with("data.pkl")).collect();
        let [pickle_name] = pickles.as_slice() else {
            bail!("expected one data.pkl in the archive, found {}", pickles.len());
        };
        let prefix = pickle_name.trim_end_matches("data.pkl").to_string();
        let byteorder = format!("{prefix}byteorder");
        if names.contains(&byteorder) {
            let order = self.read(&byteorder, None)?;
            if order != b"little" {
                bail!(
                    "byteorder {:?}: only little-endian checkpoints are supported",
                    String::from_utf8_lossy(&order)
                );
            }
        }
        let bytes = self.read(pickle_name, None)?;
        let (object, _) = pickle::load(&bytes).with_context(|| pickle_name.to_string())?;
        Ok((prefix, state_dict(object)?))
    }

    /// The bytes of entry `name`: exactly `expected` bytes (a storage), else at most
    /// [`MAX_PICKLE_BYTES`]. torch.save stores entries uncompressed, so an entry holds as many
    /// bytes as it stores, and no more than the archive.
    fn read(&mut self, name: &str, expected: Option<u64>) -> Result<Vec<u8>> {
        let mut entry = self
            .zip
            .by_name(name)
            .with_context(|| format!("archive entry {name} is missing or unreadable"))?;
        let size = entry.size();
        if size != entry.compressed_size() || size > self.len {
            bail!(
                "archive entry {name} claims {size} bytes in {} stored bytes of a {}-byte archive",
                entry.compressed_size(),
                self.len
            );
        }
        match expected {
            Some(expected) if size != expected => {
                bail!("archive entry {name} holds {size} bytes, but its tensors need {expected}")
            }
            None if size > MAX_PICKLE_BYTES => {
                bail!("archive entry {name} is {size} bytes; more than {MAX_PICKLE_BYTES} is refused")
            }
            _ => {}
        }
        let mut bytes = Vec::new();
        bytes
            .try_reserve_exact(size as usize)
            .map_err(|_| anyhow!("cannot allocate {size} bytes for archive entry {name}"))?;
        (&mut entry)
            .take(size)
            .read_to_end(&mut bytes)
            .with_context(|| format!("cannot read archive entry {name}"))?;
        if bytes.len() as u64 != size {
            bail!("archive entry {name} is truncated: {} of {size} bytes", bytes.len());
        }
        Ok(bytes)
    }
}

/// Every tensor of a legacy-format checkpoint (the whole file in `bytes`), in the state dict's order.
pub fn read_legacy(bytes: &[u8]) -> Result<Vec<(String, Tensor)>> {
    let Legacy {
        tensors,
        keys,
        data_start: mut at,
    } = legacy_pickles(bytes)?;
    let kinds: HashMap<&str, &StorageRef> = tensors
        .iter()
        .map(|(_, t)| (t.storage.key.as_str(), &t.storage))
        .collect();
    let mut storages = Storages::default();
    for key in &keys {
        let Some(storage) = kinds.get(key.as_str()) else {
            bail!("storage {key:?} is listed but no tensor uses it");
        };
        let count = bytes
            .get(at..at + 8)
            .ok_or_else(|| anyhow!("truncated before the size of storage {key:?}"))?;
        let count = u64::from_le_bytes(count.try_into().map_err(|_| anyhow!("short size"))?);
        if count != storage.numel {
            bail!(
                "storage {key:?} holds {count} elements, its tensors say {}",
                storage.numel
            );
        }
        let len = usize::try_from(storage_bytes(storage)?).map_err(|_| anyhow!("storage {key:?} too large"))?;
        let data = bytes
            .get(at + 8..)
            .and_then(|rest| rest.get(..len))
            .ok_or_else(|| anyhow!("truncated inside storage {key:?}"))?;
        storages.insert(storage, data.to_vec())?;
        at += 8 + len;
    }
    build(tensors, &storages)
}

/// Names and shapes of a legacy-format checkpoint's tensors (its pickles only).
pub fn index_legacy(bytes: &[u8]) -> Result<Vec<(String, Vec<i64>)>> {
    let tensors = legacy_pickles(bytes)?.tensors;
    Ok(tensors.into_iter().map(|(name, t)| (name, t.size)).collect())
}

/// What the pickles of a legacy-format file say.
struct Legacy {
    tensors: Vec<(String, TensorRef)>,
    /// The storage keys, in the order their records follow the pickles.
    keys: Vec<String>,
    /// Where the first storage record starts.
    data_start: usize,
}

/// The legacy format's five pickles: the magic number, the protocol version, the system info, the
/// state dict and the storage keys.
fn legacy_pickles(bytes: &[u8]) -> Result<Legacy> {
    let mut at = 0;
    let mut next = |what: &str| -> Result<Object> {
        let (object, used) = pickle::load(bytes.get(at..).unwrap_or_default()).with_context(|| what.to_string())?;
        at += used;
        Ok(object)
    };
    if next("magic number")? != Object::BigInt(LEGACY_MAGIC.to_vec()) {
        bail!("not a PyTorch checkpoint (no torch.save magic number)");
    }
    if next("protocol version")? != Object::Int(LEGACY_PROTOCOL) {
        bail!("unknown legacy protocol version (expected {LEGACY_PROTOCOL})");
    }
    if let Object::Dict(info) = next("system info")? {
        let little = info.iter().find(|(k, _)| *k == Object::Str("little_endian".into()));
        if matches!(little, Some((_, Object::Bool(false)))) {
            bail!("only little-endian checkpoints are supported");
        }
    }
    let tensors = state_dict(next("state dict")?)?;
    let Object::List(keys) = next("storage keys")? else {
        bail!("the storage keys are not a list");
    };
    let keys = keys
        .into_iter()
        .map(|k| match k {
            Object::Str(s) => Ok(s),
            other => bail!("a storage key that is not a string: {other:?}"),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Legacy {
        tensors,
        keys,
        data_start: at,
    })
}

/// The `(name, tensor)` pairs of an unpickled state dict, each checked against its storage's
/// declared size (so that even the index of a hostile file is consistent).
fn state_dict(object: Object) -> Result<Vec<(String, TensorRef)>> {
    let Object::Dict(items) = object else {
        bail!("the pickle holds no state dict (a dict of tensors) at the top level");
    };
    let mut seen = std::collections::HashSet::new();
    let mut storages: HashMap<String, StorageRef> = HashMap::new();
    let mut tensors = Vec::with_capacity(items.len());
    for (key, value) in items {
        let (Object::Str(name), Object::Tensor(tensor)) = (key, value) else {
            bail!("the state dict holds an entry that is not a name and a tensor");
        };
        if !seen.insert(name.clone()) {
            bail!("tensor {name:?} appears twice");
        }
        let first = storages
            .entry(tensor.storage.key.clone())
            .or_insert_with(|| tensor.storage.clone());
        if (first.kind, first.numel) != (tensor.storage.kind, tensor.storage.numel) {
            bail!(
                "storage {:?} is used as {} {:?} elements and as {} {:?} elements",
                first.key,
                first.numel,
                first.kind,
                tensor.storage.numel,
                tensor.storage.kind
            );
        }
        check_bounds(&tensor).with_context(|| format!("tensor {name}"))?;
        tensors.push((name, tensor));
    }
    Ok(tensors)
}

/// Checks that `t` reads only elements of its storage (or storage view): non-negative offset,
/// sizes and strides, its last element inside, and no more elements than the storage holds.
fn check_bounds(t: &TensorRef) -> Result<()> {
    let (base, len) = match &t.storage.view {
        None => (0, t.storage.numel),
        Some((_, offset, size)) => (*offset, *size),
    };
    if base.checked_add(len).is_none_or(|end| end > t.storage.numel) {
        bail!("a storage view outside its storage");
    }
    let last = last_element(t)?;
    let numel = t.size.iter().try_fold(1u64, |n, &d| n.checked_mul(d as u64));
    if numel.is_none_or(|n| n > len) {
        bail!("size {:?} holds more elements than its storage's {len}", t.size);
    }
    if last.is_some_and(|last| last >= len) {
        bail!(
            "offset {}, size {:?} and stride {:?} reach past the {len} elements of its storage",
            t.offset,
            t.size,
            t.stride
        );
    }
    Ok(())
}

/// Bytes of a storage's elements.
fn storage_bytes(storage: &StorageRef) -> Result<u64> {
    storage
        .numel
        .checked_mul(elem_size(storage.kind)?)
        .ok_or_else(|| anyhow!("storage {:?} of {} elements is too large", storage.key, storage.numel))
}

/// Bytes per element of a storage kind.
fn elem_size(kind: Kind) -> Result<u64> {
    Ok(match kind {
        Kind::Double | Kind::Int64 => 8,
        Kind::Float | Kind::Int => 4,
        Kind::Half | Kind::BFloat16 | Kind::Int16 => 2,
        Kind::Int8 | Kind::Uint8 | Kind::Bool => 1,
        other => bail!("storage kind {other:?} is not supported"),
    })
}

/// Storages by key, as one-dimensional tensors of their elements.
#[derive(Default)]
struct Storages(HashMap<String, Tensor>);

impl Storages {
    fn contains(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// Adds a storage from exactly its bytes.
    fn insert(&mut self, storage: &StorageRef, bytes: Vec<u8>) -> Result<()> {
        let expected = storage_bytes(storage)?;
        if bytes.len() as u64 != expected {
            bail!(
                "storage {:?} holds {} bytes, expected {expected}",
                storage.key,
                bytes.len()
            );
        }
        let numel = i64::try_from(storage.numel).map_err(|_| anyhow!("storage {:?} too large", storage.key))?;
        let tensor = Tensor::f_from_data_size(&bytes, &[numel], storage.kind)
            .map_err(|e| anyhow!("storage {:?}: {}", storage.key, first_line(&e.to_string())))?;
        self.0.insert(storage.key.clone(), tensor);
        Ok(())
    }
}

/// The tensors of the state dict, each checked against its storage, then copied out of it. Their
/// bytes together may not exceed [`MAX_COPIES`] times the storages' (tied weights repeat a storage;
/// a hostile pickle could repeat one a million times).
fn build(tensors: Vec<(String, TensorRef)>, storages: &Storages) -> Result<Vec<(String, Tensor)>> {
    let stored: u64 = storages
        .0
        .values()
        .map(|s| (s.numel() * s.kind().elt_size_in_bytes()) as u64)
        .sum();
    let limit = stored.saturating_mul(MAX_COPIES).saturating_add(1 << 20);
    let mut built = 0u64;
    tensors
        .into_iter()
        .map(|(name, t)| {
            let tensor = view(&t, storages).with_context(|| format!("tensor {name}"))?;
            built += tensor.numel() as u64 * elem_size(t.storage.kind)?;
            if built > limit {
                bail!("the tensors take more than {MAX_COPIES} times the bytes of their storages: views repeated too often");
            }
            Ok((name, tensor))
        })
        .collect()
}

/// The tensor `t` describes (its bounds checked by [`check_bounds`]), copied out of its storage.
fn view(t: &TensorRef, storages: &Storages) -> Result<Tensor> {
    // state_dict() made every tensor of a storage agree on its kind and size.
    let storage = storages
        .0
        .get(&t.storage.key)
        .ok_or_else(|| anyhow!("storage {:?} was not read", t.storage.key))?;
    let base = t.storage.view.as_ref().map_or(0, |(_, offset, _)| *offset);
    let offset = t.offset + base as i64;
    storage
        .f_as_strided(t.size.as_slice(), t.stride.as_slice(), Some(offset))
        .and_then(|v| v.f_contiguous())
        .map_err(|e| anyhow!("{}", first_line(&e.to_string())))
}

/// The index of the last element `t` reads (`None` for an empty tensor), with every size, stride
/// and the offset non-negative and no overflow.
fn last_element(t: &TensorRef) -> Result<Option<u64>> {
    let offset = u64::try_from(t.offset).map_err(|_| anyhow!("negative storage offset {}", t.offset))?;
    let mut last = offset;
    for (&size, &stride) in t.size.iter().zip(&t.stride) {
        let size = u64::try_from(size).map_err(|_| anyhow!("negative size {size}"))?;
        let stride = u64::try_from(stride).map_err(|_| anyhow!("negative stride {stride}"))?;
        if size == 0 {
            return Ok(None);
        }
        let reach = (size - 1).checked_mul(stride).and_then(|r| last.checked_add(r));
        last = reach.ok_or_else(|| anyhow!("size {size} times stride {stride} overflows"))?;
    }
    Ok(Some(last))
}
