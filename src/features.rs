//! Turning encoded examples into padded batch tensors, and length-sorted evaluation batches.
use crate::model::heads::Batch;
use crate::tokenizer::Encoded;
use tch::{Device, Tensor};

/// Pads `rows` on the right to the longest row (never beyond): `[PAD]` ids, mask 0, type 0.
pub fn pad_batch(rows: &[&Encoded], pad_id: i64, device: Device) -> Batch {
    let longest = rows.iter().map(|r| r.ids.len()).max().unwrap_or(0);
    let n = rows.len();
    let (mut ids, mut mask, mut types) = (
        vec![pad_id; n * longest],
        vec![0i64; n * longest],
        vec![0i64; n * longest],
    );
    for (i, row) in rows.iter().enumerate() {
        let at = i * longest;
        ids[at..at + row.ids.len()].copy_from_slice(&row.ids);
        mask[at..at + row.ids.len()].copy_from_slice(&row.attention_mask);
        types[at..at + row.ids.len()].copy_from_slice(&row.type_ids);
    }
    let shape = [n as i64, longest as i64];
    let to = |v: Vec<i64>| Tensor::from_slice(&v).view(shape).to_device(device);
    Batch {
        input_ids: to(ids),
        attention_mask: to(mask),
        token_type_ids: to(types),
    }
}

/// Evaluation batches: indices sorted by length, longest first, so little padding is computed.
/// Callers put results back in input order by index.
pub fn length_sorted_batches(lengths: &[usize], batch_size: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by(|&a, &b| lengths[b].cmp(&lengths[a]).then(a.cmp(&b)));
    order.chunks(batch_size.max(1)).map(<[usize]>::to_vec).collect()
}

/// Index of the largest value, the first one on ties (as numpy's argmax).
pub fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, v) in row.iter().enumerate() {
        if *v > row[best] {
            best = i;
        }
    }
    best
}
