//! `rouge`: Google's `rouge-score` F-measure (`RougeScorer([variant], use_stemmer)`), its
//! tokenizer included; the best reference of a row as its `score_multi` keeps it.
//!
//! The tokenizer lower-cases (Python's `str.lower`, so "İ" gives "i" and the Kelvin sign "k"),
//! turns every run of characters outside `[a-z0-9]` into a break and, with the stemmer, stems
//! the tokens longer than three characters with NLTK's Porter stemmer ([`super::porter`]).
//!
//! - `rouge1`, `rouge2`: shared n-grams counted with repeats; precision over the prediction's
//!   n-grams, recall over the reference's (each at least 1).
//! - `rougeL`: the longest common subsequence of the two token lists; 0 when a side is empty.
//! - `rougeLsum`: sentences are the lines of the text (`text.split("\n")`); each reference
//!   sentence takes the union of one LCS with every prediction sentence, the LCS `rouge-score`
//!   reads back from its table (the same ties broken the same way), and each token of the union
//!   counts once while both sides still have an unused copy of it.
//!
//! LCS lengths come from the bit-parallel algorithm (Allison and Dix 1986, in Hyyrö's form):
//! one machine word holds 64 columns of the table, and a row of the table is read back from its
//! bits (a zero bit is a column where the row's LCS grows), so rows of 10,000 words need
//! megabytes, not the gigabytes of a table of integers.

use std::ops::Range;

use arrow_array::types::Float64Type;
use arrow_array::ArrayRef;
use rustc_hash::FxHashMap;

use super::ngrams::{Interner, NgramTable, UnigramCounts};
use super::pairs::{over_sequence_pairs, PairColumns, SequencePairs};
use super::porter;
use super::{primitive_array, RowScores};
use crate::error::{RescoreError, RescoreResult};
use crate::parallel::{map_rows, OnError, Workers};

/// Which ROUGE score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RougeVariant {
    /// Shared n-grams of this length (`rouge1`, `rouge2`).
    NGram(usize),
    /// Longest common subsequence of the whole texts.
    Lcs,
    /// Summary-level LCS over the texts' lines.
    LcsSum,
}

impl RougeVariant {
    /// Parse the Python option (`rouge1`, `rouge2`, `rougeL`, `rougeLsum`).
    pub fn parse(name: &str) -> RescoreResult<Self> {
        match name {
            "rouge1" => Ok(Self::NGram(1)),
            "rouge2" => Ok(Self::NGram(2)),
            "rougeL" => Ok(Self::Lcs),
            "rougeLsum" => Ok(Self::LcsSum),
            other => Err(RescoreError::InvalidOption {
                option: "variant",
                message: format!(
                    "got {other:?}, expected \"rouge1\", \"rouge2\", \"rougeL\" or \"rougeLsum\""
                ),
            }),
        }
    }
}

/// Options of [`rouge`].
#[derive(Debug, Clone, Copy)]
pub struct RougeOptions {
    /// The score.
    pub variant: RougeVariant,
    /// Stem tokens longer than three characters with NLTK's Porter stemmer.
    pub use_stemmer: bool,
    /// Threads.
    pub workers: Workers,
    /// Rows that cannot be scored: raise or null.
    pub on_error: OnError,
}

impl Default for RougeOptions {
    fn default() -> Self {
        Self {
            variant: RougeVariant::Lcs,
            use_stemmer: false,
            workers: Workers::All,
            on_error: OnError::Raise,
        }
    }
}

/// ROUGE F-measure per row, the best over the row's references.
pub fn rouge(
    predictions: &[ArrayRef],
    references: &[ArrayRef],
    options: RougeOptions,
) -> RescoreResult<ArrayRef> {
    let scores = over_sequence_pairs(predictions, references, |pairs| {
        score_piece(pairs, &options)
    })?;
    Ok(primitive_array::<Float64Type>(scores))
}

