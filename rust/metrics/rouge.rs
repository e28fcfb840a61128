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
}

impl Tokens {
    /// Tokenize `text` as `rouge-score` does and add it as the next side.
    fn push_text(&mut self, text: &str, stem: bool, lines: bool) {
        let first_token = self.spans.len();
        let first_line = self.line_ends.len();
        let mut start = self.bytes.len();
        for c in text.chars() {
            if c.is_ascii() {
                let b = (c as u8).to_ascii_lowercase();
                if b.is_ascii_lowercase() || b.is_ascii_digit() {
                    self.bytes.push(b);
                    continue;
                }
                self.close_token(&mut start, stem);
                if lines && b == b'\n' {
                    self.line_ends.push(self.spans.len());
                }
            } else {
                for lower in c.to_lowercase() {
                    if lower.is_ascii_lowercase() || lower.is_ascii_digit() {
                        self.bytes.push(lower as u8);
                    } else {
                        self.close_token(&mut start, stem);
                    }
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
            self.word.clear();
            self.word.extend_from_slice(&self.bytes[*start..]);
            porter::stem(&mut self.word);
            self.bytes.truncate(*start);
            self.bytes.extend_from_slice(&self.word);
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
    order: Vec<u32>,
    lcs: Lcs,
    /// n-gram starts of the prediction and of a reference, sorted by n-gram.
    prediction_grams: Vec<u32>,
    reference_grams: Vec<u32>,
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

    /// Number the distinct tokens of the row.
    fn intern(&mut self) {
        let Tokens { bytes, spans, .. } = &self.tokens;
        self.order.clear();
        self.order.extend(0..spans.len() as u32);
        self.order.sort_unstable_by(|&a, &b| {
            bytes[spans[a as usize].clone()].cmp(&bytes[spans[b as usize].clone()])
        });
        self.ids.clear();
        self.ids.resize(spans.len(), 0);
        let mut next = 0u32;
        let mut previous: Option<&[u8]> = None;
        for &k in &self.order {
            let token = &bytes[spans[k as usize].clone()];
            if previous.is_some_and(|p| p != token) {
                next += 1;
            }
            previous = Some(token);
            self.ids[k as usize] = next;
        }
        self.vocabulary = if spans.is_empty() {
            0
        } else {
            next as usize + 1
        };
    }

    /// The best F-measure over the row's references (`score_multi`).
    fn best_score(&mut self, variant: RougeVariant) -> f64 {
        let sides = self.tokens.sides.len();
        if let RougeVariant::NGram(n) = variant {
            let prediction = self.tokens.sides[0].clone();
            sorted_grams(&self.ids[prediction], n, &mut self.prediction_grams);
        }
        let mut best = f64::NEG_INFINITY;
        for k in 1..sides {
            let score = match variant {
                RougeVariant::NGram(n) => self.ngram_score(k, n),
                RougeVariant::Lcs => self.lcs_score(k),
                RougeVariant::LcsSum => self.lcs_sum_score(k),
            };
            best = best.max(score);
        }
        best
    }

    fn ngram_score(&mut self, reference: usize, n: usize) -> f64 {
        let p_ids = &self.ids[self.tokens.sides[0].clone()];
        let r_ids = &self.ids[self.tokens.sides[reference].clone()];
        sorted_grams(r_ids, n, &mut self.reference_grams);
        let (pg, rg) = (&self.prediction_grams, &self.reference_grams);
        let (mut i, mut j, mut shared) = (0, 0, 0usize);
        while i < pg.len() && j < rg.len() {
            let a = &p_ids[pg[i] as usize..pg[i] as usize + n];
            let b = &r_ids[rg[j] as usize..rg[j] as usize + n];
            match a.cmp(b) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    shared += 1;
                    i += 1;
                    j += 1;
                }
            }
        }
        let precision = shared as f64 / pg.len().max(1) as f64;
        let recall = shared as f64 / rg.len().max(1) as f64;
        fmeasure(precision, recall)
    }

    fn lcs_score(&mut self, reference: usize) -> f64 {
        let p_ids = &self.ids[self.tokens.sides[0].clone()];
        let r_ids = &self.ids[self.tokens.sides[reference].clone()];
        if p_ids.is_empty() || r_ids.is_empty() {
            return 0.0;
        }
        let length = self.lcs.length(p_ids, r_ids, self.vocabulary);
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
        let p_lines = lines(&t.line_ends[t.line_sides[0].clone()], p_side.start);
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
            for p_line in p_lines.clone() {
                let p_ids = &ids[p_line];
                if !p_ids.is_empty() {
                    self.lcs
                        .mark_one_lcs(r_ids, p_ids, self.vocabulary, &mut self.in_union);
                }
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

/// The starts of `ids`' n-grams, sorted by n-gram.
fn sorted_grams(ids: &[u32], n: usize, out: &mut Vec<u32>) {
    out.clear();
    if ids.len() >= n {
        out.extend(0..(ids.len() - n + 1) as u32);
    }
    out.sort_unstable_by(|&a, &b| {
        ids[a as usize..a as usize + n].cmp(&ids[b as usize..b as usize + n])
    });
}

/// `rouge-score`'s `scoring.fmeasure`, with its operations in its order.
fn fmeasure(precision: f64, recall: f64) -> f64 {
    if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    }
}

/// Buffers of the bit-parallel LCS: bit `j` of a row stands for column `j` (a token of the
/// "column" side).
#[derive(Default)]
struct Lcs {
    /// For each token id, its slot in `masks`, or `NO_SLOT` when the column side lacks it.
    slot: Vec<u32>,
    /// For each distinct column token, the columns holding it.
    masks: Vec<u64>,
    /// Rows of the table, `words` words each (row 0 first).
    rows: Vec<u64>,
}

const NO_SLOT: u32 = u32::MAX;

impl Lcs {
    /// Build the column masks of `columns`; returns the words per row.
    fn prepare(&mut self, columns: &[u32], vocabulary: usize) -> usize {
        let words = columns.len().div_ceil(64);
        self.slot.clear();
        self.slot.resize(vocabulary, NO_SLOT);
        self.masks.clear();
        for (j, &id) in columns.iter().enumerate() {
            let slot = &mut self.slot[id as usize];
            if *slot == NO_SLOT {
                *slot = (self.masks.len() / words) as u32;
                self.masks.resize(self.masks.len() + words, 0);
            }
            self.masks[*slot as usize * words + j / 64] |= 1 << (j % 64);
        }
        words
    }

    /// Advance `row` (all ones at the start) past the row token `id`.
    fn step(&self, row: &mut [u64], id: u32) {
        let slot = self.slot[id as usize];
        if slot == NO_SLOT {
            return; // no column matches: the row is unchanged
        }
        let words = row.len();
        let mask = &self.masks[slot as usize * words..(slot as usize + 1) * words];
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

    /// Length of the longest common subsequence of `a` and `b`.
    fn length(&mut self, a: &[u32], b: &[u32], vocabulary: usize) -> usize {
        let words = self.prepare(a, vocabulary);
        self.rows.clear();
        self.rows.resize(words, u64::MAX);
        let mut row = std::mem::take(&mut self.rows);
        for &id in b {
            self.step(&mut row, id);
        }
        let zeros = zeros_before(&row, a.len());
        self.rows = row;
        zeros
    }

    /// Mark, in `marks` (one per `reference` position), the reference positions of the LCS
    /// `rouge-score`'s `lcs_ind(reference, prediction)` reads back from its table.
    fn mark_one_lcs(
        &mut self,
        reference: &[u32],
        prediction: &[u32],
        vocabulary: usize,
        marks: &mut [bool],
    ) {
        // table rows are reference tokens, columns prediction tokens, as in rouge-score
        let words = self.prepare(prediction, vocabulary);
        self.rows.clear();
        self.rows.resize((reference.len() + 1) * words, u64::MAX);
        let mut rows = std::mem::take(&mut self.rows);
        for (i, &id) in reference.iter().enumerate() {
            let (done, next) = rows.split_at_mut((i + 1) * words);
            next[..words].copy_from_slice(&done[i * words..]);
            self.step(&mut next[..words], id);
        }
        // table[i][j]: the LCS of reference[..i] and prediction[..j]
        let table = |i: usize, j: usize| zeros_before(&rows[i * words..(i + 1) * words], j);
        let (mut i, mut j) = (reference.len(), prediction.len());
        while i > 0 && j > 0 {
            if reference[i - 1] == prediction[j - 1] {
                marks[i - 1] = true;
                i -= 1;
                j -= 1;
            } else if table(i, j - 1) > table(i - 1, j) {
                j -= 1;
            } else {
                i -= 1;
            }
        }
        self.rows = rows;
    }
}

/// Zero bits among the first `j` bits of `row`.
fn zeros_before(row: &[u64], j: usize) -> usize {
    let full = j / 64;
    let mut ones: usize = row[..full].iter().map(|w| w.count_ones() as usize).sum();
    if j % 64 > 0 {
        ones += (row[full] & ((1u64 << (j % 64)) - 1)).count_ones() as usize;
    }
    j - ones
}

#[cfg(test)]
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
        assert_eq!(lcs.length(&a, &b, 5), dp[b.len()][a.len()]);
        let words = lcs.prepare(&a, 5);
        let mut row = vec![u64::MAX; words];
        for (i, &id) in b.iter().enumerate() {
            lcs.step(&mut row, id);
            for j in 0..=a.len() {
                assert_eq!(zeros_before(&row, j), dp[i + 1][j]);
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
