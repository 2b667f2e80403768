//! Load and save Hugging Face checkpoints: `config.json` + `model.safetensors` (or
//! `pytorch_model.bin`, zip or legacy format) + tokenizer files.
pub mod pickle;
pub mod safetensors_file;
pub mod torch_file;

use super::{Family, ModelConfig};
use anyhow::{bail, Context, Result};
use safetensors::tensor::{Dtype, TensorView};
use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use tch::{nn::VarStore, Kind, Tensor};

/// What a load did besides copying: head tensors left freshly initialised, file tensors ignored.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct LoadReport {
    pub fresh: Vec<String>,
    pub unexpected: Vec<String>,
}

/// The weights file of a checkpoint directory: `model.safetensors`, else `pytorch_model.bin`.
pub fn weights_file(dir: &Path) -> Result<PathBuf> {
    for name in ["model.safetensors", "pytorch_model.bin"] {
        let path = dir.join(name);
        if path.is_file() {
            return Ok(path);
        }
    }
    if dir.join("model.safetensors.index.json").is_file() || dir.join("pytorch_model.bin.index.json").is_file() {
        bail!(
            "{}: sharded checkpoints are not supported; merge the shards into one model.safetensors",
            dir.display()
        );
    }
    bail!("{}: no model.safetensors or pytorch_model.bin found", dir.display())
}

/// The formats of a weights file, told apart by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Safetensors,
    TorchZip,
    TorchLegacy,
}

/// The format of a weights file from its first 9 bytes.
fn format_of(head: &[u8], path: &Path) -> Result<Format> {
    // safetensors: a little-endian u64 header length, then the JSON header. Check it before the
    // pickle magic: a header length whose low byte is 0x80 looks like a pickle's first byte.
    if torch_file::is_zip(head) {
        Ok(Format::TorchZip)
    } else if safetensors_file::is_safetensors(head) {
        Ok(Format::Safetensors)
    } else if torch_file::is_legacy(head) {
        Ok(Format::TorchLegacy)
    } else {
        bail!(
            "{}: neither a safetensors file nor a PyTorch checkpoint",
            path.display()
        )
    }
}

/// Reads every tensor of a weights file (`model.safetensors`, or `pytorch_model.bin` in the zip or
/// the legacy format), in safe Rust; libtorch sees only checked bytes.
pub fn read_tensors(path: &Path) -> Result<Vec<(String, Tensor)>> {
    let format = format_of(&read_head(path)?, path)?;
    let tensors = match format {
        Format::TorchZip => File::open(path)
            .map_err(anyhow::Error::from)
            .and_then(torch_file::read_zip),
        Format::Safetensors => read_file(path).and_then(|bytes| safetensors_file::read(&bytes)),
        Format::TorchLegacy => read_file(path).and_then(|bytes| torch_file::read_legacy(&bytes)),
    };
    tensors.with_context(|| format!("cannot read weights from {}", path.display()))
}

/// Names (as the model names them, see [`normalize_name`]) and shapes of a weights file's tensors,
/// read from its header or pickle only, without the tensor data.
pub fn index(path: &Path, family: &Family) -> Result<HashMap<String, Vec<i64>>> {
    let format = format_of(&read_head(path)?, path)?;
    let shapes = match format {
        Format::Safetensors => safetensors_file::index(path),
        Format::TorchZip => File::open(path)
            .map_err(anyhow::Error::from)
            .and_then(torch_file::index_zip),
        Format::TorchLegacy => read_file(path).and_then(|bytes| torch_file::index_legacy(&bytes)),
    };
    let shapes = shapes.with_context(|| format!("cannot read weights from {}", path.display()))?;
    Ok(shapes
        .into_iter()
        .map(|(name, shape)| (normalize_name(&name, family), shape))
        .collect())
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn read_head(path: &Path) -> Result<Vec<u8>> {
    let mut file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut head = Vec::with_capacity(9);
    file.by_ref()
        .take(9)
        .read_to_end(&mut head)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(head)
}

/// Maps old or bare-model names onto ours: `LayerNorm.gamma/beta` → `weight/bias`, and the
/// family's prefix (`electra.`) added to names saved from a bare encoder (`ElectraModel`).
pub fn normalize_name(name: &str, family: &Family) -> String {
    let name = name
        .strip_suffix(".gamma")
        .map(|n| format!("{n}.weight"))
        .unwrap_or_else(|| name.to_string());
    let name = name.strip_suffix(".beta").map(|n| format!("{n}.bias")).unwrap_or(name);
    if family.bare_prefixes.iter().any(|p| name.starts_with(p)) {
        format!("{}.{name}", family.prefix)
    } else {
        name
    }
}

/// One size of a config checked against a checkpoint: config key, its value, the tensor (a
/// normalized name) and the dimension of that tensor that must equal the value.
pub type ShapeCheck<'a> = (&'a str, i64, String, usize);

