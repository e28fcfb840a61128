//! N-gram counting shared by BLEU, chrF, token F1 and ROUGE-N: one row's hypothesis and
//! references as sequences of units (word ids or characters), n-grams identified exactly (no
//! hashing of text into a lossy key).
//!
//! Two exact representations, chosen per row:
//! - **packed** (the usual case): units are numbered densely per row, and the n-gram at position
//!   `i` is the number whose base-`2^bits` digits are its units plus one, so it fits in a `u64`
//!   when `bits * order <= 64` (BLEU: up to 65,535 distinct words in a row; chrF: up to 1,023
//!   distinct characters). The key of order `n` is the key of order `n - 1` shifted by one digit
//!   with the last unit added: no hashing to build it. Counts are kept in an open-addressing
//!   table reused from row to row ([`GramCounter`]).
//! - **pairs** (any row): the id of the n-gram at position `i` is the rank of the pair (id of the
//!   (n-1)-gram at `i`, unit at `i + n - 1`) in the order the row's distinct pairs first occur
//!   (a hash map from the pair, exact: the pair is the key).

use std::hash::Hasher;
use std::ops::Range;

use rustc_hash::{FxHashMap, FxHasher};

/// Fibonacci hashing's multiplier (2^64 / golden ratio): spreads packed keys, whose low bits
/// are the last unit, over the table's top bits.
const SPREAD: u64 = 0x9E37_79B9_7F4A_7C15;

/// Smallest table region, in slots.
const MIN_SLOTS: usize = 64;

/// One n-gram's counters in a [`GramCounter`].
#[derive(Clone, Copy, Default)]
struct Slot {
    key: u64,
    /// Slot in use when equal to the counter's current stamp.
    stamp: u32,
    /// Occurrences in the hypothesis.
    hyp: u32,
    /// The reference whose occurrences `count` holds (references are numbered from 1).
    seen: u32,
    count: u32,
    /// Most occurrences in any one reference so far, at most `hyp` (BLEU's clipping).
    bound: u32,
}

/// An open-addressing table (linear probing) of n-gram keys and their counters. It is emptied
/// by bumping a stamp, not by writing, and each use takes a region sized to its keys, so a
/// long row leaves no large table for the short rows after it to scatter over.
#[derive(Default)]
struct GramCounter {
    slots: Vec<Slot>,
    stamp: u32,
    /// Slots in the current region, minus one (a power of two minus one).
    mask: usize,
    shift: u32,
}

impl GramCounter {
    /// Empty the table for about `keys` distinct keys.
    fn reset(&mut self, keys: usize) {
        let region = (keys * 2).next_power_of_two().max(MIN_SLOTS);
        if region > self.slots.len() || self.stamp == u32::MAX {
            let len = region.max(self.slots.len());
            self.slots.clear();
            self.slots.resize(len, Slot::default());
            self.stamp = 0;
        }
        self.stamp += 1;
        self.mask = region - 1;
        self.shift = 64 - region.trailing_zeros();
    }

    fn home(&self, key: u64) -> usize {
        (key.wrapping_mul(SPREAD) >> self.shift) as usize
    }

    /// The slot of `key`, added with zero counters if absent.
    fn insert(&mut self, key: u64) -> &mut Slot {
        let mut at = self.home(key);
        loop {
            let slot = self.slots[at];
            if slot.stamp != self.stamp {
                self.slots[at] = Slot {
                    key,
                    stamp: self.stamp,
                    ..Slot::default()
                };
                return &mut self.slots[at];
            }
            if slot.key == key {
                return &mut self.slots[at];
            }
            at = (at + 1) & self.mask;
        }
    }

    /// The slot of `key`, if present.
    fn get_mut(&mut self, key: u64) -> Option<&mut Slot> {
        let mut at = self.home(key);
        loop {
            let slot = self.slots[at];
            if slot.stamp != self.stamp {
                return None;
            }
            if slot.key == key {
                return Some(&mut self.slots[at]);
            }
            at = (at + 1) & self.mask;
        }
    }
}

/// Bits per digit to write the numbers `1..=max_unit + 1`.
fn digit_bits(max_unit: u32) -> u32 {
    64 - (u64::from(max_unit) + 1).leading_zeros()
}

