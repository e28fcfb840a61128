//! `chrf`: sacrebleu's sentence chrF / chrF++ (`sacrebleu.metrics.CHRF(...).sentence_score`,
//! 0-100, no epsilon smoothing), and the per-row statistics from which corpus chrF is computed.
//! Character n-grams are over code points (whitespace removed unless `whitespace`); word
//! n-grams (chrF++) over sacrebleu's `_remove_punctuation` words.

use std::cell::RefCell;

use arrow_array::types::Float64Type;
use arrow_array::ArrayRef;

use super::bleu::struct_of_rows;
use super::ngrams::{Interner, NgramTable};
use super::pairs::{over_sequence_pairs, PairColumns, SequencePairs};
use super::{primitive_array, RowScores};
use rustc_hash::FxHashMap;

use crate::error::{RescoreError, RescoreResult};
use crate::parallel::{map_rows, map_rows_wide, OnError, Workers};
use crate::text::{is_ascii_python_space, is_python_space, python_lower_into, python_split};

/// The options of sacrebleu's `CHRF` rescore exposes.
#[derive(Debug, Clone, Copy)]
pub struct ChrfOptions {
    /// Character n-gram orders 1..=`char_order`.
    pub char_order: usize,
    /// Word n-gram orders 1..=`word_order` (2: chrF++).
    pub word_order: usize,
    /// Recall weight: F-beta.
    pub beta: u32,
    /// Lower-case both sides first (Python's `str.lower`).
    pub lowercase: bool,
    /// Keep whitespace in character n-grams.
    pub whitespace: bool,
    /// Threads.
    pub workers: Workers,
    /// Rows that cannot be scored: raise or null.
    pub on_error: OnError,
}

impl ChrfOptions {
    /// Options with sacrebleu's defaults but the given orders and beta, checked.
    pub fn new(char_order: i64, word_order: i64, beta: i64) -> RescoreResult<Self> {
        if char_order < 1 {
            return Err(RescoreError::InvalidOption {
                option: "char_order",
                message: format!("got {char_order}, expected a positive n-gram order"),
            });
        }
        if word_order < 0 {
            return Err(RescoreError::InvalidOption {
                option: "word_order",
                message: format!(
                    "got {word_order}, expected 0 (chrF) or a positive order (2: chrF++)"
                ),
            });
        }
        if beta <= 0 || beta > i64::from(u16::MAX) {
            return Err(RescoreError::InvalidOption {
                option: "beta",
                message: format!("got {beta}, expected a positive integer"),
            });
        }
        Ok(Self {
            char_order: char_order as usize,
            word_order: word_order as usize,
            beta: beta as u32,
            lowercase: false,
            whitespace: false,
            workers: Workers::All,
            on_error: OnError::Raise,
        })
    }

    /// Statistics per row: (hypothesis n-grams, reference n-grams, matches) per order,
    /// character orders first.
    pub fn width(&self) -> usize {
        3 * (self.char_order + self.word_order)
    }
}

/// sacrebleu's `CHRF._PUNCTS`: Python's `string.punctuation`.
fn is_punct(c: char) -> bool {
    c.is_ascii_punctuation()
}

/// Per-thread buffers.
#[derive(Default)]
struct Scratch {
    lowered: String,
    chars: NgramTable,
    /// Characters outside ASCII numbered from 128 in order of first occurrence in the row, so
    /// that character n-grams pack into 64 bits ([`NgramTable`]).
    wide_chars: FxHashMap<char, u32>,
    units: Vec<u32>,
    words: NgramTable,
    /// Word tokens of every sequence, their sequence lengths and ids.
    text: String,
    spans: Vec<std::ops::Range<usize>>,
    lengths: Vec<usize>,
    ids: Vec<u32>,
    interner: Interner,
    /// Statistics per reference, `width` each.
    stats: Vec<f64>,
}

