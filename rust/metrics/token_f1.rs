//! `token_f1`: the SQuAD v2.0 official script's `compute_f1` after its `normalize_answer` (lower
//! case, ASCII punctuation deleted, the articles a/an/the deleted as whole words, whitespace
//! collapsed); the maximum over a row's references.
//!
//! The script deletes articles with Python's `re.sub(r"\b(a|an|the)\b", " ", text)`. A match is
//! bounded by non-word characters on both sides, so it is exactly a maximal run of Python word
//! characters (`str.isalnum()` or `_`, the `\w` of a `str` pattern) equal to an article; that is
//! how it is found here, without a regex (Rust's `\w` also counts combining marks as word
//! characters, Python's does not).

use arrow_array::types::Float64Type;
use arrow_array::ArrayRef;
use std::ops::Range;

use super::ngrams::{Interner, UnigramCounts};
use super::pairs::{over_sequence_pairs, PairColumns, SequencePairs};
use super::{primitive_array, RowScores};
use crate::error::{RescoreError, RescoreResult};
use crate::parallel::{map_rows, OnError, Workers};
use crate::text::{is_ascii_python_space, is_python_word, python_lower_into, python_split};

/// The steps of SQuAD's `normalize_answer`, each on by default; whitespace is always collapsed
/// (F1 counts whitespace-separated tokens).
#[derive(Debug, Clone, Copy)]
pub struct TokenF1Options {
    /// Lower-case both sides (Python's `str.lower`).
    pub ignore_case: bool,
    /// Delete Python's `string.punctuation` (the 32 ASCII punctuation characters).
    pub ignore_punctuation: bool,
    /// Delete the words a, an, the.
    pub ignore_articles: bool,
    /// Threads.
    pub workers: Workers,
    /// Rows that cannot be scored: raise or null.
    pub on_error: OnError,
}

impl Default for TokenF1Options {
    fn default() -> Self {
        Self {
            ignore_case: true,
            ignore_punctuation: true,
            ignore_articles: true,
            workers: Workers::All,
            on_error: OnError::Raise,
        }
    }
}

/// Per-thread buffers, reused per row.
#[derive(Default)]
struct Scratch {
    lowered: String,
    /// A non-ASCII side after case folding and punctuation deletion.
    side: String,
    /// The normalised tokens of the row's sides (prediction first), back to back.
    text: Vec<u8>,
    /// Every side's tokens, in order, and how many each side has.
    spans: Vec<Range<usize>>,
    lengths: Vec<usize>,
    ids: Vec<u32>,
    interner: Interner,
    counts: UnigramCounts,
}

/// How the ASCII path treats a byte.
const WORD: u8 = 0;
const SPACE: u8 = 1;
const PUNCTUATION: u8 = 2;
/// Neither: a control character (kept; not a word character, so it bounds an article).
const OTHER: u8 = 3;

/// Each ASCII byte's class: Python's `str.isspace`, `string.punctuation`, `\w`.
static ASCII_CLASS: [u8; 128] = {
    let mut table = [OTHER; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = if is_ascii_python_space(c) {
            SPACE
        } else if c.is_ascii_punctuation() {
            PUNCTUATION
        } else if c.is_ascii_alphanumeric() || c == b'_' {
            WORD
        } else {
            OTHER
        };
        b += 1;
    }
    table
};

impl Scratch {
    fn clear(&mut self) {
        self.text.clear();
        self.spans.clear();
        self.lengths.clear();
    }

    /// Add `normalize_answer(text).split()` as the next side.
    fn push(&mut self, text: &str, options: &TokenF1Options) {
        let before = self.spans.len();
        if text.is_ascii() {
            self.push_ascii(text.as_bytes(), options);
        } else {
            self.push_unicode(text, options);
        }
        self.lengths.push(self.spans.len() - before);
    }