/// Checks config sizes against a checkpoint's tensor shapes (see [`ShapeCheck`]); a tensor the
/// checkpoint lacks is skipped (the load reports it).
pub fn check_shapes(shapes: &HashMap<String, Vec<i64>>, checks: &[ShapeCheck]) -> Result<()> {
    for (key, value, tensor, dim) in checks {
        let Some(shape) = shapes.get(tensor) else {
            continue;
        };
        match shape.get(*dim) {
            Some(found) if found == value => {}
            Some(found) => bail!("\"{key}\" is {value}, but the checkpoint has {found} ({tensor} is {shape:?})"),
            None => bail!(
                "the checkpoint's {tensor} is {shape:?}, expected {} dimensions",
                dim + 1
            ),
        }
    }
    Ok(())
}

/// Checks that a checkpoint has at least `layers` layers named `{prefix}N.` (`key` is the config key,
/// for the message). Fewer in the config is fine: HF loads the first ones and ignores the rest.
pub fn check_layer_count(shapes: &HashMap<String, Vec<i64>>, prefix: &str, key: &str, layers: i64) -> Result<()> {
    let found = shapes
        .keys()
        .filter_map(|name| name.strip_prefix(prefix)?.split('.').next()?.parse::<i64>().ok())
        .max()
        .map_or(0, |last| last + 1);
    if layers > found {
        bail!("\"{key}\" is {layers}, but the checkpoint has {found} ({prefix}N)");
    }
    Ok(())
}

/// Copies a checkpoint's tensors into `vs` (a model of `family`), casting to each variable's dtype.
/// Variables under `head_prefixes` may be missing (they keep their fresh init); any other missing
/// variable, or a shape mismatch, is an error.
pub fn load_weights(vs: &VarStore, path: &Path, family: &Family, head_prefixes: &[&str]) -> Result<LoadReport> {
    let mut file: HashMap<String, Tensor> = read_tensors(path)?
        .into_iter()
        .map(|(name, t)| (normalize_name(&name, family), t))
        .collect();
    let mut report = LoadReport::default();
    let variables = vs.variables();
    let mut names: Vec<&String> = variables.keys().collect();
    names.sort();
    let mut missing = vec![];
    for name in names {
        let var = &variables[name];
        match file.remove(name.as_str()) {
            Some(src) => copy_checked(var, &src, name, path)?,
            None if head_prefixes.iter().any(|p| name.starts_with(p)) => report.fresh.push(name.clone()),
            None => missing.push(name.clone()),
        }
    }
    if !missing.is_empty() {
        bail!(
            "{}: checkpoint lacks {} encoder tensor(s), e.g. {} (is this an {} checkpoint?)",
            path.display(),
            missing.len(),
            missing[..missing.len().min(3)].join(", "),
            family.hf_model_type.to_uppercase()
        );
    }
    report.unexpected = file.into_keys().filter(|n| !n.ends_with("position_ids")).collect();
    report.unexpected.sort();
    Ok(report)
}

fn copy_checked(var: &Tensor, src: &Tensor, name: &str, path: &Path) -> Result<()> {
    if var.size() != src.size() {
        bail!(
            "{}: tensor {name} has shape {:?} in the checkpoint but the model expects {:?}",
            path.display(),
            src.size(),
            var.size()
        );
    }
    let mut dst = var.shallow_clone();
    tch::no_grad(|| dst.f_copy_(&src.to_kind(var.kind())))
        .with_context(|| format!("cannot copy tensor {name} from {}", path.display()))
}

