//! `multiple_choice_grade`: 1 when the highest-scored choice is the gold one, else 0; with soft
//! targets, the target score of the highest-scored choice (BIG-bench).
//!
//! Ties go to the lowest choice index, as `numpy.argmax` in lm-eval's `acc` (BIG-bench breaks
//! ties by a hash instead, which is not reproducible across implementations).
//!
//! With a length normalisation the score of each choice is divided by the length of its text
//! first: characters for lm-eval's `acc_norm`, UTF-8 bytes for its `acc_bytes`.

use arrow_array::types::Float64Type;
use arrow_array::{Array, ArrayRef};

use super::choices::{Gold, Labels};
use super::{over_aligned_chunks, primitive_array, RowScores};
use crate::columns::{align_three, FloatLists, ListColumn, StrColumn};
use crate::error::{RescoreError, RescoreResult};
use crate::parallel::{map_rows, OnError, Workers};

/// How a choice's score is divided by the length of its text before the argmax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LengthNormalize {
    /// Unicode characters (code points), as Python's `len(str)`: lm-eval `acc_norm`.
    Chars,
    /// UTF-8 bytes: lm-eval `acc_bytes`.
    Bytes,
}

impl LengthNormalize {
    /// Parse the Python option (`None` is no normalisation).
    pub fn parse(name: Option<&str>) -> RescoreResult<Option<Self>> {
        match name {
            None => Ok(None),
            Some("chars") => Ok(Some(Self::Chars)),
            Some("bytes") => Ok(Some(Self::Bytes)),
            Some(other) => Err(RescoreError::InvalidOption {
                option: "length_normalize",
                message: format!(
                    "got {other:?}, expected None, \"chars\" (acc_norm) or \"bytes\" (acc_bytes)"
                ),
            }),
        }
    }

    #[inline]
    fn length(self, text: &str) -> f64 {
        match self {
            Self::Chars => text.chars().count() as f64,
            Self::Bytes => text.len() as f64,
        }
    }
}

/// Grade per row. `scores` is list<float> of any real per-choice scores (log-likelihoods,
/// probabilities; `-inf` allowed, NaN rejected); `labels` an index or per-choice target scores.
pub fn multiple_choice_grade(
    scores: &[ArrayRef],
    labels: &[ArrayRef],
    workers: Workers,
    on_error: OnError,
) -> RescoreResult<ArrayRef> {
    let out = over_aligned_chunks(("scores", scores), ("labels", labels), |s, l| {
        score_piece(s, l, None, workers, on_error)
    })?;
    Ok(primitive_array::<Float64Type>(out))
}

/// [`multiple_choice_grade`] on scores divided by the length of each choice's text
/// (`choices`: list<string>, one text per score). The scores are log-likelihoods here: NaN and
/// `+inf` are errors. A choice of empty text divides by zero as NumPy does in lm-eval (`-inf`,
/// or NaN for a zero score, which then wins the argmax as in `numpy.argmax`).
pub fn multiple_choice_grade_normalized(
    scores: &[ArrayRef],
    labels: &[ArrayRef],
    choices: &[ArrayRef],
    normalize: LengthNormalize,
    workers: Workers,
    on_error: OnError,
) -> RescoreResult<ArrayRef> {
    let pieces = align_three(("scores", scores), ("labels", labels), ("choices", choices))?;
    let (mut values, mut valid) = (Vec::new(), Vec::new());
    for [s, l, c] in &pieces {
        let offset = values.len();
        let (v, ok) = score_piece(
            s.as_ref(),
            l.as_ref(),
            Some((c.as_ref(), normalize)),
            workers,
            on_error,
        )
        .map_err(|e| e.offset_row(offset))?;
        values.extend(v);
        valid.extend(ok);
    }
    Ok(primitive_array::<Float64Type>((values, valid)))
}

/// The texts of each row's choices.
struct ChoiceTexts<'a> {
    lists: ListColumn<'a>,
    texts: StrColumn<'a>,
    child_nulls: bool,
}