fn score_piece(pairs: &SequencePairs<'_>, options: &RougeOptions) -> RescoreResult<RowScores<f64>> {
    let PairColumns::Text {
        predictions,
        references,
    } = pairs.columns()
    else {
        return Err(RescoreError::UnsupportedType {
            argument: "predictions",
            dtype: "list of token ids".into(),
            expected: "strings (utf8, large_utf8, utf8_view): ROUGE tokenizes text",
        });
    };
    let lines = options.variant == RougeVariant::LcsSum;
    map_rows(
        pairs.len(),
        options.workers,
        options.on_error,
        |s: &mut Scratch, row| {
            let Some(positions) = pairs.references(row) else {
                return Ok(None);
            };
            s.clear();
            s.tokens
                .push_text(predictions.value(row), options.use_stemmer, lines);
            for j in positions {
                s.tokens
                    .push_text(references.value(j), options.use_stemmer, lines);
            }
            if s.tokens.sides.len() == 1 {
                return Ok(None); // no non-null reference
            }
            s.intern();
            Ok(Some(s.best_score(options.variant)))
        },
    )
}

/// The tokens of one row: the prediction first, then each reference.
#[derive(Default)]
struct Tokens {
    /// Token bytes, one after the other.
    bytes: Vec<u8>,
    /// Each token's bytes.
    spans: Vec<Range<usize>>,
    /// Each side's tokens (indices into `spans`).
    sides: Vec<Range<usize>>,
    /// Where each side's lines end (indices into `spans`), for `rougeLsum`: side `k`'s lines
    /// are `line_ends[line_sides[k]]`.
    line_ends: Vec<usize>,
    line_sides: Vec<Range<usize>>,
    /// A word being stemmed.
    word: Vec<u8>,
    /// Stems already computed (words repeat: most tokens of a text are common words).
    stems: FxHashMap<Box<[u8]>, Box<[u8]>>,
}