impl Scratch {
    /// Add one sequence (the hypothesis first, then each reference).
    fn push(&mut self, line: &str, options: &ChrfOptions) {
        let line = if options.lowercase {
            python_lower_into(line, &mut self.lowered)
        } else {
            line
        };
        // ASCII characters are their own code (0-127), others numbered from 128 per row
        self.units.clear();
        let keep_spaces = options.whitespace;
        if line.is_ascii() {
            self.units.extend(
                line.bytes()
                    .filter(|&b| keep_spaces || !is_ascii_python_space(b))
                    .map(u32::from),
            );
        } else {
            for c in line.chars() {
                if c.is_ascii() {
                    if keep_spaces || !is_ascii_python_space(c as u8) {
                        self.units.push(u32::from(c));
                    }
                } else if keep_spaces || !is_python_space(c) {
                    let next = 128 + self.wide_chars.len() as u32;
                    self.units.push(*self.wide_chars.entry(c).or_insert(next));
                }
            }
        }
        self.chars.push(self.units.iter().copied());
        if options.word_order > 0 {
            let before = self.spans.len();
            for w in python_split(line) {
                let mut pieces = [w, ""];
                let mut chars = w.chars();
                let (first, last) = (chars.next(), chars.next_back());
                if let (Some(first), Some(last)) = (first, last) {
                    if is_punct(last) {
                        let cut = w.len() - last.len_utf8();
                        pieces = [&w[..cut], &w[cut..]];
                    } else if is_punct(first) {
                        let cut = first.len_utf8();
                        pieces = [&w[..cut], &w[cut..]];
                    }
                }
                for piece in pieces.into_iter().filter(|p| !p.is_empty()) {
                    let start = self.text.len();
                    self.text.push_str(piece);
                    self.spans.push(start..self.text.len());
                }
            }
            self.lengths.push(self.spans.len() - before);
        }
    }

    fn clear(&mut self, options: &ChrfOptions) {
        self.chars.clear(options.char_order);
        self.words.clear(options.word_order);
        self.wide_chars.clear();
        self.text.clear();
        self.spans.clear();
        self.lengths.clear();
    }

    /// Fill `self.stats` for `references` references; return the best reference's statistics
    /// start (sacrebleu: the first with the highest F).
    fn statistics(&mut self, references: usize, options: &ChrfOptions) -> usize {
        let width = options.width();
        self.stats.clear();
        self.stats.resize(width * references, 0.0);
        for n in 0..options.char_order {
            self.chars.next_order();
            order_statistics(&mut self.chars, &mut self.stats, width, n);
        }
        if options.word_order > 0 {
            let Self {
                words,
                ids,
                lengths,
                text,
                spans,
                interner,
                ..
            } = self;
            interner.intern(text.as_bytes(), spans, ids);
            let mut at = 0;
            for &len in lengths.iter() {
                words.push(ids[at..at + len].iter().copied());
                at += len;
            }
            for n in 0..options.word_order {
                self.words.next_order();
                order_statistics(
                    &mut self.words,
                    &mut self.stats,
                    width,
                    options.char_order + n,
                );
            }
        }
        let mut best = (0, -1.0);
        for k in 0..references {
            let f = chrf_from_statistics(&self.stats[k * width..(k + 1) * width], options.beta);
            if f > best.1 {
                best = (k, f);
            }
        }
        best.0 * width
    }
}

/// sacrebleu's `_get_match_statistics` at one order for every reference (sequences 1..).
fn order_statistics(table: &mut NgramTable, stats: &mut [f64], width: usize, order: usize) {
    for k in 1..table.sequences() {
        let reference = table.total(k);
        let hyp = if reference > 0 { table.total(0) } else { 0 };
        let matched = table.matches(k);
        let at = (k - 1) * width + 3 * order;
        stats[at] = hyp as f64;
        stats[at + 1] = reference as f64;
        stats[at + 2] = matched as f64;
    }
}

/// sacrebleu's `CHRF._compute_f_score` (no epsilon smoothing) from (summed) statistics: 0-100.
pub fn chrf_from_statistics(stats: &[f64], beta: u32) -> f64 {
    let eps = 1e-16;
    let factor = f64::from(beta * beta);
    let (mut avg_prec, mut avg_rec, mut effective) = (0.0, 0.0, 0);
    for s in stats.chunks_exact(3) {
        let (n_hyp, n_ref, n_match) = (s[0], s[1], s[2]);
        let prec = if n_hyp > 0.0 { n_match / n_hyp } else { eps };
        let rec = if n_ref > 0.0 { n_match / n_ref } else { eps };
        if n_hyp > 0.0 && n_ref > 0.0 {
            avg_prec += prec;
            avg_rec += rec;
            effective += 1;
        }
    }
    if effective == 0 {
        avg_prec = 0.0;
        avg_rec = 0.0;
    } else {
        avg_prec /= f64::from(effective);
        avg_rec /= f64::from(effective);
    }
    if avg_prec + avg_rec == 0.0 {
        return 0.0;
    }
    let mut score = (1.0 + factor) * avg_prec * avg_rec;
    score /= (factor * avg_prec) + avg_rec;
    100.0 * score
}

