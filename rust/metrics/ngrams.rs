//! N-gram counting shared by BLEU and chrF: one row's hypothesis and references as sequences of
//! units (word ids or characters), n-grams identified exactly (no hashing) by dense ids built
//! order by order: the id of the n-gram at position `i` is the rank of the pair (id of the
//! (n-1)-gram at `i`, unit at `i + n - 1`) in the order the row's distinct pairs first occur
//! (a hash map from the pair, exact: the pair is the key, not a hash of the text).

use rustc_hash::FxHashMap;

/// A row's sequences (sequence 0 the hypothesis, then the references) and their n-gram ids at
/// the current order. Buffers are reused from row to row.
#[derive(Default)]
pub(crate) struct NgramTable {
    units: Vec<u32>,
    /// Sequence `k` is `units[starts[k]..starts[k + 1]]`.
    starts: Vec<usize>,
    /// Id of the n-gram starting at each position (`u32::MAX` where none fits).
    ids: Vec<u32>,
    /// (id of the (n-1)-gram, last unit) -> id of the n-gram, at the current order.
    map: FxHashMap<u64, u32>,
    order: usize,
    distinct: usize,
    /// Per-id counters, `distinct` long, zero between uses.
    counts: Vec<u32>,
    bound: Vec<u32>,
}

const NONE: u32 = u32::MAX;

impl NgramTable {
    /// Forget the previous row.
    pub fn clear(&mut self) {
        self.units.clear();
        self.starts.clear();
        self.starts.push(0);
        self.order = 0;
    }

    /// Append one sequence.
    pub fn push(&mut self, units: impl IntoIterator<Item = u32>) {
        self.units.extend(units);
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

    /// Move to the next order (1 after [`Self::clear`]): give every n-gram its id.
    pub fn next_order(&mut self) {
        self.order += 1;
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

    /// Positions of sequence `k`'s units.
    fn span(&self, k: usize) -> std::ops::Range<usize> {
        self.starts[k]..self.starts[k + 1]
    }

    /// N-grams of the current order in sequence `k`.
    pub fn total(&self, k: usize) -> usize {
        (self.len(k) + 1).saturating_sub(self.order)
    }

    /// Clipped matches of sequence `hyp` against sequence `reference`: the sum over n-grams of
    /// `min(count in hyp, count in reference)`.
    pub fn matches(&mut self, hyp: usize, reference: usize) -> usize {
        let Self {
            ids, counts, bound, ..
        } = self;
        for &id in &ids[self.starts[hyp]..self.starts[hyp + 1]] {
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
        self.reset(self.span(hyp));
        self.reset(self.span(reference));
        matched
    }

    /// BLEU's clipped matches of sequence 0 against the references `1..`: the sum over the
    /// hypothesis n-grams of `min(count, max over references of the reference count)`.
    pub fn matches_max_over_references(&mut self) -> usize {
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

    /// Zero the counters of the n-grams at `positions`.
    fn reset(&mut self, positions: std::ops::Range<usize>) {
        for &id in &self.ids[positions] {
            if id != NONE {
                self.counts[id as usize] = 0;
                self.bound[id as usize] = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(seqs: &[&str]) -> NgramTable {
        let mut t = NgramTable::default();
        t.clear();
        for s in seqs {
            t.push(s.chars().map(u32::from));
        }
        t
    }

    #[test]
    fn clipped_counts_by_order() {
        let mut t = table(&["aaab", "aab", "ab"]);
        t.next_order();
        assert_eq!(t.matches(0, 1), 3); // a:min(3,2) + b:1
        assert_eq!(t.matches(0, 2), 2);
        assert_eq!(t.matches_max_over_references(), 3);
        t.next_order();
        // aa aa ab vs aa ab: 2; vs ab: 1
        assert_eq!(t.total(0), 3);
        assert_eq!(t.matches(0, 1), 2);
        assert_eq!(t.matches_max_over_references(), 2);
        t.next_order();
        t.next_order();
        assert_eq!((t.total(0), t.total(1), t.total(2)), (1, 0, 0));
        assert_eq!(t.matches_max_over_references(), 0);
        t.next_order();
        assert_eq!(t.total(0), 0);
    }

    #[test]
    fn same_prefix_different_ngrams() {
        let mut t = table(&["abc", "abd"]);
        for _ in 0..3 {
            t.next_order();
        }
        assert_eq!(t.matches(0, 1), 0);
    }
}