/// Whether an ASCII byte belongs in a token (a letter or digit); the rest are breaks.
static ASCII_TOKEN_BYTE: [bool; 128] = {
    let mut table = [false; 128];
    let mut b = 0;
    while b < 128 {
        table[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    table
};

/// Words whose stems a thread remembers (a few megabytes at most).
const STEM_CACHE: usize = 1 << 16;

impl Tokens {
    /// Tokenize `text` as `rouge-score` does and add it as the next side.
    fn push_text(&mut self, text: &str, stem: bool, lines: bool) {
        let first_token = self.spans.len();
        let first_line = self.line_ends.len();
        let mut start = self.bytes.len();
        let raw = text.as_bytes();
        let ascii = text.is_ascii();
        if ascii {
            // runs of letters and digits, found by a table and copied lower-cased at once
            let breaks = |c: &u8| !ASCII_TOKEN_BYTE[usize::from(*c)];
            let mut at = 0;
            while at < raw.len() {
                let b = raw[at];
                if breaks(&b) {
                    if lines && b == b'\n' {
                        self.line_ends.push(self.spans.len());
                    }
                    at += 1;
                    continue;
                }
                let end = raw[at..]
                    .iter()
                    .position(breaks)
                    .map_or(raw.len(), |k| at + k);
                self.bytes
                    .extend(raw[at..end].iter().map(u8::to_ascii_lowercase));
                self.close_token(&mut start, stem);
                at = end;
            }
        }
        let mut at = if ascii { raw.len() } else { 0 };
        while at < raw.len() {
            let b = raw[at];
            if b.is_ascii_alphanumeric() {
                // a run of ASCII letters and digits, copied at once
                let end = raw[at..]
                    .iter()
                    .position(|c| !c.is_ascii_alphanumeric())
                    .map_or(raw.len(), |k| at + k);
                self.bytes
                    .extend(raw[at..end].iter().map(u8::to_ascii_lowercase));
                at = end;
                continue;
            }
            if b.is_ascii() {
                at += 1;
                self.close_token(&mut start, stem);
                if lines && b == b'\n' {
                    self.line_ends.push(self.spans.len());
                }
                continue;
            }
            // `at` is on a character boundary: only whole characters are stepped over
            let c = text[at..].chars().next().expect("a character starts here");
            at += c.len_utf8();
            for lower in c.to_lowercase() {
                if lower.is_ascii_lowercase() || lower.is_ascii_digit() {
                    self.bytes.push(lower as u8);
                } else {
                    self.close_token(&mut start, stem);
                }
            }
        }
        self.close_token(&mut start, stem);
        if lines {
            self.line_ends.push(self.spans.len());
            self.line_sides.push(first_line..self.line_ends.len());
        }
        self.sides.push(first_token..self.spans.len());
    }

    /// End the token that began at `start`, stemming it when asked.
    fn close_token(&mut self, start: &mut usize, stem: bool) {
        let end = self.bytes.len();
        if end == *start {
            return;
        }
        // rouge-score stems only the tokens longer than three characters
        if stem && end - *start > 3 {
            if let Some(stemmed) = self.stems.get(&self.bytes[*start..]) {
                self.bytes.truncate(*start);
                self.bytes.extend_from_slice(stemmed);
            } else {
                self.word.clear();
                self.word.extend_from_slice(&self.bytes[*start..]);
                porter::stem(&mut self.word);
                if self.stems.len() < STEM_CACHE {
                    let key: Box<[u8]> = self.bytes[*start..].into();
                    self.stems.insert(key, self.word.as_slice().into());
                }
                self.bytes.truncate(*start);
                self.bytes.extend_from_slice(&self.word);
            }
        }
        if self.bytes.len() > *start {
            self.spans.push(*start..self.bytes.len());
        }
        *start = self.bytes.len();
    }
}

/// Per-thread buffers, reused across rows.
#[derive(Default)]
struct Scratch {
    tokens: Tokens,
    /// Each token's id: equal tokens, equal ids; ids are `0..vocabulary`.
    ids: Vec<u32>,
    vocabulary: usize,
    interner: Interner,
    /// The prediction's token counts (rouge1), by id.
    unigrams: UnigramCounts,
    /// The row's n-grams (rouge2).
    grams: NgramTable,
    /// The prediction's columns, for rougeL.
    lcs: Lcs,
    /// The prediction's lines as columns, for rougeLsum.
    lines: LcsLines,
    /// Unused copies of each token (rougeLsum).
    prediction_left: Vec<u32>,
    reference_left: Vec<u32>,
    /// Reference positions in the union of LCSs (rougeLsum).
    in_union: Vec<bool>,
}

impl Scratch {
    fn clear(&mut self) {
        let t = &mut self.tokens;
        t.bytes.clear();
        t.spans.clear();
        t.sides.clear();
        t.line_ends.clear();
        t.line_sides.clear();
    }

    /// Number the distinct tokens of the row (in order of first appearance).
    fn intern(&mut self) {
        let Tokens { bytes, spans, .. } = &self.tokens;
        self.vocabulary = self.interner.intern(bytes, spans, &mut self.ids);
    }

    /// The best F-measure over the row's references (`score_multi`).
    fn best_score(&mut self, variant: RougeVariant) -> f64 {
        let sides = self.tokens.sides.len();
        let prediction = self.tokens.sides[0].clone();
        match variant {
            RougeVariant::NGram(1) => {
                self.unigrams
                    .set_hypothesis(&self.ids[prediction], self.vocabulary);
            }
            RougeVariant::NGram(n) => {
                self.grams.clear(n);
                for side in &self.tokens.sides {
                    self.grams.push(self.ids[side.clone()].iter().copied());
                }
                (0..n).for_each(|_| self.grams.next_order());
            }
            RougeVariant::Lcs => self.lcs.prepare(&self.ids[prediction], self.vocabulary),
            RougeVariant::LcsSum => {
                let t = &self.tokens;
                let ends = &t.line_ends[t.line_sides[0].clone()];
                self.lines.prepare(&self.ids, lines(ends, prediction.start));
            }
        }
        let mut best = f64::NEG_INFINITY;
        for k in 1..sides {
            let score = match variant {
                RougeVariant::NGram(n) => self.ngram_score(n, k),
                RougeVariant::Lcs => self.lcs_score(k),
                RougeVariant::LcsSum => self.lcs_sum_score(k),
            };
            best = best.max(score);
        }
        best
    }

    /// `rouge-score`'s `_score_ngrams`: shared n-grams counted with repeats.
    fn ngram_score(&mut self, n: usize, reference: usize) -> f64 {
        let (shared, predicted, referenced) = if n == 1 {
            let sides = &self.tokens.sides;
            let r_ids = &self.ids[sides[reference].clone()];
            (self.unigrams.matches(r_ids), sides[0].len(), r_ids.len())
        } else {
            let shared = self.grams.matches(reference);
            (shared, self.grams.total(0), self.grams.total(reference))
        };
        let precision = shared as f64 / predicted.max(1) as f64;
        let recall = shared as f64 / referenced.max(1) as f64;
        fmeasure(precision, recall)
    }

    fn lcs_score(&mut self, reference: usize) -> f64 {
        let p_ids = &self.ids[self.tokens.sides[0].clone()];
        let r_ids = &self.ids[self.tokens.sides[reference].clone()];
        if p_ids.is_empty() || r_ids.is_empty() {
            return 0.0;
        }
        let length = self.lcs.length(r_ids);
        let precision = length as f64 / p_ids.len() as f64;
        let recall = length as f64 / r_ids.len() as f64;
        fmeasure(precision, recall)
    }

    /// `rouge-score`'s `_summary_level_lcs(reference lines, prediction lines)`.
    fn lcs_sum_score(&mut self, reference: usize) -> f64 {
        let t = &self.tokens;
        let (p_side, r_side) = (t.sides[0].clone(), t.sides[reference].clone());
        let (n, m) = (p_side.len(), r_side.len());
        if n == 0 || m == 0 {
            return 0.0;
        }
        let ids = &self.ids;
        let r_lines = lines(&t.line_ends[t.line_sides[reference].clone()], r_side.start);
        self.prediction_left.clear();
        self.prediction_left.resize(self.vocabulary, 0);
        self.reference_left.clear();
        self.reference_left.resize(self.vocabulary, 0);
        for &id in &ids[p_side] {
            self.prediction_left[id as usize] += 1;
        }
        for &id in &ids[r_side] {
            self.reference_left[id as usize] += 1;
        }
        let mut hits = 0usize;
        for r_line in r_lines {
            let r_ids = &ids[r_line];
            if r_ids.is_empty() {
                continue;
            }
            self.in_union.clear();
            self.in_union.resize(r_ids.len(), false);
            for line in 0..self.lines.len() {
                self.lines
                    .mark_one_lcs(line, r_ids, ids, &mut self.in_union);
            }
            for (pos, _) in self.in_union.iter().enumerate().filter(|(_, &u)| u) {
                let id = r_ids[pos] as usize;
                if self.prediction_left[id] > 0 && self.reference_left[id] > 0 {
                    hits += 1;
                    self.prediction_left[id] -= 1;
                    self.reference_left[id] -= 1;
                }
            }
        }
        let recall = hits as f64 / m as f64;
        let precision = hits as f64 / n as f64;
        fmeasure(precision, recall)
    }
}

/// A side's lines as token ranges, from its line ends (the last one is the side's end).
fn lines(ends: &[usize], first: usize) -> impl Iterator<Item = Range<usize>> + Clone + '_ {
    let mut start = first;
    ends.iter().map(move |&end| {
        let line = start..end;
        start = end;
        line
    })
}

/// `rouge-score`'s `scoring.fmeasure`, with its operations in its order.
fn fmeasure(precision: f64, recall: f64) -> f64 {
    if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    }
}

