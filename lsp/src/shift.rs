//! Mapping offsets between two versions of a text, for answering from the
//! last good analysis while the current text has a syntax error.
//!
//! The two texts share a prefix and a suffix; the edit lies between. An
//! offset in the shared prefix is the same in both, one in the shared
//! suffix moves by the change in length, and one inside the edit has no
//! counterpart. Typing is one edit at a time, so this is exact for the
//! common case and never wrong (only unavailable) for the others.

/// How offsets of an old text move in a new one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shift {
    /// Bytes both texts start with.
    prefix: usize,
    /// Bytes both texts end with (not overlapping the prefix).
    suffix: usize,
    old_len: usize,
    new_len: usize,
}

impl Shift {
    pub(crate) fn between(old: &str, new: &str) -> Shift {
        let (a, b) = (old.as_bytes(), new.as_bytes());
        let mut prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
        while !(old.is_char_boundary(prefix) && new.is_char_boundary(prefix)) {
            prefix -= 1;
        }
        let max_suffix = a.len().min(b.len()) - prefix;
        let mut suffix = a.iter().rev().zip(b.iter().rev()).take(max_suffix).take_while(|(x, y)| x == y).count();
        while !(old.is_char_boundary(a.len() - suffix) && new.is_char_boundary(b.len() - suffix)) {
            suffix -= 1;
        }
        Shift { prefix, suffix, old_len: a.len(), new_len: b.len() }
    }

    /// Whether the texts are the same.
    pub(crate) fn is_identity(&self) -> bool {
        self.old_len == self.new_len && self.prefix == self.old_len
    }

    /// The edited part: its range in the old text and in the new text.
    pub(crate) fn changed(&self) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
        (self.prefix..self.old_len - self.suffix, self.prefix..self.new_len - self.suffix)
    }

    /// Where an offset of the old text is in the new one.
    pub(crate) fn to_new(self, old: usize) -> Option<usize> {
        map(old, self.prefix, self.old_len - self.suffix, self.new_len - self.suffix)
    }

    /// Where an offset of the new text is in the old one.
    pub(crate) fn to_old(self, new: usize) -> Option<usize> {
        map(new, self.prefix, self.new_len - self.suffix, self.old_len - self.suffix)
    }
}

fn map(offset: usize, prefix: usize, from_suffix: usize, to_suffix: usize) -> Option<usize> {
    if offset <= prefix {
        Some(offset)
    } else if offset >= from_suffix {
        Some(offset - from_suffix + to_suffix)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_around_one_edit_move_by_its_length() {
        let old = "team billing\nrule r when x -> billing\n";
        let new = "team billing\nrule r when x and ( -> billing\n";
        let shift = Shift::between(old, new);
        assert_eq!(shift.to_new(5), Some(5));
        let dest = old.rfind("billing").unwrap_or(0);
        assert_eq!(shift.to_new(dest), new.rfind("billing"));
        assert_eq!(shift.to_old(new.find("(").unwrap_or(0)), None);
        assert!(Shift::between(old, old).is_identity());
        let s = Shift::between("aé", "aèb");
        assert_eq!(s.to_new(3), Some(4));
    }
}