/// Writes `model.safetensors` (HF names, `{"format": "pt"}` metadata) atomically.
pub fn save_weights(vs: &VarStore, path: &Path) -> Result<()> {
    let mut tensors: Vec<(String, Tensor)> = vs
        .variables()
        .into_iter()
        .map(|(name, t)| Ok((name, crate::device::to_host(&t.detach())?.f_contiguous()?)))
        .collect::<Result<_>>()?;
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    let bytes: Vec<(String, Vec<u8>, Kind, Vec<usize>)> = tensors
        .iter()
        .map(|(name, t)| {
            let numel = t.numel();
            let mut buf = vec![0u8; numel * t.kind().elt_size_in_bytes()];
            t.f_copy_data_u8(&mut buf, numel)?;
            let shape = t.size().iter().map(|&d| d as usize).collect();
            Ok((name.clone(), buf, t.kind(), shape))
        })
        .collect::<Result<_>>()?;
    let views = bytes
        .iter()
        .map(|(name, buf, kind, shape)| Ok((name.as_str(), TensorView::new(dtype_of(*kind)?, shape.clone(), buf)?)))
        .collect::<Result<Vec<_>>>()?;
    let metadata = Some(HashMap::from([("format".to_string(), "pt".to_string())]));
    let serialized = safetensors::tensor::serialize(views, &metadata)?;
    crate::io::atomic::write_file(path, &serialized)
}

fn dtype_of(kind: Kind) -> Result<Dtype> {
    Ok(match kind {
        Kind::Float => Dtype::F32,
        Kind::Double => Dtype::F64,
        Kind::Half => Dtype::F16,
        Kind::BFloat16 => Dtype::BF16,
        Kind::Int64 => Dtype::I64,
        Kind::Int => Dtype::I32,
        Kind::Bool => Dtype::BOOL,
        Kind::Uint8 => Dtype::U8,
        other => bail!("cannot save tensors of kind {other:?}"),
    })
}

/// Labels of a head, recorded in `config.json` as HF does (`id2label` keys are decimal strings).
#[derive(Debug, Clone, PartialEq)]
pub struct HeadInfo {
    pub architecture: String,
    pub labels: Vec<String>,
}

/// The `config.json` HF writes for a fine-tuned model: the encoder config plus head metadata.
pub fn config_json(cfg: &ModelConfig, head: &HeadInfo) -> serde_json::Value {
    let mut obj = cfg.json.clone();
    let id2label: serde_json::Map<_, _> = head
        .labels
        .iter()
        .enumerate()
        .map(|(i, l)| (i.to_string(), l.clone().into()))
        .collect();
    let label2id: serde_json::Map<_, _> = head
        .labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.clone(), i.into()))
        .collect();
    obj.insert("architectures".into(), serde_json::json!([head.architecture]));
    obj.insert("model_type".into(), cfg.family.hf_model_type.into());
    obj.insert("num_labels".into(), head.labels.len().into());
    obj.insert("id2label".into(), id2label.into());
    obj.insert("label2id".into(), label2id.into());
    obj.into()
}

/// Saves a checkpoint directory atomically: `config.json`, `model.safetensors` and whatever
/// `extra` writes (tokenizer files, training state) into the temporary directory.
pub fn save_checkpoint(
    dir: &Path,
    vs: &VarStore,
    cfg: &ModelConfig,
    head: &HeadInfo,
    extra: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    crate::io::atomic::write_dir(dir, |tmp| {
        let config = serde_json::to_string_pretty(&config_json(cfg, head))?;
        crate::io::atomic::write_file(&tmp.join("config.json"), format!("{config}\n").as_bytes())?;
        save_weights(vs, &tmp.join("model.safetensors"))?;
        extra(tmp)
    })
    .with_context(|| format!("cannot save checkpoint {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A safetensors header length of 0x..80 bytes starts the file with the pickle magic byte.
    #[test]
    fn safetensors_with_0x80_header_length_is_not_a_pickle() {
        let dir = std::env::temp_dir().join(format!("koelectra-ft-st-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("model.safetensors");
        let found = (1..200).find(|n| {
            let name = "w".repeat(*n);
            Tensor::write_safetensors(
                &[(name.as_str(), Tensor::zeros([2], (Kind::Float, tch::Device::Cpu)))],
                &path,
            )
            .unwrap();
            std::fs::read(&path).unwrap()[0] == 0x80
        });
        assert!(found.is_some(), "no name length gives a 0x80 header length");
        assert_eq!(read_tensors(&path).unwrap().len(), 1);
        std::fs::remove_dir_all(dir).ok();
    }
}