/// Advance a table row (all ones for row 0) past a row token whose columns are `mask`:
/// `row = (row + u) | (row - u)` with `u = row & mask`, over as many words as the row has.
fn step(row: &mut [u64], mask: &[u64]) {
    let mut carry = false;
    for (v, &m) in row.iter_mut().zip(mask) {
        let u = *v & m;
        let (sum, c1) = v.overflowing_add(u);
        let (sum, c2) = sum.overflowing_add(u64::from(carry));
        carry = c1 || c2;
        // u is a subset of v, so v - u = v ^ u
        *v = sum | (*v ^ u);
    }
}

/// Zero bits among the first `j` bits of `row`: the table's value at column `j`.
fn zeros_before(row: &[u64], j: usize) -> usize {
    let full = j / 64;
    let mut ones: usize = row[..full].iter().map(|w| w.count_ones() as usize).sum();
    if j % 64 > 0 {
        ones += (row[full] & ((1u64 << (j % 64)) - 1)).count_ones() as usize;
    }
    j - ones
}

/// Whether the table grows at column `j` (0-based) of `row`: a zero bit.
fn grows_at(row: &[u64], j: usize) -> usize {
    usize::from((row[j / 64] >> (j % 64)) & 1 == 0)
}

/// The prediction as the columns of a bit-parallel LCS table (rougeL): for each token id, the
/// columns holding it. Prepared once per row, used for each reference.
#[derive(Default)]
struct Lcs {
    /// For each token id, its slot in `masks`, or `NO_SLOT` when the prediction lacks it.
    slot: Vec<u32>,
    masks: Vec<u64>,
    columns: usize,
    words: usize,
    row: Vec<u64>,
}