impl<'a> ChoiceTexts<'a> {
    fn try_new(array: &'a dyn Array) -> RescoreResult<Self> {
        let unsupported = || RescoreError::UnsupportedType {
            argument: "choices",
            dtype: array.data_type().to_string(),
            expected: "a list of strings per row (the text of each choice)",
        };
        let lists = ListColumn::try_new(array).ok_or_else(unsupported)?;
        let texts = StrColumn::try_new(lists.child.as_ref()).ok_or_else(unsupported)?;
        let child_nulls = lists.child.null_count() > 0;
        Ok(Self {
            lists,
            texts,
            child_nulls,
        })
    }
}

/// Index of the greatest value, the first of ties; a NaN wins at once (as `numpy.argmax`).
#[inline]
fn argmax(values: impl Iterator<Item = f64>) -> usize {
    let (mut best, mut best_value) = (0, f64::NEG_INFINITY);
    for (choice, value) in values.enumerate() {
        if value.is_nan() {
            return choice;
        }
        // Strictly greater: the first of tied maxima wins.
        if choice == 0 || value > best_value {
            best = choice;
            best_value = value;
        }
    }
    best
}

fn score_piece(
    scores: &dyn Array,
    labels: &dyn Array,
    choices: Option<(&dyn Array, LengthNormalize)>,
    workers: Workers,
    on_error: OnError,
) -> RescoreResult<RowScores<f64>> {
    let scores = FloatLists::try_new("scores", scores)?;
    let labels = Labels::try_new(labels)?;
    let texts = match choices {
        Some((c, n)) if c.data_type() != &arrow_schema::DataType::Null => {
            Some((ChoiceTexts::try_new(c)?, n))
        }
        // An all-null `choices` column: every row's texts are missing.
        Some((c, _)) => {
            return map_rows(c.len(), workers, on_error, |(): &mut (), row| {
                if scores.lists.is_null(row) || labels.is_null(row) {
                    return Ok(None);
                }
                Err(RescoreError::MissingChoices { row })
            })
        }
        None => None,
    };
    map_rows(
        scores.lists_len(),
        workers,
        on_error,
        |(buffer, t): &mut (Vec<f64>, Vec<f64>), row| {
            let Some(s) = scores.row(row, buffer)? else {
                return Ok(None);
            };
            if labels.is_null(row) {
                return Ok(None);
            }
            if s.is_empty() {
                return Err(RescoreError::EmptyChoices {
                    argument: "scores",
                    row,
                });
            }
            let log_likelihoods = texts.is_some();
            if let Some((choice, &value)) = s
                .iter()
                .enumerate()
                .find(|(_, v)| v.is_nan() || (log_likelihoods && **v == f64::INFINITY))
            {
                return Err(RescoreError::ProbabilityOutOfRange {
                    argument: "scores",
                    row,
                    choice,
                    value,
                    expected: if log_likelihoods {
                        "log-likelihood (finite, or -inf)"
                    } else {
                        "score (any real number or -inf)"
                    },
                });
            }
            let best = match &texts {
                None => argmax(s.iter().copied()),
                Some((c, normalize)) => {
                    if c.lists.is_null(row) {
                        return Err(RescoreError::MissingChoices { row });
                    }
                    let range = c.lists.range(row);
                    if range.len() != s.len() {
                        return Err(RescoreError::ChoiceCountMismatch {
                            row,
                            left: "scores",
                            left_len: s.len(),
                            right: "choices",
                            right_len: range.len(),
                        });
                    }
                    if c.child_nulls {
                        if let Some(position) = c.lists.first_null_in(row) {
                            return Err(RescoreError::NullElement {
                                argument: "choices",
                                row,
                                position,
                            });
                        }
                    }
                    argmax(
                        s.iter()
                            .zip(range)
                            .map(|(&v, j)| v / normalize.length(c.texts.value(j))),
                    )
                }
            };
            Ok(labels.gold(row, s.len(), t)?.map(|gold| match gold {
                Gold::Index(label) => f64::from(u8::from(label == best)),
                Gold::Soft(targets) => targets[best],
            }))
        },
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::builder::{Float64Builder, ListBuilder};
    use arrow_array::cast::AsArray;
    use arrow_array::Int32Array;

    use super::*;

    #[test]
    fn first_maximum_wins() {
        let mut b = ListBuilder::new(Float64Builder::new());
        b.append_value([Some(-1.0), Some(-0.5), Some(-0.5)]);
        b.append_value([Some(-1.0), Some(f64::NEG_INFINITY)]);
        b.append_null();
        let s: ArrayRef = Arc::new(b.finish());
        let l: ArrayRef = Arc::new(Int32Array::from(vec![Some(1), Some(1), Some(0)]));
        let out = multiple_choice_grade(&[s], &[l], Workers::Exactly(1), OnError::Raise).unwrap();
        let out = out.as_primitive::<Float64Type>();
        assert_eq!((out.value(0), out.value(1)), (1.0, 0.0));
        assert!(out.is_null(2));
    }

    fn texts(rows: &[Option<Vec<&str>>]) -> ArrayRef {
        let mut b = ListBuilder::new(arrow_array::builder::StringBuilder::new());
        for r in rows {
            match r {
                Some(v) => b.append_value(v.iter().map(|t| Some(*t))),
                None => b.append_null(),
            }
        }
        Arc::new(b.finish())
    }

    #[test]
    fn length_normalisation_over_misaligned_chunks() {
        let mut b = ListBuilder::new(Float64Builder::new());
        // Row 0: -4/10 beats -3/3 (ASCII: chars and bytes agree).
        b.append_value([Some(-4.0), Some(-3.0)]);
        b.append_value([Some(-2.0), Some(-2.0)]);
        b.append_value([Some(-1.0), Some(-2.0)]);
        let s: ArrayRef = Arc::new(b.finish());
        let l: ArrayRef = Arc::new(Int32Array::from(vec![0, 1, 0]));
        let c = texts(&[
            Some(vec!["abcdefghij", "abc"]),
            Some(vec!["é", "abc"]),
            Some(vec!["a", "bb"]),
        ]);
        let run = |normalize| {
            let out = multiple_choice_grade_normalized(
                &[s.slice(0, 1), s.slice(1, 2)],
                std::slice::from_ref(&l),
                &[c.slice(0, 2), c.slice(2, 1)],
                normalize,
                Workers::Exactly(1),
                OnError::Raise,
            )
            .unwrap();
            let out = out.as_primitive::<Float64Type>();
            (0..3).map(|i| out.value(i)).collect::<Vec<_>>()
        };
        // chars: row 1 is -2/1 vs -2/3 -> choice 1; row 2: -1/1 vs -2/2 tie -> choice 0
        assert_eq!(run(LengthNormalize::Chars), vec![1.0, 1.0, 1.0]);
        // bytes: row 1 is -2/2 vs -2/3 -> choice 1
        assert_eq!(run(LengthNormalize::Bytes), vec![1.0, 1.0, 1.0]);
        let bad = multiple_choice_grade_normalized(
            &[s.slice(2, 1)],
            &[l.slice(2, 1)],
            &[texts(&[Some(vec!["a"])])],
            LengthNormalize::Chars,
            Workers::Exactly(1),
            OnError::Raise,
        )
        .unwrap_err();
        assert!(matches!(
            bad,
            RescoreError::ChoiceCountMismatch { row: 0, .. }
        ));
        let err = multiple_choice_grade_normalized(
            std::slice::from_ref(&s),
            std::slice::from_ref(&l),
            &[c.slice(0, 2), texts(&[None])],
            LengthNormalize::Chars,
            Workers::Exactly(1),
            OnError::Raise,
        )
        .unwrap_err();
        assert_eq!(err, RescoreError::MissingChoices { row: 2 });
    }
}
