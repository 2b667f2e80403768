//! A restricted unpickler for what `torch.save(state_dict)` writes, and nothing else.
//!
//! Python's pickle is a small stack machine whose `GLOBAL` + `REDUCE` opcodes call any importable
//! function, so unpickling untrusted bytes runs arbitrary code. This reader knows the opcodes of
//! protocols 2 to 5 that carry data, and resolves exactly three kinds of globals:
//! `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2` and the typed storage classes
//! (`torch.FloatStorage`, ...). Any other global is refused by name. Persistent ids (`BINPERSID`) must
//! be torch's storage references. Nothing is executed: a "call" builds an [`Object`].
//!
//! Bounds, so hostile input cannot hang, overflow the stack or exhaust memory: every opcode consumes
//! input; lengths are checked against what is left before anything is allocated; objects nest at most
//! [`MAX_DEPTH`] deep; memo reads and writes copy at most a budget of object nodes proportional to
//! the input.
use std::collections::HashMap;

use anyhow::{anyhow, bail, Result};
use tch::Kind;

/// Deepest nesting of tuples, lists and dicts (a state dict needs 4).
pub const MAX_DEPTH: usize = 32;

/// A value of the pickled state dict.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    None,
    Bool(bool),
    Int(i64),
    /// An integer wider than 64 bits: its little-endian two's-complement bytes (`LONG1`).
    BigInt(Vec<u8>),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    Tuple(Vec<Object>),
    List(Vec<Object>),
    /// A dict or an `OrderedDict`, in insertion order.
    Dict(Vec<(Object, Object)>),
    Global(Global),
    Storage(StorageRef),
    Tensor(TensorRef),
}

/// The globals a state dict may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Global {
    OrderedDict,
    RebuildTensorV2,
    /// A typed storage class (`torch.FloatStorage`: `Kind::Float`).
    Storage(Kind),
}

/// A storage a tensor points into: `archive/data/<key>` in the zip format, a record after the
/// pickles in the legacy format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageRef {
    pub key: String,
    pub kind: Kind,
    /// Elements of the storage (of the root storage for a legacy view).
    pub numel: u64,
    /// Legacy storage views (PyTorch < 0.4): `(view key, offset, size)` within the root storage.
    pub view: Option<(String, u64, u64)>,
}

/// A tensor of the state dict: a strided view of a storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorRef {
    pub storage: StorageRef,
    pub offset: i64,
    pub size: Vec<i64>,
    pub stride: Vec<i64>,
}

/// Unpickles one object from the start of `bytes`; returns it with the number of bytes its pickle
/// took (the legacy format puts several pickles one after another).
pub fn load(bytes: &[u8]) -> Result<(Object, usize)> {
    let mut machine = Machine {
        input: bytes,
        at: 0,
        stack: Vec::new(),
        marks: Vec::new(),
        memo: HashMap::new(),
        budget: 1_000_000 + 16 * bytes.len(),
    };
    let object = machine
        .run()
        .map_err(|e| anyhow!("pickle byte {}: {e:#}", machine.at))?;
    Ok((object, machine.at))
}

/// The storage class called `name` in module `torch`, if it is one.
fn storage_kind(name: &str) -> Option<Kind> {
    Some(match name {
        "FloatStorage" => Kind::Float,
        "DoubleStorage" => Kind::Double,
        "HalfStorage" => Kind::Half,
        "BFloat16Storage" => Kind::BFloat16,
        "LongStorage" => Kind::Int64,
        "IntStorage" => Kind::Int,
        "ShortStorage" => Kind::Int16,
        "CharStorage" => Kind::Int8,
        "ByteStorage" => Kind::Uint8,
        "BoolStorage" => Kind::Bool,
        _ => return None,
    })
}