    /// ASCII text split at whitespace bytes; a token of word characters only (the usual case)
    /// is copied and case folded at once, others byte by byte (punctuation dropped).
    fn push_ascii(&mut self, raw: &[u8], options: &TokenF1Options) {
        let class = |at: usize| ASCII_CLASS[usize::from(raw[at])];
        let mut at = 0;
        while at < raw.len() {
            if class(at) == SPACE {
                at += 1;
                continue;
            }
            let first = at;
            let mut plain = true;
            while at < raw.len() {
                let c = class(at);
                if c == SPACE {
                    break;
                }
                plain &= c == WORD;
                at += 1;
            }
            let token = &raw[first..at];
            let start = self.text.len();
            let fold = |b: &u8| {
                if options.ignore_case {
                    b.to_ascii_lowercase()
                } else {
                    *b
                }
            };
            if plain {
                self.text.extend(token.iter().map(fold));
                self.close_ascii(start, false, options);
                continue;
            }
            // whether the token keeps a byte that is not a word character
            let mut mixed = false;
            for b in token {
                match ASCII_CLASS[usize::from(*b)] {
                    PUNCTUATION if options.ignore_punctuation => {}
                    c => {
                        mixed |= c != WORD;
                        self.text.push(fold(b));
                    }
                }
            }
            self.close_ascii(start, mixed, options);
        }
    }

    /// End the ASCII token `text[start..]` (if any).
    fn close_ascii(&mut self, start: usize, mixed: bool, options: &TokenF1Options) {
        let end = self.text.len();
        if start == end {
            return;
        }
        if !options.ignore_articles {
            self.spans.push(start..end);
        } else if !mixed {
            if !matches!(&self.text[start..], b"a" | b"an" | b"the") {
                self.spans.push(start..end);
            }
        } else {
            let token = std::str::from_utf8(&self.text[start..]).expect("ASCII is UTF-8");
            push_without_articles(token, start, &mut self.spans);
        }
    }

    fn push_unicode(&mut self, text: &str, options: &TokenF1Options) {
        let text = if options.ignore_case {
            python_lower_into(text, &mut self.lowered)
        } else {
            text
        };
        self.side.clear();
        if options.ignore_punctuation {
            for piece in text.split(|c: char| c.is_ascii_punctuation()) {
                self.side.push_str(piece);
            }
        } else {
            self.side.push_str(text);
        }
        let from = self.text.len();
        self.text.extend_from_slice(self.side.as_bytes());
        let side = self.side.as_str();
        for word in python_split(side) {
            // offsets within `side`: `word` is a slice of it
            let start = word.as_ptr() as usize - side.as_ptr() as usize;
            if !options.ignore_articles {
                self.spans.push(from + start..from + start + word.len());
            } else if word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                // one run of word characters: an article, or kept whole
                if !matches!(word, "a" | "an" | "the") {
                    self.spans.push(from + start..from + start + word.len());
                }
            } else {
                push_without_articles(word, from + start, &mut self.spans);
            }
        }
    }

    /// Token F1 of the prediction against each reference; the best.
    fn best_f1(&mut self) -> Option<f64> {
        let Self {
            text,
            spans,
            lengths,
            ids,
            interner,
            counts,
            ..
        } = self;
        let vocabulary = interner.intern(text, spans, ids);
        counts.set_hypothesis(&ids[..lengths[0]], vocabulary);
        let mut best: Option<f64> = None;
        let mut at = lengths[0];
        for &len in &lengths[1..] {
            let same = counts.matches(&ids[at..at + len]);
            at += len;
            let score = f1(lengths[0], len, same);
            best = Some(best.map_or(score, |b| b.max(score)));
        }
        best
    }
}

/// Push the pieces of the whitespace token `token` (at byte `offset` of the row's text) once
/// article words are replaced by a space: a token such as `the—end` (the dash is not a word
/// character) loses its `the`.
fn push_without_articles(token: &str, offset: usize, out: &mut Vec<Range<usize>>) {
    let mut piece = 0;
    let mut run = None;
    // a trailing space (not a word character) closes the last run
    for (at, c) in token
        .char_indices()
        .chain(std::iter::once((token.len(), ' ')))
    {
        if is_python_word(c) {
            run.get_or_insert(at);
            continue;
        }
        if let Some(start) = run.take() {
            if matches!(&token[start..at], "a" | "an" | "the") {
                if piece < start {
                    out.push(offset + piece..offset + start);
                }
                piece = at;
            }
        }
    }
    if piece < token.len() {
        out.push(offset + piece..offset + token.len());
    }
}