/// Load a row into the scratch; the number of references, or `None` for a null row.
fn over_rows<T, F>(
    predictions: &[ArrayRef],
    references: &[ArrayRef],
    options: &ChrfOptions,
    per_piece: F,
) -> RescoreResult<RowScores<T>>
where
    T: Copy + Default,
    F: Fn(
        &SequencePairs<'_>,
        &(dyn Fn(&mut Scratch, usize) -> Option<usize> + Sync),
    ) -> RescoreResult<RowScores<T>>,
{
    over_sequence_pairs(predictions, references, |pairs| {
        let PairColumns::Text {
            predictions: preds,
            references: refs,
        } = pairs.columns()
        else {
            return Err(RescoreError::UnsupportedType {
                argument: "predictions",
                dtype: "list of token ids".into(),
                expected: "strings (utf8, large_utf8, utf8_view): chrF reads characters",
            });
        };
        let load = |s: &mut Scratch, row: usize| -> Option<usize> {
            let positions = pairs.references(row)?;
            s.clear(options);
            s.push(preds.value(row), options);
            let mut n = 0;
            for j in positions {
                s.push(refs.value(j), options);
                n += 1;
            }
            (n > 0).then_some(n)
        };
        per_piece(pairs, &load)
    })
}

/// Sentence chrF per row, the best reference's, 0-100.
pub fn chrf(
    predictions: &[ArrayRef],
    references: &[ArrayRef],
    options: &ChrfOptions,
) -> RescoreResult<ArrayRef> {
    let width = options.width();
    let scores = over_rows(predictions, references, options, |pairs, load| {
        map_rows(
            pairs.len(),
            options.workers,
            options.on_error,
            |s: &mut Scratch, row| {
                let Some(n) = load(s, row) else {
                    return Ok(None);
                };
                let best = s.statistics(n, options);
                Ok(Some(chrf_from_statistics(
                    &s.stats[best..best + width],
                    options.beta,
                )))
            },
        )
    })?;
    Ok(primitive_array::<Float64Type>(scores))
}

/// Names of the statistics of [`chrf_statistics`], in order.
pub fn chrf_fields(options: &ChrfOptions) -> Vec<String> {
    let mut names = Vec::with_capacity(options.width());
    for (kind, orders) in [("char", options.char_order), ("word", options.word_order)] {
        for n in 1..=orders {
            for what in ["hyp", "ref", "match"] {
                names.push(format!("{kind}_{n}_{what}"));
            }
        }
    }
    names
}

/// chrF's statistics per row (the best reference's, [`chrf_fields`], `Float64`), null where
/// the row is: summed over rows and given to [`chrf_from_statistics`], they give sacrebleu's
/// `corpus_chrf`.
pub fn chrf_statistics(
    predictions: &[ArrayRef],
    references: &[ArrayRef],
    options: &ChrfOptions,
) -> RescoreResult<ArrayRef> {
    let width = options.width();
    // Each row's position in `values` (an all-null piece is never handed to the closure, so
    // positions, not concatenation order, tie rows to their statistics).
    let values = RefCell::new(Vec::new());
    let (at, valid) = over_rows(predictions, references, options, |pairs, load| {
        let (v, ok) = map_rows_wide(
            pairs.len(),
            width,
            options.workers,
            options.on_error,
            |s: &mut Scratch, row, out: &mut [f64]| {
                let Some(n) = load(s, row) else {
                    return Ok(false);
                };
                let best = s.statistics(n, options);
                out.copy_from_slice(&s.stats[best..best + width]);
                Ok(true)
            },
        )?;
        let mut values = values.borrow_mut();
        let first = values.len() / width;
        values.extend(v);
        Ok(((first..first + ok.len()).collect(), ok))
    })?;
    let values = values.into_inner();
    Ok(struct_of_rows(
        &chrf_fields(options),
        valid.len(),
        &valid,
        |f, r| {
            if valid[r] {
                values[at[r] * width + f]
            } else {
                0.0
            }
        },
    ))
}
