//! `token_f1`: the SQuAD v2.0 official script's `compute_f1` after its `normalize_answer` (lower
//! case, ASCII punctuation deleted, the articles a/an/the deleted as whole words, whitespace
//! collapsed); the maximum over a row's references.
//!
//! The script deletes articles with Python's `re.sub(r"\b(a|an|the)\b", " ", text)`. A match is
//! bounded by non-word characters on both sides, so it is exactly a maximal run of Python word
//! characters (`str.isalnum()` or `_`, the `\w` of a `str` pattern) equal to an article; that is
//! how it is found here, without a regex (Rust's `\w` also counts combining marks as word
//! characters, Python's does not).

use std::ops::Range;
use std::sync::LazyLock;

use arrow_array::types::Float64Type;
use arrow_array::ArrayRef;
use regex::Regex;

use super::pairs::{over_sequence_pairs, PairColumns, SequencePairs};
use super::{primitive_array, RowScores};
use crate::error::{RescoreError, RescoreResult};
use crate::parallel::{map_rows, OnError, Workers};
use crate::text::is_python_space;

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

/// Per-thread buffers: the normalised text of each side and its token spans (reused per row).
#[derive(Default)]
struct Scratch {
    lowered: String,
    prediction: Tokens,
    reference: Tokens,
}

/// A normalised string and the byte spans of its tokens, sorted by token text.
#[derive(Default)]
struct Tokens {
    text: String,
    spans: Vec<Range<usize>>,
}

impl Tokens {
    /// `normalize_answer(text).split()`, kept sorted so two sides intersect by merging.
    fn fill(&mut self, text: &str, lowered: &mut String, options: &TokenF1Options) {
        let text = if options.ignore_case {
            if text.is_ascii() {
                lowered.clear();
                lowered.push_str(text);
                lowered.make_ascii_lowercase();
            } else {
                // str::to_lowercase, as Python's str.lower, lowers a final sigma to ς
                *lowered = text.to_lowercase();
            }
            lowered.as_str()
        } else {
            text
        };
        self.text.clear();
        self.text.extend(
            text.chars()
                .filter(|c| !(options.ignore_punctuation && c.is_ascii_punctuation())),
        );
        self.spans.clear();
        let mut start = None;
        let end = (self.text.len(), ' '); // a space closes the last token
        for (i, c) in self.text.char_indices().chain(std::iter::once(end)) {
            match (is_python_space(c), start) {
                (true, Some(s)) if options.ignore_articles => {
                    push_without_articles(&self.text, s..i, &mut self.spans);
                    start = None;
                }
                (true, Some(s)) => {
                    self.spans.push(s..i);
                    start = None;
                }
                (false, None) => start = Some(i),
                _ => {}
            }
        }
        let text = &self.text;
        self.spans
            .sort_unstable_by(|a, b| text[a.clone()].cmp(&text[b.clone()]));
    }

    fn len(&self) -> usize {
        self.spans.len()
    }

    /// Tokens the two sides share, counted with multiplicity (`Counter(a) & Counter(b)`).
    fn common(&self, other: &Self) -> usize {
        let (mut i, mut j, mut same) = (0, 0, 0);
        while i < self.spans.len() && j < other.spans.len() {
            let a = &self.text[self.spans[i].clone()];
            let b = &other.text[other.spans[j].clone()];
            match a.cmp(b) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    same += 1;
                    i += 1;
                    j += 1;
                }
            }
        }
        same
    }
}

/// Push the pieces of the whitespace token `span` once article words are replaced by a space:
/// a token such as `the—end` (the dash is not a word character) loses its `the`.
fn push_without_articles(text: &str, span: Range<usize>, out: &mut Vec<Range<usize>>) {
    let token = &text[span.clone()];
    let mut piece = span.start;
    let mut run = None;
    // a trailing space (not a word character) closes the last run
    for (offset, c) in token
        .char_indices()
        .chain(std::iter::once((token.len(), ' ')))
    {
        let at = span.start + offset;
        if is_python_word(c) {
            run.get_or_insert(at);
            continue;
        }
        if let Some(start) = run.take() {
            if matches!(&text[start..at], "a" | "an" | "the") {
                if piece < start {
                    out.push(piece..start);
                }
                piece = at;
            }
        }
    }
    if piece < span.end {
        out.push(piece..span.end);
    }
}

/// Letters and numbers by Unicode general category (L*, N*) and `_`: the `\w` of Python's `re`
/// on `str` (`str.isalnum()`), unlike Rust's `char::is_alphanumeric`, which also takes some
/// marks.
fn is_python_word(c: char) -> bool {
    static LETTER_OR_NUMBER: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^[\p{L}\p{N}]$").expect("static pattern compiles"));
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    let mut buf = [0u8; 4];
    LETTER_OR_NUMBER.is_match(c.encode_utf8(&mut buf))
}

/// SQuAD's `compute_f1` of two token lists.
fn f1(prediction: &Tokens, reference: &Tokens) -> f64 {
    if prediction.len() == 0 || reference.len() == 0 {
        return f64::from(u8::from(prediction.len() == reference.len()));
    }
    let same = prediction.common(reference);
    if same == 0 {
        return 0.0;
    }
    let precision = same as f64 / prediction.len() as f64;
    let recall = same as f64 / reference.len() as f64;
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
            s.prediction
                .fill(predictions.value(row), &mut s.lowered, options);
            let mut best: Option<f64> = None;
            for j in positions {
                s.reference
                    .fill(references.value(j), &mut s.lowered, options);
                let score = f1(&s.prediction, &s.reference);
                best = Some(best.map_or(score, |b| b.max(score)));
            }
            Ok(best)
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