const NO_SLOT: u32 = u32::MAX;

impl Lcs {
    fn prepare(&mut self, columns: &[u32], vocabulary: usize) {
        self.words = columns.len().div_ceil(64);
        self.columns = columns.len();
        self.slot.clear();
        self.slot.resize(vocabulary, NO_SLOT);
        self.masks.clear();
        for (j, &id) in columns.iter().enumerate() {
            let slot = &mut self.slot[id as usize];
            if *slot == NO_SLOT {
                *slot = (self.masks.len() / self.words) as u32;
                self.masks.resize(self.masks.len() + self.words, 0);
            }
            self.masks[*slot as usize * self.words + j / 64] |= 1 << (j % 64);
        }
    }

    /// Length of the longest common subsequence of the prepared columns and `rows`.
    fn length(&mut self, rows: &[u32]) -> usize {
        let words = self.words;
        self.row.clear();
        self.row.resize(words, u64::MAX);
        for &id in rows {
            let slot = self.slot[id as usize];
            if slot != NO_SLOT {
                let at = slot as usize * words;
                step(&mut self.row, &self.masks[at..at + words]);
            }
        }
        zeros_before(&self.row, self.columns)
    }
}

/// One prediction line as columns: its tokens, words per table row, and its distinct ids
/// (sorted) with their masks.
struct Line {
    tokens: Range<usize>,
    words: usize,
    keys: Range<usize>,
    masks: usize,
}

/// The prediction's lines as columns of bit-parallel LCS tables (rougeLsum), prepared once per
/// row: a reference line is compared with each of them.
#[derive(Default)]
struct LcsLines {
    lines: Vec<Line>,
    /// (token id, column), then per line sorted and reduced to (token id, mask slot).
    keys: Vec<(u32, u32)>,
    masks: Vec<u64>,
    /// Table rows of the last comparison, `words` words each (row 0 first).
    rows: Vec<u64>,
}

impl LcsLines {
    fn len(&self) -> usize {
        self.lines.len()
    }

