//! Stable, platform-independent hashing for feature buckets.
//!
//! Owns the hash function whose values are baked into model files: it must
//! never change for a given model format version (std's `DefaultHasher` is
//! explicitly unstable across releases, so it is not used).

/// FNV-1a 64-bit offset basis.
pub(crate) const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Incremental FNV-1a over bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fnv(pub(crate) u64);

impl Fnv {
    pub(crate) fn new() -> Self {
        Fnv(FNV_OFFSET)
    }

    pub(crate) fn with_seed(seed: u64) -> Self {
        Fnv(FNV_OFFSET ^ seed)
    }

    pub(crate) fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(FNV_PRIME);
        }
    }

    pub(crate) fn finish(self) -> u64 {
        mix(self.0)
    }
}

/// FNV-1a of a byte string, finalised with [`mix`].
pub(crate) fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    let mut hasher = Fnv::with_seed(seed);
    hasher.write(bytes);
    hasher.finish()
}

/// Raw (unmixed) FNV-1a, used for file checksums and data hashes.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hasher = Fnv::new();
    hasher.write(bytes);
    hasher.0
}

/// A strong 64-bit finaliser (splitmix64) so that the high bits used for
/// bucket selection are well distributed.
pub(crate) fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Combines two hashes in an order-dependent way (for word bigrams).
pub(crate) fn combine(first: u64, second: u64) -> u64 {
    mix(first.rotate_left(17) ^ second.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// Deterministic pseudo-random numbers (splitmix64) for reproducible splits.
#[derive(Clone, Debug)]
pub(crate) struct SplitMix(u64);

impl SplitMix {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// Uniform in `0..bound` (bound > 0); the tiny modulo bias is irrelevant here.
    pub(crate) fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound as u64) as usize
    }

    /// Fisher–Yates shuffle.
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for idx in (1..items.len()).rev() {
            let other = self.below(idx + 1);
            items.swap(idx, other);
        }
    }
}
