//! The vocabulary index: hash bucket → a `u32` (the feature's rank).
//!
//! Owns the look-up structure on prediction's hot path, where every token
//! and bigram of a ticket is looked up.

/// Returned by [`VocabIndex::get`] for a bucket that is not present.
pub(crate) const ABSENT: u32 = u32::MAX;

/// `(bucket << 32) | value`; an empty slot's high half is `u32::MAX`, which
/// is no bucket (buckets are below 2^26).
const EMPTY_SLOT: u64 = u64::MAX;

/// Open-addressing table `bucket -> u32` (linear probing, at most half full).
/// Far smaller than a dense `2^hash_bits` array, so look-ups stay in cache.
#[derive(Debug, Clone)]
pub(crate) struct VocabIndex {
    mask: usize,
    slots: Vec<u64>,
}

impl VocabIndex {
    pub(crate) fn with_capacity(n: usize) -> Self {
        let size = (n * 2).next_power_of_two().max(16);
        VocabIndex { mask: size - 1, slots: vec![EMPTY_SLOT; size] }
    }

    /// Inserts; false when `bucket` is already present.
    pub(crate) fn insert(&mut self, bucket: u32, value: u32) -> bool {
        // Buckets are high bits of a mixed hash, so their low bits are uniform.
        let mut idx = bucket as usize & self.mask;
        loop {
            let slot = self.slots[idx];
            if slot == EMPTY_SLOT {
                self.slots[idx] = (u64::from(bucket) << 32) | u64::from(value);
                return true;
            }
            if (slot >> 32) as u32 == bucket {
                return false;
            }
            idx = (idx + 1) & self.mask;
        }
    }

    /// Replaces every stored value `v` with `map(v)`.
    pub(crate) fn map_values(&mut self, map: impl Fn(u32) -> u32) {
        for slot in self.slots.iter_mut().filter(|slot| **slot != EMPTY_SLOT) {
            *slot = (*slot & !u64::from(u32::MAX)) | u64::from(map(*slot as u32));
        }
    }

    /// Starts loading `bucket`'s home slot into the cache, so that a later
    /// [`VocabIndex::get`] finds it there.
    #[inline]
    pub(crate) fn prefetch(&self, bucket: u32) {
        prefetch(&self.slots[bucket as usize & self.mask]);
    }

    /// The value stored for `bucket`, or [`ABSENT`].
    #[inline]
    pub(crate) fn get(&self, bucket: u32) -> u32 {
        let mut idx = bucket as usize & self.mask;
        loop {
            let slot = self.slots[idx];
            if (slot >> 32) as u32 == bucket {
                return slot as u32;
            }
            if slot == EMPTY_SLOT {
                return ABSENT;
            }
            idx = (idx + 1) & self.mask;
        }
    }
}

/// Asks the CPU to start loading the cache line holding `value`. A hint:
/// it neither reads nor writes memory as far as the program can tell.
#[inline]
pub(crate) fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    #[expect(unsafe_code, reason = "the prefetch intrinsic is an unsafe fn; it only hints the cache")]
    // SAFETY: `_mm_prefetch` has no memory-safety preconditions (it never
    // faults and changes no memory), and SSE is part of the x86_64 baseline.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(std::ptr::from_ref(value).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::SplitMix;

    #[test]
    fn finds_what_was_inserted_and_nothing_else() {
        let mut rng = SplitMix::new(7);
        for n in [0usize, 1, 7, 8, 9, 100, 5000] {
            let mut index = VocabIndex::with_capacity(n);
            let mut present = std::collections::HashMap::new();
            // Few bits, so that probe sequences run into each other.
            let bits = 14;
            while present.len() < n {
                let bucket = (rng.next_u64() >> (64 - bits)) as u32;
                let value = present.len() as u32;
                assert_eq!(index.insert(bucket, value), !present.contains_key(&bucket));
                present.entry(bucket).or_insert(value);
            }
            for bucket in 0..(1u32 << bits) {
                assert_eq!(index.get(bucket), present.get(&bucket).copied().unwrap_or(ABSENT), "n {n} bucket {bucket}");
            }
            index.map_values(|v| v + 1);
            for (&bucket, &value) in &present {
                assert_eq!(index.get(bucket), value + 1);
            }
        }
    }

    #[test]
    fn crowded_home_slots_spill_into_the_next() {
        // Capacity for 16 entries: 32 slots; 20 buckets with the same home.
        let mut index = VocabIndex::with_capacity(16);
        let stride = index.mask as u32 + 1;
        for i in 0..20 {
            assert!(index.insert(3 + i * stride, i));
        }
        for i in 0..20 {
            assert_eq!(index.get(3 + i * stride), i);
        }
        assert_eq!(index.get(3 + 20 * stride), ABSENT);
        assert!(!index.insert(3 + 5 * stride, 99));
    }
}