/// SQuAD's `compute_f1` from the token counts and the tokens both share (`Counter(a) &
/// Counter(b)`).
fn f1(prediction: usize, reference: usize, same: usize) -> f64 {
    if prediction == 0 || reference == 0 {
        return f64::from(u8::from(prediction == reference));
    }
    if same == 0 {
        return 0.0;
    }
    let precision = same as f64 / prediction as f64;
    let recall = same as f64 / reference as f64;
    (2.0 * precision * recall) / (precision + recall)
}

/// Token F1 per row, the best over the row's references.
pub fn token_f1(
    predictions: &[ArrayRef],
    references: &[ArrayRef],
    options: TokenF1Options,
) -> RescoreResult<ArrayRef> {
    let scores = over_sequence_pairs(predictions, references, |pairs| {
        score_piece(pairs, &options)
    })?;
    Ok(primitive_array::<Float64Type>(scores))
}

fn score_piece(
    pairs: &SequencePairs<'_>,
    options: &TokenF1Options,
) -> RescoreResult<RowScores<f64>> {
    let PairColumns::Text {
        predictions,
        references,
    } = pairs.columns()
    else {
        return Err(RescoreError::UnsupportedType {
            argument: "predictions",
            dtype: "list of token ids".into(),
            expected: "strings (utf8, large_utf8, utf8_view): F1 normalises text",
        });
    };
    map_rows(
        pairs.len(),
        options.workers,
        options.on_error,
        |s: &mut Scratch, row| {
            let Some(positions) = pairs.references(row) else {
                return Ok(None);
            };
            s.clear();
            s.push(predictions.value(row), options);
            for j in positions {
                s.push(references.value(j), options);
            }
            Ok(s.best_f1())
        },
    )
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact scores: 0 and 1 are exact in floating point
mod tests {
    use std::sync::Arc;

    use arrow_array::cast::AsArray;
    use arrow_array::StringArray;

    use super::*;

    fn score(p: &str, r: &str) -> f64 {
        let p: ArrayRef = Arc::new(StringArray::from(vec![p]));
        let r: ArrayRef = Arc::new(StringArray::from(vec![r]));
        let out = token_f1(&[p], &[r], TokenF1Options::default()).unwrap();
        out.as_primitive::<Float64Type>().value(0)
    }

    #[test]
    fn squad_examples() {
        // normalize_answer: "The Cat!" -> "cat"; both sides then match.
        assert_eq!(score("The Cat!", "cat"), 1.0);
        // 1 common token of 2 predicted and 3 gold: P=1/2, R=1/3, F1=0.4.
        assert!((score("red car", "a blue car park") - 0.4).abs() < 1e-12);
        // An empty side: 1 only when both are empty (articles alone normalise to nothing).
        assert_eq!(score("", "the"), 1.0);
        assert_eq!(score("", "cat"), 0.0);
        // Counter intersection: one shared "y" (P = 1/4, R = 1/2, F1 = 1/3).
        assert!((score("x x x y", "y y") - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn articles_are_whole_python_words() {
        // "the" inside "there" stays; "the" before a non-word dash goes (the dash is not in
        // string.punctuation); a combining mark is not a word character for Python.
        assert_eq!(score("there", "there"), 1.0);
        assert_eq!(score("the\u{2014}end", "\u{2014}end"), 1.0);
        assert_eq!(score("a\u{301}", "\u{301}"), 1.0);
        assert_eq!(score("the1", "1"), 0.0);
    }

    #[test]
    fn best_reference_wins() {
        let p: ArrayRef = Arc::new(StringArray::from(vec!["paris"]));
        let r = arrow_array::builder::ListBuilder::new(arrow_array::builder::StringBuilder::new());
        let mut r = r;
        r.append_value([Some("rome"), Some("Paris, France")]);
        let r: ArrayRef = Arc::new(r.finish());
        let out = token_f1(&[p], &[r], TokenF1Options::default()).unwrap();
        let v = out.as_primitive::<Float64Type>().value(0);
        assert!((v - 2.0 / 3.0).abs() < 1e-12);
    }
}