/// A row's sequences (sequence 0 the hypothesis, then the references) and their n-grams at the
/// current order. Buffers are reused from row to row.
#[derive(Default)]
pub(crate) struct NgramTable {
    units: Vec<u32>,
    /// Sequence `k` is `units[starts[k]..starts[k + 1]]`.
    starts: Vec<usize>,
    max_unit: u32,
    /// The highest order the row will be asked for (chooses the representation).
    max_order: usize,
    order: usize,
    /// `Some(bits)` in packed mode.
    packed: Option<u32>,
    /// Packed mode: each position's n-gram key (meaningful where an n-gram fits).
    keys: Vec<u64>,
    counter: GramCounter,
    /// Pairs mode: id of the n-gram starting at each position (`u32::MAX` where none fits).
    ids: Vec<u32>,
    /// (id of the (n-1)-gram, last unit) -> id of the n-gram, at the current order.
    map: FxHashMap<u64, u32>,
    distinct: usize,
    /// Per-id counters, `distinct` long, zero between uses.
    counts: Vec<u32>,
    bound: Vec<u32>,
    /// Test hook: use pairs mode whatever the row.
    #[cfg(test)]
    force_pairs: bool,
}

const NONE: u32 = u32::MAX;

impl NgramTable {
    /// Forget the previous row; orders up to `max_order` will be asked for.
    pub fn clear(&mut self, max_order: usize) {
        self.units.clear();
        self.starts.clear();
        self.starts.push(0);
        self.order = 0;
        self.max_unit = 0;
        self.max_order = max_order.max(1);
    }

    /// Append one sequence. Units are any `u32`; rows whose units are small (dense ids) are
    /// counted fastest.
    pub fn push(&mut self, units: impl IntoIterator<Item = u32>) {
        let start = self.units.len();
        self.units.extend(units);
        let max = self.units[start..].iter().copied().max().unwrap_or(0);
        self.max_unit = self.max_unit.max(max);
        self.starts.push(self.units.len());
    }

    /// Number of sequences pushed.
    pub fn sequences(&self) -> usize {
        self.starts.len() - 1
    }

    /// Units (n-grams of order 1) in sequence `k`.
    pub fn len(&self, k: usize) -> usize {
        self.starts[k + 1] - self.starts[k]
    }

    /// Positions of sequence `k`'s n-grams at the current order.
    fn grams(&self, k: usize) -> Range<usize> {
        self.starts[k]..self.starts[k] + self.total(k)
    }

    /// N-grams of the current order in sequence `k`.
    pub fn total(&self, k: usize) -> usize {
        (self.len(k) + 1).saturating_sub(self.order)
    }

    /// Move to the next order (1 after [`Self::clear`]): identify every n-gram.
    pub fn next_order(&mut self) {
        self.order += 1;
        if self.order == 1 {
            let bits = digit_bits(self.max_unit);
            let fits = bits as usize * self.max_order <= 64;
            #[cfg(test)]
            let fits = fits && !self.force_pairs;
            self.packed = fits.then_some(bits);
        }
        match self.packed {
            Some(bits) => self.next_packed_order(bits),
            None => self.next_pairs_order(),
        }
    }

    fn next_packed_order(&mut self, bits: u32) {
        let n = self.order;
        if n == 1 {
            self.keys.clear();
            self.keys
                .extend(self.units.iter().map(|&u| u64::from(u) + 1));
        } else {
            for k in 0..self.sequences() {
                let grams = self.grams(k);
                if grams.is_empty() {
                    continue;
                }
                let units = &self.units[grams.start + n - 1..];
                for (key, &unit) in self.keys[grams].iter_mut().zip(units) {
                    *key = (*key << bits) | (u64::from(unit) + 1);
                }
            }
        }
        // the hypothesis's n-grams and their counts; references are looked up against them
        let hyp = self.grams(0);
        self.counter.reset(hyp.len());
        for &key in &self.keys[hyp] {
            self.counter.insert(key).hyp += 1;
        }
    }

    fn next_pairs_order(&mut self) {
        let n = self.order;
        self.map.clear();
        if n == 1 {
            self.ids.clear();
            self.ids.resize(self.units.len(), NONE);
        }
        for k in 0..self.sequences() {
            let (start, end) = (self.starts[k], self.starts[k + 1]);
            for i in start..end {
                let last = i + n - 1;
                if last >= end {
                    self.ids[i] = NONE;
                    continue;
                }
                let key = if n == 1 {
                    u64::from(self.units[i])
                } else {
                    (u64::from(self.ids[i]) << 32) | u64::from(self.units[last])
                };
                let next = self.map.len() as u32;
                self.ids[i] = *self.map.entry(key).or_insert(next);
            }
        }
        self.distinct = self.map.len();
        self.counts.clear();
        self.counts.resize(self.distinct, 0);
        self.bound.clear();
        self.bound.resize(self.distinct, 0);
    }