/// The allowed global `module.name`, or an error naming it.
fn resolve_global(module: &str, name: &str) -> Result<Global> {
    match (module, name) {
        ("collections", "OrderedDict") => return Ok(Global::OrderedDict),
        ("torch._utils", "_rebuild_tensor_v2") => return Ok(Global::RebuildTensorV2),
        ("torch", class) => {
            if let Some(kind) = storage_kind(class) {
                return Ok(Global::Storage(kind));
            }
        }
        _ => {}
    }
    bail!(
        "refusing to import {}.{}: a state dict needs only collections.OrderedDict, \
         torch._utils._rebuild_tensor_v2 and torch storage classes",
        printable(module),
        printable(name)
    )
}

/// At most 60 chars of `s`, control chars escaped, for error messages.
fn printable(s: &str) -> String {
    let shown: String = s.chars().take(60).collect();
    shown.escape_debug().to_string()
}

impl Object {
    fn kind_name(&self) -> &'static str {
        match self {
            Object::None => "None",
            Object::Bool(_) => "a bool",
            Object::Int(_) | Object::BigInt(_) => "an int",
            Object::Float(_) => "a float",
            Object::Str(_) => "a str",
            Object::Bytes(_) => "bytes",
            Object::Tuple(_) => "a tuple",
            Object::List(_) => "a list",
            Object::Dict(_) => "a dict",
            Object::Global(_) => "a class",
            Object::Storage(_) => "a storage",
            Object::Tensor(_) => "a tensor",
        }
    }
}

/// An object on the stack or in the memo, with its nesting depth and node count (kept up to date so
/// that neither is ever recomputed over a large object).
#[derive(Debug, Clone)]
struct Entry {
    object: Object,
    depth: usize,
    nodes: usize,
}

impl Entry {
    fn scalar(object: Object) -> Self {
        Self {
            object,
            depth: 1,
            nodes: 1,
        }
    }

    /// A container of `items`.
    fn container(items: Vec<Entry>, make: impl FnOnce(Vec<Object>) -> Object) -> Result<Self> {
        let depth = 1 + items.iter().map(|e| e.depth).max().unwrap_or(0);
        if depth > MAX_DEPTH {
            bail!("objects nested more than {MAX_DEPTH} deep");
        }
        let nodes = 1 + items.iter().map(|e| e.nodes).sum::<usize>();
        let objects = items.into_iter().map(|e| e.object).collect();
        Ok(Self {
            object: make(objects),
            depth,
            nodes,
        })
    }

    /// Adds `items` to this list or dict's depth and node count.
    fn grow(&mut self, items: &[Entry]) -> Result<()> {
        let depth = 1 + items.iter().map(|e| e.depth).max().unwrap_or(0);
        self.depth = self.depth.max(depth);
        if self.depth > MAX_DEPTH {
            bail!("objects nested more than {MAX_DEPTH} deep");
        }
        self.nodes += items.iter().map(|e| e.nodes).sum::<usize>();
        Ok(())
    }
}

/// The pickle machine: input, stack with marks, memo, and the copy budget.
struct Machine<'a> {
    input: &'a [u8],
    at: usize,
    stack: Vec<Entry>,
    /// Stack lengths at each MARK.
    marks: Vec<usize>,
    memo: HashMap<u32, Entry>,
    /// Object nodes that memo reads and writes and DUP may still copy.
    budget: usize,
}

