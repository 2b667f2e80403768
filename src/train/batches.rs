//! The order of training examples: a seeded permutation per epoch, cut into batches as the reference
//! does or grouped by length as HF's `LengthGroupedSampler` does. Resumable by construction: an
//! epoch's batches depend only on the seed and the epoch.

/// SplitMix64: a tiny, well-mixed PRNG step; data order and dropout seeds derive from it.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform random permutation of `0..n` for `epoch`, derived from `seed` (Fisher–Yates).
pub fn permutation(n: usize, seed: u64, epoch: i64) -> Vec<usize> {
    let mut state = splitmix64(seed ^ 0xD1B5_4A32_D192_ED03u64.wrapping_mul(epoch as u64 + 1));
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        state = splitmix64(state);
        let j = (state % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

/// The reference's batches: a fresh permutation each epoch, cut into `batch_size` chunks
/// (the last one partial).
pub fn random_batches(n: usize, batch_size: usize, seed: u64, epoch: i64) -> Vec<Vec<usize>> {
    permutation(n, seed, epoch)
        .chunks(batch_size.max(1))
        .map(<[usize]>::to_vec)
        .collect()
}

/// HF's `LengthGroupedSampler` order, cut into batches: a fresh permutation each epoch, split into
/// mega-batches of (up to) 50 batches, each sorted by length, longest first; the mega-batch holding
/// the longest example goes first so an out-of-memory shows at once. Batches then hold examples of
/// similar length, so little padding is computed.
pub fn length_grouped_batches(lengths: &[usize], batch_size: usize, seed: u64, epoch: i64) -> Vec<Vec<usize>> {
    let batch_size = batch_size.max(1);
    let order = permutation(lengths.len(), seed, epoch);
    let mult = (lengths.len() / (batch_size * 4)).clamp(1, 50);
    let mut megabatches: Vec<Vec<usize>> = order.chunks(mult * batch_size).map(<[usize]>::to_vec).collect();
    for mb in &mut megabatches {
        mb.sort_by(|&a, &b| lengths[b].cmp(&lengths[a]));
    }
    let longest = (0..megabatches.len()).max_by_key(|&i| (lengths[megabatches[i][0]], std::cmp::Reverse(i)));
    if let Some(i) = longest {
        let first = megabatches[0][0];
        megabatches[0][0] = megabatches[i][0];
        megabatches[i][0] = first;
    }
    let flat: Vec<usize> = megabatches.into_iter().flatten().collect();
    flat.chunks(batch_size).map(<[usize]>::to_vec).collect()
}
