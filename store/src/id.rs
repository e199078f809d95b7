//! Prefixed, time-ordered unique ids (`dec_…`, `out_…`, `obx_…`): 48 bits
//! of milliseconds then 80 random bits, in Crockford base 32, so ids sort by
//! creation time in logs and indexes and never collide across replicas.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const RANDOM_BITS: u32 = 80;
const RANDOM_MASK: u128 = (1 << RANDOM_BITS) - 1;

/// Makes ids; within one process they strictly increase, even within one
/// millisecond (the random part counts up from the millisecond's draw).
#[derive(Debug, Default)]
pub(crate) struct IdGenerator {
    last: Mutex<(u64, u128)>,
}

impl IdGenerator {
    /// A new id: `prefix` + `_` + 26 characters.
    pub(crate) fn next(&self, prefix: &str) -> String {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_millis());
        let now = u64::try_from(now).unwrap_or(u64::MAX) & ((1 << 48) - 1);
        let value = {
            // A poisoned lock only means another thread panicked mid-update
            // of two integers; the pair is still usable.
            let mut last = self.last.lock().unwrap_or_else(|poison| poison.into_inner());
            let (millis, random) = if now > last.0 {
                (now, random_bits())
            } else if last.1 < RANDOM_MASK {
                (last.0, last.1 + 1)
            } else {
                (last.0 + 1, random_bits())
            };
            *last = (millis, random);
            (u128::from(millis) << RANDOM_BITS) | random
        };
        let mut id = String::with_capacity(prefix.len() + 27);
        id.push_str(prefix);
        id.push('_');
        for position in (0..26).rev() {
            let digit = (value >> (position * 5)) & 31;
            id.push(char::from(ALPHABET[digit as usize]));
        }
        id
    }
}

fn random_bits() -> u128 {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes[6..]).is_err() {
        // No OS randomness (never seen in practice): fall back to the
        // process's randomly keyed hasher, still distinct per process.
        use std::hash::{BuildHasher, RandomState};
        let state = RandomState::new();
        bytes[..8].copy_from_slice(&state.hash_one(1u8).to_le_bytes());
        bytes[8..].copy_from_slice(&state.hash_one(2u8).to_le_bytes());
    }
    // Keep the top half of the random range free so that counting up within
    // one millisecond never runs out.
    (u128::from_be_bytes(bytes) & RANDOM_MASK) >> 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefixed_sortable_and_unique() {
        let ids = IdGenerator::default();
        let made: Vec<String> = (0..10_000).map(|_| ids.next("dec")).collect();
        assert!(made.iter().all(|id| id.len() == 30 && id.starts_with("dec_")));
        assert!(made.windows(2).all(|pair| pair[0] < pair[1]), "ids strictly increase");
    }
}