impl Machine<'_> {
    fn run(&mut self) -> Result<Object> {
        loop {
            let op = self.take(1)?[0];
            if op == b'.' {
                if !self.marks.is_empty() {
                    bail!("STOP inside a MARK");
                }
                return Ok(self.pop()?.object);
            }
            self.step(op)?;
        }
    }

    fn step(&mut self, op: u8) -> Result<()> {
        match op {
            0x80 => drop(self.take(1)?),               // PROTO
            0x95 => drop(self.take(8)?),               // FRAME
            b'(' => self.marks.push(self.stack.len()), // MARK
            b'0' => drop(self.pop()?),                 // POP
            b'1' => drop(self.pop_mark()?),            // POP_MARK
            b'2' => {
                let top = self
                    .stack
                    .last()
                    .ok_or_else(|| anyhow!("DUP on an empty stack"))?
                    .clone();
                let copy = self.copy(&top)?;
                self.stack.push(copy);
            }
            b'N' => self.scalar(Object::None),
            0x88 => self.scalar(Object::Bool(true)),
            0x89 => self.scalar(Object::Bool(false)),
            b'K' => {
                let v = self.take(1)?[0];
                self.scalar(Object::Int(i64::from(v)));
            }
            b'M' => {
                let v = self.take_array()?;
                self.scalar(Object::Int(i64::from(u16::from_le_bytes(v))));
            }
            b'J' => {
                let v = self.take_array()?;
                self.scalar(Object::Int(i64::from(i32::from_le_bytes(v))));
            }
            0x8a => self.long1()?,
            b'G' => {
                let v = self.take_array()?;
                self.scalar(Object::Float(f64::from_be_bytes(v)));
            }
            b'X' => self.unicode(4)?,
            0x8c => self.unicode(1)?,
            0x8d => self.unicode(8)?,
            b'T' => self.byte_string(4, true)?,
            b'U' => self.byte_string(1, true)?,
            b'B' => self.byte_string(4, false)?,
            b'C' => self.byte_string(1, false)?,
            0x8e => self.byte_string(8, false)?,
            b')' => self.scalar(Object::Tuple(Vec::new())),
            b't' => {
                let items = self.pop_mark()?;
                self.stack.push(Entry::container(items, Object::Tuple)?);
            }
            0x85..=0x87 => {
                let items = self.pop_n(usize::from(op - 0x84))?;
                self.stack.push(Entry::container(items, Object::Tuple)?);
            }
            b']' => self.scalar(Object::List(Vec::new())),
            b'l' => {
                let items = self.pop_mark()?;
                self.stack.push(Entry::container(items, Object::List)?);
            }
            b'a' => {
                let item = self.pop()?;
                self.extend_list(vec![item])?;
            }
            b'e' => {
                let items = self.pop_mark()?;
                self.extend_list(items)?;
            }
            b'}' => self.scalar(Object::Dict(Vec::new())),
            b'd' => {
                let items = self.pop_mark()?;
                let mut dict = Entry::scalar(Object::Dict(Vec::new()));
                add_items(&mut dict, items)?;
                self.stack.push(dict);
            }
            b's' => {
                let pair = self.pop_n(2)?;
                self.set_items(pair)?;
            }
            b'u' => {
                let items = self.pop_mark()?;
                self.set_items(items)?;
            }
            b'c' => {
                let module = self.line()?;
                let name = self.line()?;
                let global = resolve_global(&module, &name)?;
                self.scalar(Object::Global(global));
            }
            0x93 => {
                let name = self.pop()?.object;
                let module = self.pop()?.object;
                let (Object::Str(module), Object::Str(name)) = (module, name) else {
                    bail!("STACK_GLOBAL needs two strings");
                };
                let global = resolve_global(&module, &name)?;
                self.scalar(Object::Global(global));
            }
            b'R' => {
                let args = self.pop()?.object;
                let callable = self.pop()?.object;
                self.scalar(reduce(callable, args)?);
            }
            b'b' => {
                let _state = self.pop()?;
                match self.stack.last() {
                    // An OrderedDict's `__dict__` (torch's `_metadata`): versions, not tensors.
                    Some(Entry {
                        object: Object::Dict(_),
                        ..
                    }) => {}
                    Some(other) => bail!("BUILD on {}", other.object.kind_name()),
                    None => bail!("BUILD on an empty stack"),
                }
            }
            b'Q' => {
                let pid = self.pop()?.object;
                self.scalar(Object::Storage(storage_ref(pid)?));
            }
            b'q' => {
                let id = u32::from(self.take(1)?[0]);
                self.put(id)?;
            }
            b'r' => {
                let v = self.take_array()?;
                self.put(u32::from_le_bytes(v))?;
            }
            0x94 => {
                let id = u32::try_from(self.memo.len()).map_err(|_| anyhow!("memo too large"))?;
                self.put(id)?;
            }
            b'h' => {
                let id = u32::from(self.take(1)?[0]);
                self.get(id)?;
            }
            b'j' => {
                let v = self.take_array()?;
                self.get(u32::from_le_bytes(v))?;
            }
            other => bail!("opcode 0x{other:02x} is not one torch.save writes for a state dict"),
        }
        Ok(())
    }

    fn scalar(&mut self, object: Object) {
        self.stack.push(Entry::scalar(object));
    }

    fn take(&mut self, n: usize) -> Result<&[u8]> {
        let end = self.at.checked_add(n).filter(|&end| end <= self.input.len());
        let Some(end) = end else {
            bail!("truncated: {n} more bytes needed, {} left", self.input.len() - self.at);
        };
        let bytes = &self.input[self.at..end];
        self.at = end;
        Ok(bytes)
    }

    fn take_array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut array = [0u8; N];
        array.copy_from_slice(self.take(N)?);
        Ok(array)
    }

    /// A length prefix of `width` bytes (little-endian), checked against the input left.
    fn length(&mut self, width: usize) -> Result<usize> {
        let bytes = self.take(width)?;
        let mut le = [0u8; 8];
        le[..width].copy_from_slice(bytes);
        let n = u64::from_le_bytes(le);
        let left = (self.input.len() - self.at) as u64;
        if n > left {
            bail!("a length of {n} bytes, but only {left} are left");
        }
        Ok(n as usize)
    }

    /// A newline-terminated ASCII line (GLOBAL's module and name).
    fn line(&mut self) -> Result<String> {
        let rest = &self.input[self.at..];
        let Some(end) = rest.iter().take(256).position(|&b| b == b'\n') else {
            bail!("GLOBAL name without a newline in its first 256 bytes");
        };
        let text = String::from_utf8_lossy(&rest[..end]).into_owned();
        self.at += end + 1;
        Ok(text)
    }

    fn long1(&mut self) -> Result<()> {
        let n = usize::from(self.take(1)?[0]);
        let bytes = self.take(n)?.to_vec();
        let object = if n <= 8 {
            let fill = if bytes.last().is_some_and(|b| b & 0x80 != 0) {
                0xff
            } else {
                0
            };
            let mut le = [fill; 8];
            le[..n].copy_from_slice(&bytes);
            Object::Int(i64::from_le_bytes(le))
        } else {
            Object::BigInt(bytes)
        };
        self.scalar(object);
        Ok(())
    }

    fn unicode(&mut self, width: usize) -> Result<()> {
        let n = self.length(width)?;
        let text = std::str::from_utf8(self.take(n)?).map_err(|_| anyhow!("a string that is not UTF-8"))?;
        let object = Object::Str(text.to_string());
        self.scalar(object);
        Ok(())
    }

    /// Python 2 strings (`latin1`: read as Latin-1 text) and bytes.
    fn byte_string(&mut self, width: usize, latin1: bool) -> Result<()> {
        let n = self.length(width)?;
        let bytes = self.take(n)?;
        let object = match latin1 {
            true => Object::Str(bytes.iter().map(|&b| char::from(b)).collect()),
            false => Object::Bytes(bytes.to_vec()),
        };
        self.scalar(object);
        Ok(())
    }

    fn pop(&mut self) -> Result<Entry> {
        if self.marks.last().is_some_and(|&m| m >= self.stack.len()) {
            bail!("pop across a MARK");
        }
        self.stack.pop().ok_or_else(|| anyhow!("pop from an empty stack"))
    }

    fn pop_n(&mut self, n: usize) -> Result<Vec<Entry>> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() < floor + n {
            bail!("{n} items needed on the stack");
        }
        Ok(self.stack.split_off(self.stack.len() - n))
    }

    fn pop_mark(&mut self) -> Result<Vec<Entry>> {
        let mark = self.marks.pop().ok_or_else(|| anyhow!("no MARK to pop to"))?;
        Ok(self.stack.split_off(mark.min(self.stack.len())))
    }

    /// A copy of `entry`, charged to the copy budget.
    fn copy(&mut self, entry: &Entry) -> Result<Entry> {
        self.budget = self
            .budget
            .checked_sub(entry.nodes)
            .ok_or_else(|| anyhow!("memo copies exceed the budget for an input of this size"))?;
        Ok(entry.clone())
    }

    fn put(&mut self, id: u32) -> Result<()> {
        let top = self
            .stack
            .last()
            .ok_or_else(|| anyhow!("PUT on an empty stack"))?
            .clone();
        let copy = self.copy(&top)?;
        self.memo.insert(id, copy);
        Ok(())
    }

    fn get(&mut self, id: u32) -> Result<()> {
        let entry = self
            .memo
            .get(&id)
            .ok_or_else(|| anyhow!("GET of memo {id}, which was never put"))?
            .clone();
        let copy = self.copy(&entry)?;
        self.stack.push(copy);
        Ok(())
    }

    fn extend_list(&mut self, items: Vec<Entry>) -> Result<()> {
        let Some(list) = self.stack.last_mut() else {
            bail!("APPEND on an empty stack");
        };
        list.grow(&items)?;
        let Object::List(objects) = &mut list.object else {
            bail!("APPEND to {}, not a list", list.object.kind_name());
        };
        objects.extend(items.into_iter().map(|e| e.object));
        Ok(())
    }

    fn set_items(&mut self, items: Vec<Entry>) -> Result<()> {
        let Some(dict) = self.stack.last_mut() else {
            bail!("SETITEM on an empty stack");
        };
        add_items(dict, items)
    }
}