    /// Prepare the lines (token ranges into `ids`) that have tokens.
    fn prepare(&mut self, ids: &[u32], lines: impl Iterator<Item = Range<usize>>) {
        self.lines.clear();
        self.keys.clear();
        self.masks.clear();
        for tokens in lines.filter(|t| !t.is_empty()) {
            let words = tokens.len().div_ceil(64);
            let first = self.keys.len();
            self.keys.extend(
                ids[tokens.clone()]
                    .iter()
                    .zip(0u32..)
                    .map(|(&id, j)| (id, j)),
            );
            self.keys[first..].sort_unstable();
            let masks = self.masks.len();
            let mut kept = first;
            for k in first..self.keys.len() {
                let (id, column) = self.keys[k];
                if kept == first || self.keys[kept - 1].0 != id {
                    let slot = (self.masks.len() - masks) / words;
                    self.masks.resize(self.masks.len() + words, 0);
                    self.keys[kept] = (id, slot as u32);
                    kept += 1;
                }
                let slot = self.keys[kept - 1].1 as usize;
                let column = column as usize;
                self.masks[masks + slot * words + column / 64] |= 1 << (column % 64);
            }
            self.keys.truncate(kept);
            self.lines.push(Line {
                tokens,
                words,
                keys: first..kept,
                masks,
            });
        }
    }