    /// Clipped matches of the hypothesis against sequence `reference` (at least 1): the sum
    /// over n-grams of `min(count in hypothesis, count in reference)`. Once per reference and
    /// order.
    pub fn matches(&mut self, reference: usize) -> usize {
        let stamp = reference as u32;
        if self.packed.is_some() {
            let mut matched = 0;
            for &key in &self.keys[self.grams(reference)] {
                if let Some(slot) = self.counter.get_mut(key) {
                    if slot.seen != stamp {
                        slot.seen = stamp;
                        slot.count = 0;
                    }
                    if slot.count < slot.hyp {
                        matched += 1;
                    }
                    slot.count += 1;
                }
            }
            return matched;
        }
        let Self {
            ids, counts, bound, ..
        } = self;
        for &id in &ids[self.starts[0]..self.starts[1]] {
            if id != NONE {
                counts[id as usize] += 1;
            }
        }
        let mut matched = 0;
        for &id in &ids[self.starts[reference]..self.starts[reference + 1]] {
            if id != NONE {
                let id = id as usize;
                if bound[id] < counts[id] {
                    matched += 1;
                }
                bound[id] += 1;
            }
        }
        self.reset(self.span(0));
        self.reset(self.span(reference));
        matched
    }

    /// BLEU's clipped matches of sequence 0 against the references `1..`: the sum over the
    /// hypothesis n-grams of `min(count, max over references of the reference count)`.
    pub fn matches_max_over_references(&mut self) -> usize {
        if self.packed.is_some() {
            let mut matched = 0;
            for k in 1..self.sequences() {
                let stamp = k as u32;
                for &key in &self.keys[self.grams(k)] {
                    if let Some(slot) = self.counter.get_mut(key) {
                        if slot.seen != stamp {
                            slot.seen = stamp;
                            slot.count = 0;
                        }
                        slot.count += 1;
                        // bound = min(hyp, most in one reference) grows one step at a time
                        if slot.count > slot.bound && slot.count <= slot.hyp {
                            slot.bound = slot.count;
                            matched += 1;
                        }
                    }
                }
            }
            return matched;
        }
        let Self {
            ids,
            counts,
            bound,
            starts,
            ..
        } = self;
        // bound[id]: the most any one reference has; counts: scratch per reference
        for k in 1..starts.len() - 1 {
            let refs = &ids[starts[k]..starts[k + 1]];
            for &id in refs {
                if id != NONE {
                    let id = id as usize;
                    counts[id] += 1;
                    bound[id] = bound[id].max(counts[id]);
                }
            }
            for &id in refs {
                if id != NONE {
                    counts[id as usize] = 0;
                }
            }
        }
        let mut matched = 0;
        for &id in &ids[starts[0]..starts[1]] {
            if id != NONE {
                let id = id as usize;
                counts[id] += 1;
                if counts[id] <= bound[id] {
                    matched += 1;
                }
            }
        }
        self.reset(0..self.units.len());
        matched
    }

    /// Positions of sequence `k`'s units.
    fn span(&self, k: usize) -> Range<usize> {
        self.starts[k]..self.starts[k + 1]
    }

    /// Zero the counters of the n-grams at `positions` (pairs mode).
    fn reset(&mut self, positions: Range<usize>) {
        for &id in &self.ids[positions] {
            if id != NONE {
                self.counts[id as usize] = 0;
                self.bound[id as usize] = 0;
            }
        }
    }
}

/// Clipped unigram matches over dense ids (`0..vocabulary`, as an [`Interner`] gives them):
/// the hypothesis's count of each id in a vector, each reference counted against it and its
/// counters zeroed after. No hashing: the ids index the vectors.
#[derive(Default)]
pub(crate) struct UnigramCounts {
    hypothesis: Vec<u32>,
    seen: Vec<u32>,
}

impl UnigramCounts {
    /// Count the hypothesis `ids` (each below `vocabulary`).
    pub fn set_hypothesis(&mut self, ids: &[u32], vocabulary: usize) {
        self.hypothesis.clear();
        self.hypothesis.resize(vocabulary, 0);
        self.seen.clear();
        self.seen.resize(vocabulary, 0);
        for &id in ids {
            self.hypothesis[id as usize] += 1;
        }
    }