/// Adds alternating keys and values to a dict entry (a repeated key stays repeated: a state dict
/// never has one, and reading it refuses it).
fn add_items(dict: &mut Entry, items: Vec<Entry>) -> Result<()> {
    if !items.len().is_multiple_of(2) {
        bail!("a dict with a key but no value");
    }
    dict.grow(&items)?;
    let Object::Dict(pairs) = &mut dict.object else {
        bail!("SETITEM on {}, not a dict", dict.object.kind_name());
    };
    let mut it = items.into_iter().map(|e| e.object);
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        pairs.push((k, v));
    }
    Ok(())
}

/// What calling an allowed global with `args` builds.
fn reduce(callable: Object, args: Object) -> Result<Object> {
    let Object::Tuple(args) = args else {
        bail!("REDUCE arguments are {}, not a tuple", args.kind_name());
    };
    match callable {
        Object::Global(Global::OrderedDict) if args.is_empty() => Ok(Object::Dict(Vec::new())),
        Object::Global(Global::RebuildTensorV2) => rebuild_tensor(args),
        Object::Global(global) => bail!("cannot call {global:?} with {} argument(s)", args.len()),
        other => bail!("REDUCE on {}, not a class", other.kind_name()),
    }
}

/// `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`.
fn rebuild_tensor(args: Vec<Object>) -> Result<Object> {
    if !(6..=7).contains(&args.len()) {
        bail!("_rebuild_tensor_v2 takes 6 or 7 arguments, got {}", args.len());
    }
    let mut args = args.into_iter();
    let mut next = || args.next().unwrap_or(Object::None);
    let Object::Storage(storage) = next() else {
        bail!("_rebuild_tensor_v2: the first argument is not a storage");
    };
    let Object::Int(offset) = next() else {
        bail!("_rebuild_tensor_v2: the storage offset is not an int");
    };
    let size = ints(next(), "size")?;
    let stride = ints(next(), "stride")?;
    if size.len() != stride.len() {
        bail!("_rebuild_tensor_v2: {} sizes but {} strides", size.len(), stride.len());
    }
    Ok(Object::Tensor(TensorRef {
        storage,
        offset,
        size,
        stride,
    }))
}