    /// Mark, in `marks` (one per `reference` position), the reference positions of the LCS of
    /// `reference` and prediction line `line` that `rouge-score`'s `lcs_ind` reads back from its
    /// table (rows: reference tokens, columns: the line's tokens).
    fn mark_one_lcs(&mut self, line: usize, reference: &[u32], ids: &[u32], marks: &mut [bool]) {
        let Line {
            tokens,
            words,
            keys,
            masks,
        } = &self.lines[line];
        let (words, prediction) = (*words, &ids[tokens.clone()]);
        let keys = &self.keys[keys.clone()];
        self.rows.clear();
        self.rows.resize((reference.len() + 1) * words, u64::MAX);
        for (i, &id) in reference.iter().enumerate() {
            let (done, next) = self.rows.split_at_mut((i + 1) * words);
            let next = &mut next[..words];
            next.copy_from_slice(&done[i * words..]);
            if let Ok(k) = keys.binary_search_by_key(&id, |&(key, _)| key) {
                let at = masks + keys[k].1 as usize * words;
                step(next, &self.masks[at..at + words]);
            }
        }
        let row = |i: usize| &self.rows[i * words..(i + 1) * words];
        // Walk back from the table's corner as rouge-score's _backtrack_norec does, keeping
        // here = table[i][j] and up = table[i - 1][j] as it goes (a popcount per row change).
        let (mut i, mut j) = (reference.len(), prediction.len());
        let mut here = zeros_before(row(i), j);
        let mut up = zeros_before(row(i - 1), j);
        while i > 0 && j > 0 {
            if reference[i - 1] == prediction[j - 1] {
                marks[i - 1] = true;
                here = up - grows_at(row(i - 1), j - 1);
                i -= 1;
                j -= 1;
                if i > 0 {
                    up = zeros_before(row(i - 1), j);
                }
            } else {
                let left = here - grows_at(row(i), j - 1);
                if left > up {
                    here = left;
                    up -= grows_at(row(i - 1), j - 1);
                    j -= 1;
                } else {
                    here = up;
                    i -= 1;
                    if i > 0 {
                        up = zeros_before(row(i - 1), j);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact scores: 0 and 1 are exact in floating point
mod tests {
    use std::sync::Arc;

    use arrow_array::cast::AsArray;
    use arrow_array::{Array, StringArray};

    use super::*;

    fn score(variant: &str, stem: bool, p: &str, r: &str) -> f64 {
        let p: ArrayRef = Arc::new(StringArray::from(vec![p]));
        let r: ArrayRef = Arc::new(StringArray::from(vec![r]));
        let options = RougeOptions {
            variant: RougeVariant::parse(variant).unwrap(),
            use_stemmer: stem,
            ..RougeOptions::default()
        };
        let out = rouge(&[p], &[r], options).unwrap();
        out.as_primitive::<Float64Type>().value(0)
    }

    #[test]
    fn rouge_score_examples() {
        // rouge-score's docstring example: the target first in its call, the prediction second.
        let target = "The quick brown fox jumps over the lazy dog";
        let prediction = "The quick brown dog jumps on the log.";
        // 6 shared unigrams (the x2, quick, brown, dog, jumps) of 8 predicted and 9 target
        let (p, r) = (6.0 / 8.0, 6.0 / 9.0);
        assert!((score("rouge1", false, prediction, target) - 2.0 * p * r / (p + r)).abs() < 1e-15);
        // LCS: the quick brown jumps the = 5
        let (p, r) = (5.0 / 8.0, 5.0 / 9.0);
        assert!((score("rougeL", false, prediction, target) - 2.0 * p * r / (p + r)).abs() < 1e-15);
        assert_eq!(score("rouge2", false, "", ""), 0.0);
        assert_eq!(score("rougeL", false, "a b", "a b"), 1.0);
    }

    #[test]
    fn tokens_are_lowercase_ascii_alphanumeric_runs() {
        // the Kelvin sign lowers to "k"; "İ" to "i" and a combining dot (a break)
        assert_eq!(score("rouge1", false, "\u{212a}it", "kit"), 1.0);
        assert_eq!(score("rouge1", false, "\u{130}t", "i t"), 1.0);
        assert_eq!(score("rouge1", false, "don't", "don t"), 1.0);
        assert_eq!(score("rouge1", false, "über", "ber"), 1.0);
        assert_eq!(score("rouge1", true, "dying skies", "die sky"), 1.0);
        assert_eq!(score("rouge1", true, "running", "run"), 1.0);
        assert_eq!(score("rouge1", false, "running", "run"), 0.0);
    }

    #[test]
    fn lines_matter_only_to_rouge_lsum() {
        let p = "a b\nc d";
        let r = "c d\na b";
        assert!(score("rougeL", false, p, r) < 1.0);
        assert_eq!(score("rougeLsum", false, p, r), 1.0);
    }

    #[test]
    fn bit_rows_match_the_integer_table() {
        // table values read from the bit rows equal the usual dynamic programme, across words
        let a: Vec<u32> = (0..150).map(|k| (k * 7 % 5) as u32).collect();
        let b: Vec<u32> = (0..130).map(|k| (k * 3 % 4) as u32).collect();
        let mut dp = vec![vec![0usize; a.len() + 1]; b.len() + 1];
        for i in 1..=b.len() {
            for j in 1..=a.len() {
                dp[i][j] = if b[i - 1] == a[j - 1] {
                    dp[i - 1][j - 1] + 1
                } else {
                    dp[i - 1][j].max(dp[i][j - 1])
                };
            }
        }
        let mut lcs = Lcs::default();
        lcs.prepare(&a, 5);
        assert_eq!(lcs.length(&b), dp[b.len()][a.len()]);
        let mut row = vec![u64::MAX; lcs.words];
        for (i, &id) in b.iter().enumerate() {
            let at = lcs.slot[id as usize] as usize * lcs.words;
            step(&mut row, &lcs.masks[at..at + lcs.words]);
            for (j, &value) in dp[i + 1].iter().enumerate() {
                assert_eq!(zeros_before(&row, j), value);
            }
        }
    }

    #[test]
    fn nulls_and_empty_reference_lists_give_null() {
        let p: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), None]));
        let r: ArrayRef = Arc::new(StringArray::from(vec![None, Some("a")]));
        let out = rouge(&[p], &[r], RougeOptions::default()).unwrap();
        assert_eq!(out.null_count(), 2);
    }
}