    /// The sum over ids of `min(count in the hypothesis, count in reference)`.
    pub fn matches(&mut self, reference: &[u32]) -> usize {
        let mut matched = 0;
        for &id in reference {
            let id = id as usize;
            matched += usize::from(self.seen[id] < self.hypothesis[id]);
            self.seen[id] += 1;
        }
        for &id in reference {
            self.seen[id as usize] = 0;
        }
        matched
    }
}

/// One distinct token in an [`Interner`].
#[derive(Clone, Copy, Default)]
struct Entry {
    stamp: u32,
    /// The hash's low bits, compared before the bytes.
    tag: u32,
    id: u32,
    /// Index of the token's first occurrence in the spans.
    first: u32,
}

/// Dense ids for a row's tokens: equal bytes, equal id; ids `0, 1, ...` in order of first
/// occurrence. An open-addressing table reused from row to row (emptied by a stamp).
#[derive(Default)]
pub(crate) struct Interner {
    entries: Vec<Entry>,
    stamp: u32,
}

impl Interner {
    /// The ids of the tokens `text[span]` for each of `spans`, in `ids` (cleared first); returns
    /// the number of distinct tokens.
    pub fn intern(&mut self, text: &[u8], spans: &[Range<usize>], ids: &mut Vec<u32>) -> usize {
        ids.clear();
        let region = (spans.len() * 2).next_power_of_two().max(MIN_SLOTS);
        if region > self.entries.len() || self.stamp == u32::MAX {
            let len = region.max(self.entries.len());
            self.entries.clear();
            self.entries.resize(len, Entry::default());
            self.stamp = 0;
        }
        self.stamp += 1;
        let (mask, shift) = (region - 1, 64 - region.trailing_zeros());
        let mut next = 0u32;
        for (k, span) in spans.iter().enumerate() {
            let token = &text[span.clone()];
            let mut hasher = FxHasher::default();
            hasher.write(token);
            let hash = hasher.finish().wrapping_mul(SPREAD);
            let tag = hash as u32;
            let mut at = (hash >> shift) as usize;
            let id = loop {
                let e = self.entries[at];
                if e.stamp != self.stamp {
                    self.entries[at] = Entry {
                        stamp: self.stamp,
                        tag,
                        id: next,
                        first: k as u32,
                    };
                    next += 1;
                    break next - 1;
                }
                if e.tag == tag && text[spans[e.first as usize].clone()] == *token {
                    break e.id;
                }
                at = (at + 1) & mask;
            };
            ids.push(id);
        }
        next as usize
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;

    fn table(seqs: &[&str], max_order: usize, force_pairs: bool) -> NgramTable {
        let mut t = NgramTable {
            force_pairs,
            ..NgramTable::default()
        };
        t.clear(max_order);
        for s in seqs {
            t.push(s.chars().map(u32::from));
        }
        t
    }

    #[test]
    fn clipped_counts_by_order() {
        for force_pairs in [false, true] {
            let seqs = ["aaab", "aab", "ab"];
            // matches and matches_max_over_references each on a fresh table at every order
            let at = |n: usize, f: &dyn Fn(&mut NgramTable) -> usize| {
                let mut t = table(&seqs, 5, force_pairs);
                (0..n).for_each(|_| t.next_order());
                f(&mut t)
            };
            assert_eq!(at(1, &|t| t.matches(1)), 3); // a:min(3,2) + b:1
            assert_eq!(at(1, &|t| t.matches(2)), 2);
            assert_eq!(at(1, &NgramTable::matches_max_over_references), 3);
            // aa aa ab vs aa ab: 2; vs ab: 1
            assert_eq!(at(2, &|t| t.total(0)), 3);
            assert_eq!(at(2, &|t| t.matches(1)), 2);
            assert_eq!(at(2, &NgramTable::matches_max_over_references), 2);
            assert_eq!(
                at(4, &|t| t.total(0) * 100 + t.total(1) * 10 + t.total(2)),
                100
            );
            assert_eq!(at(4, &NgramTable::matches_max_over_references), 0);
            assert_eq!(at(5, &|t| t.total(0)), 0);
        }
    }

    #[test]
    fn same_prefix_different_ngrams() {
        for force_pairs in [false, true] {
            let mut t = table(&["abc", "abd"], 3, force_pairs);
            for _ in 0..3 {
                t.next_order();
            }
            assert_eq!(t.matches(1), 0);
        }
    }

    #[test]
    fn wide_units_fall_back_to_pairs() {
        // code points need 21 bits: four orders do not fit in 64 bits
        let mut t = table(&["\u{10FFFF}\u{10FFFF}", "\u{10FFFF}\u{10FFFF}"], 4, false);
        t.next_order();
        assert!(t.packed.is_none());
        assert_eq!(t.matches(1), 2);
        let mut t = table(&["ab", "ab"], 8, false);
        t.next_order();
        assert_eq!(t.packed, Some(7));
    }

    /// Counter-based oracle: per order, (totals, clipped matches per reference, BLEU matches).
    fn oracle(seqs: &[Vec<u32>], n: usize) -> (Vec<usize>, Vec<usize>, usize) {
        fn count(s: &[u32], n: usize) -> HashMap<&[u32], usize> {
            let mut c: HashMap<&[u32], usize> = HashMap::new();
            for w in s.windows(n) {
                *c.entry(w).or_default() += 1;
            }
            c
        }
        let hyp = count(&seqs[0], n);
        let refs: Vec<_> = seqs[1..].iter().map(|s| count(s, n)).collect();
        let totals = seqs
            .iter()
            .map(|s| (s.len() + 1).saturating_sub(n))
            .collect();
        let clipped = refs
            .iter()
            .map(|r| {
                hyp.iter()
                    .map(|(g, &c)| c.min(*r.get(g).unwrap_or(&0)))
                    .sum()
            })
            .collect();
        let bleu = hyp
            .iter()
            .map(|(g, &c)| {
                c.min(
                    refs.iter()
                        .map(|r| *r.get(g).unwrap_or(&0))
                        .max()
                        .unwrap_or(0),
                )
            })
            .sum();
        (totals, clipped, bleu)
    }

    proptest! {
        #[test]
        fn both_modes_equal_counting(
            seqs in prop::collection::vec(prop::collection::vec(0u32..6, 0..14), 2..5),
            wide in any::<bool>(),
            max_order in 1usize..7,
        ) {
            // `wide` units force pairs mode through their size, not through the test hook
            let seqs: Vec<Vec<u32>> = seqs
                .into_iter()
                .map(|s| s.into_iter().map(|u| if wide { u << 28 } else { u }).collect())
                .collect();
            for force_pairs in [false, true] {
                let fresh = |n: usize| {
                    let mut t = NgramTable { force_pairs, ..NgramTable::default() };
                    t.clear(max_order);
                    for s in &seqs {
                        t.push(s.iter().copied());
                    }
                    (0..n).for_each(|_| t.next_order());
                    t
                };
                for n in 1..=max_order {
                    let (totals, clipped, bleu) = oracle(&seqs, n);
                    let t = fresh(n);
                    let got: Vec<usize> = (0..seqs.len()).map(|k| t.total(k)).collect();
                    prop_assert_eq!(got, totals);
                    let mut t = fresh(n);
                    let got: Vec<usize> = (1..seqs.len()).map(|k| t.matches(k)).collect();
                    prop_assert_eq!(got, clipped.clone());
                    prop_assert_eq!(fresh(n).matches_max_over_references(), bleu);
                    if n == 1 && !wide {
                        // dense ids (all below 6): the vector counter agrees
                        let mut u = UnigramCounts::default();
                        u.set_hypothesis(&seqs[0], 6);
                        let got: Vec<usize> = seqs[1..].iter().map(|r| u.matches(r)).collect();
                        prop_assert_eq!(got, clipped);
                    }
                }
            }
        }

        #[test]
        fn interner_numbers_by_first_occurrence(words in prop::collection::vec("[ab]{0,3}", 0..40)) {
            let text: String = words.concat();
            let mut spans = Vec::new();
            let mut at = 0;
            for w in &words {
                spans.push(at..at + w.len());
                at += w.len();
            }
            let mut interner = Interner::default();
            let mut ids = Vec::new();
            // twice: the second call reuses the table
            for _ in 0..2 {
                let distinct = interner.intern(text.as_bytes(), &spans, &mut ids);
                let mut seen: Vec<&str> = Vec::new();
                for (w, &id) in words.iter().zip(&ids) {
                    let expected = seen.iter().position(|s| s == w).unwrap_or_else(|| {
                        seen.push(w);
                        seen.len() - 1
                    });
                    prop_assert_eq!(id as usize, expected);
                }
                prop_assert_eq!(distinct, seen.len());
            }
        }
    }
}