/// A tuple of ints (a tensor's size or stride).
fn ints(object: Object, what: &str) -> Result<Vec<i64>> {
    let Object::Tuple(items) = object else {
        bail!("_rebuild_tensor_v2: the {what} is not a tuple");
    };
    items
        .into_iter()
        .map(|item| match item {
            Object::Int(i) => Ok(i),
            other => bail!("_rebuild_tensor_v2: the {what} holds {}", other.kind_name()),
        })
        .collect()
}

/// torch's persistent id of a storage: `("storage", storage_class, key, location, numel)`, and in
/// the legacy format a sixth item, `None` or a view `(view_key, offset, size)`.
fn storage_ref(pid: Object) -> Result<StorageRef> {
    let Object::Tuple(items) = pid else {
        bail!("a persistent id that is {}, not a storage tuple", pid.kind_name());
    };
    let (tag, class, key, _location, numel) = match items.as_slice() {
        [t, c, k, l, n] | [t, c, k, l, n, _] => (t, c, k, l, n),
        _ => bail!("a persistent id of {} items, not a storage", items.len()),
    };
    let (Object::Str(tag), Object::Global(Global::Storage(kind)), Object::Str(key), Object::Int(numel)) =
        (tag, class, key, numel)
    else {
        bail!("a persistent id that is not (\"storage\", storage class, key, location, size)");
    };
    if tag != "storage" {
        bail!("a persistent id of type {:?}, not \"storage\"", printable(tag));
    }
    let numel = u64::try_from(*numel).map_err(|_| anyhow!("storage {key:?} has a negative size"))?;
    let view = match items.get(5) {
        None | Some(Object::None) => None,
        Some(Object::Tuple(v)) => match v.as_slice() {
            [Object::Str(view_key), Object::Int(offset), Object::Int(size)] => {
                let offset = u64::try_from(*offset).map_err(|_| anyhow!("storage view with a negative offset"))?;
                let size = u64::try_from(*size).map_err(|_| anyhow!("storage view with a negative size"))?;
                Some((view_key.clone(), offset, size))
            }
            _ => bail!("a storage view that is not (key, offset, size)"),
        },
        Some(other) => bail!("a storage view that is {}", other.kind_name()),
    };
    Ok(StorageRef {
        key: key.clone(),
        kind: *kind,
        numel,
        view,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_other_globals_by_name() {
        let err = load(b"\x80\x02cposix\nsystem\nX\x02\x00\x00\x00lsR.").unwrap_err();
        assert!(
            format!("{err:#}").contains("refusing to import posix.system"),
            "{err:#}"
        );
        let err = load(b"\x80\x04\x8c\x08builtins\x8c\x04eval\x93.").unwrap_err();
        assert!(format!("{err:#}").contains("builtins.eval"), "{err:#}");
    }

    #[test]
    fn deep_nesting_and_huge_lengths_are_refused() {
        let mut deep = b"\x80\x02".to_vec();
        deep.extend(std::iter::repeat_n(b'(', 100));
        deep.extend(std::iter::repeat_n(b't', 100));
        deep.push(b'.');
        assert!(format!("{:#}", load(&deep).unwrap_err()).contains("nested"));
        let err = load(b"\x80\x02X\xff\xff\xff\x7f.").unwrap_err();
        assert!(format!("{err:#}").contains("only 1 are left"), "{err:#}");
    }

    #[test]
    fn memo_copies_are_bounded() {
        // A list doubled by GETs: without the budget, 2^40 nodes.
        let mut bomb = b"\x80\x02]q\x00".to_vec();
        for _ in 0..40 {
            bomb.extend(b"h\x00h\x00\x86q\x00");
        }
        bomb.push(b'.');
        assert!(load(&bomb).is_err());
    }

    #[test]
    fn reads_ints_strings_and_dicts() {
        let (obj, used) = load(b"\x80\x02}(X\x01\x00\x00\x00aK\x05X\x01\x00\x00\x00b\x8a\x01\xffu.rest").unwrap();
        assert_eq!(used, 23);
        assert_eq!(
            obj,
            Object::Dict(vec![
                (Object::Str("a".into()), Object::Int(5)),
                (Object::Str("b".into()), Object::Int(-1)),
            ])
        );
    }
}
