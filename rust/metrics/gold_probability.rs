//! `gold_probability`: the probability a model puts on the correct choice (a continuous
//! multiple-choice metric, Schaeffer et al. 2024), and the top choice's probability (the
//! confidence an expected calibration error bins).
//!
//! From log-likelihoods the probabilities are their softmax per row, as lm-eval computes them
//! for its Brier score; from probabilities they are read as given (each in [0, 1], the row summing
//! to 1 within a tolerance).

use arrow_array::types::Float64Type;
use arrow_array::{Array, ArrayRef};
use arrow_buffer::NullBuffer;

use super::brier_score::{logprob_max, DEFAULT_SUM_TOLERANCE};
use super::choices::{Gold, Labels, PlainIndex};
use super::exp::Exp;
use super::{over_aligned_chunks, primitive_array, RowScores};
use crate::columns::{FloatLists, PlainRanges, RowRanges};
use crate::error::{RescoreError, RescoreResult};
use crate::parallel::{map_rows, OnError, Workers};

/// Which choice's probability a row gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// The gold choice's (soft targets: the target-weighted sum over choices).
    Gold,
    /// The highest one (first of ties): the model's confidence in its own answer.
    Top,
}

/// Probability per row of the gold choice (or the top one). `scores`: list<float>,
/// log-likelihoods when `from_logprobs`, else probabilities; `labels`: an index or per-choice
/// target scores. A null label gives null for [`Which::Gold`] and for [`Which::Top`] alike (a
/// calibration needs the grade too).
pub fn choice_probability(
    scores: &[ArrayRef],
    labels: &[ArrayRef],
    which: Which,
    from_logprobs: bool,
    workers: Workers,
    on_error: OnError,
) -> RescoreResult<ArrayRef> {
    let out = over_aligned_chunks(("scores", scores), ("labels", labels), |s, l| {
        score_piece(s, l, which, from_logprobs, workers, on_error)
    })?;
    Ok(primitive_array::<Float64Type>(out))
}

/// [`choice_probability`] of the gold choice.
pub fn gold_probability(
    scores: &[ArrayRef],
    labels: &[ArrayRef],
    from_logprobs: bool,
    workers: Workers,
    on_error: OnError,
) -> RescoreResult<ArrayRef> {
    choice_probability(
        scores,
        labels,
        Which::Gold,
        from_logprobs,
        workers,
        on_error,
    )
}

fn check_probabilities(p: &[f64], row: usize) -> RescoreResult<()> {
    let mut total = 0.0;
    for (choice, &value) in p.iter().enumerate() {
        if !(0.0..=1.0 + DEFAULT_SUM_TOLERANCE).contains(&value) {
            return Err(RescoreError::ProbabilityOutOfRange {
                argument: "scores",
                row,
                choice,
                value,
                expected: "probability in [0, 1] (pass from_logprobs=True for log-likelihoods)",
            });
        }
        total += value;
    }
    if (total - 1.0).abs() > DEFAULT_SUM_TOLERANCE {
        return Err(RescoreError::NotNormalized {
            argument: "scores",
            row,
            sum: total,
            tolerance: DEFAULT_SUM_TOLERANCE,
        });
    }
    Ok(())
}

fn score_piece(
    scores: &dyn Array,
    labels: &dyn Array,
    which: Which,
    from_logprobs: bool,
    workers: Workers,
    on_error: OnError,
) -> RescoreResult<RowScores<f64>> {
    let scores = FloatLists::try_new("scores", scores)?;
    let labels = Labels::try_new(labels)?;
    if from_logprobs {
        if let (Some((ranges, values, row_nulls)), Some((index, label_nulls))) =
            (scores.plain_f64(), labels.plain_index())
        {
            let nulls = (row_nulls, label_nulls);
            let n = scores.lists_len();
            let run = Plain {
                values,
                nulls,
                which,
                workers,
                on_error,
            };
            return match (ranges, index) {
                (PlainRanges::Small(r), PlainIndex::I64(l)) => run.score(n, r, l),
                (PlainRanges::Small(r), PlainIndex::I32(l)) => run.score(n, r, l),
                (PlainRanges::Large(r), PlainIndex::I64(l)) => run.score(n, r, l),
                (PlainRanges::Large(r), PlainIndex::I32(l)) => run.score(n, r, l),
                (PlainRanges::Fixed(r), PlainIndex::I64(l)) => run.score(n, r, l),
                (PlainRanges::Fixed(r), PlainIndex::I32(l)) => run.score(n, r, l),
            };
        }
    }
    let exp = Exp::get();
    // One pass over the rows, each read in place (float64 values are borrowed, not copied) and
    // checked on the way; nothing is allocated per row. Scratch: float32 rows as f64, and soft
    // targets.
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
            if from_logprobs {
                // p_i = exp(s_i - max) / total: the same operations as the softmax in place,
                // so the same bits, without writing the row out. Errors in the scores come
                // before errors in the label, as for the other metrics.
                let max = logprob_max(s, "scores", row)?;
                let Some(gold) = labels.gold(row, s.len(), t)? else {
                    return Ok(None);
                };
                let at = match (which, &gold) {
                    (Which::Gold, Gold::Index(label)) => *label,
                    _ => usize::MAX,
                };
                let (mut total, mut numerator) = (0.0, 0.0);
                for (choice, &v) in s.iter().enumerate() {
                    let e = exp.nonpositive(v - max);
                    if choice == at {
                        numerator = e;
                    }
                    total += e;
                }
                return Ok(Some(match (which, gold) {
                    // the top choice is the maximum: exp(0) / total
                    (Which::Top, _) => 1.0 / total,
                    (Which::Gold, Gold::Index(_)) => numerator / total,
                    (Which::Gold, Gold::Soft(targets)) => {
                        weighted(targets, s.iter().map(|&v| exp.nonpositive(v - max) / total))
                    }
                }));
            }
            check_probabilities(s, row)?;
            let Some(gold) = labels.gold(row, s.len(), t)? else {
                return Ok(None);
            };
            Ok(Some(match (which, gold) {
                (Which::Top, _) => s.iter().copied().fold(0.0, f64::max),
                (Which::Gold, Gold::Index(label)) => s[label],
                (Which::Gold, Gold::Soft(targets)) => weighted(targets, s.iter().copied()),
            }))
        },
    )
}

/// The fast path of [`score_piece`] for the common layout: log-likelihoods as float64 without
/// null elements in a list, large list or fixed-size list, and choice indices as int64 or int32.
/// Monomorphised per layout, so a row is read straight from the offsets and values slices (no
/// per-row match on the layout or label type, the nulls looked up only when there are any), and
/// the maximum, the validity check and the exponentials are one pass each over a short slice.
/// The same operations in the same order as the general path: the same bits, and the same
/// errors (scores before labels, lowest row first), which tests/test_gold_probability.py
/// compares with the general path (list_view, int8 labels) on hypothesis input.
struct Plain<'a> {
    values: &'a [f64],
    /// Row nulls of the scores and of the labels, each only when it holds a null.
    nulls: (Option<&'a NullBuffer>, Option<&'a NullBuffer>),
    which: Which,
    workers: Workers,
    on_error: OnError,
}

impl Plain<'_> {
    fn score<R: RowRanges, L: Copy + Into<i64> + Sync>(
        &self,
        n: usize,
        ranges: R,
        labels: &[L],
    ) -> RescoreResult<RowScores<f64>> {
        let exp = Exp::get();
        let (values, which) = (self.values, self.which);
        let (row_nulls, label_nulls) = self.nulls;
        map_rows(n, self.workers, self.on_error, |(): &mut (), row| {
            if row_nulls.is_some_and(|b| b.is_null(row))
                || label_nulls.is_some_and(|b| b.is_null(row))
            {
                return Ok(None);
            }
            let s = &values[ranges.range(row)];
            // One pass for the maximum and the validity check; a bad row (NaN, +inf, only -inf,
            // empty) goes to the general checks, which name the error.
            let (mut max, mut bad) = (f64::NEG_INFINITY, false);
            for &v in s {
                bad |= v.is_nan() || v == f64::INFINITY;
                max = max.max(v);
            }
            if bad || max == f64::NEG_INFINITY {
                if s.is_empty() {
                    return Err(RescoreError::EmptyChoices {
                        argument: "scores",
                        row,
                    });
                }
                logprob_max(s, "scores", row)?;
            }
            let label: i64 = labels[row].into();
            if label < 0 || label as u64 >= s.len() as u64 {
                return Err(RescoreError::LabelOutOfRange {
                    argument: "labels",
                    row,
                    label,
                    choices: s.len(),
                });
            }
            let total = exp.shifted_sum(s, max);
            Ok(Some(match which {
                Which::Top => 1.0 / total,
                #[allow(clippy::cast_sign_loss)] // checked in range above
                Which::Gold => exp.nonpositive(s[label as usize] - max) / total,
            }))
        })
    }
}

/// The target-weighted sum of the probabilities, clamped: rounding must not leave [0, 1].
#[inline]
fn weighted(targets: &[f64], probabilities: impl Iterator<Item = f64>) -> f64 {
    let p: f64 = targets.iter().zip(probabilities).map(|(a, b)| a * b).sum();
    p.clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::builder::{Float64Builder, ListBuilder};
    use arrow_array::cast::AsArray;
    use arrow_array::Int64Array;

    use super::*;

    fn lists(rows: &[Option<Vec<f64>>]) -> ArrayRef {
        let mut b = ListBuilder::new(Float64Builder::new());
        for r in rows {
            match r {
                Some(v) => b.append_value(v.iter().copied().map(Some)),
                None => b.append_null(),
            }
        }
        Arc::new(b.finish())
    }

    #[test]
    fn softmax_of_gold_and_top() {
        let s = lists(&[
            Some(vec![0.0, 0.0f64.ln_1p(), f64::NEG_INFINITY]),
            Some(vec![-1.0, -2.0]),
            None,
        ]);
        let l: ArrayRef = Arc::new(Int64Array::from(vec![Some(2), None, Some(0)]));
        let gold = gold_probability(
            std::slice::from_ref(&s),
            std::slice::from_ref(&l),
            true,
            Workers::All,
            OnError::Raise,
        )
        .unwrap();
        let gold = gold.as_primitive::<Float64Type>();
        assert!(gold.value(0).abs() < f64::MIN_POSITIVE);
        assert!(gold.is_null(1) && gold.is_null(2));
        let top =
            choice_probability(&[s], &[l], Which::Top, true, Workers::All, OnError::Raise).unwrap();
        assert!((top.as_primitive::<Float64Type>().value(0) - 0.5).abs() < 1e-15);
    }

    #[test]
    fn bad_rows_name_the_row() {
        let s = lists(&[
            Some(vec![-1.0]),
            Some(vec![f64::INFINITY, -1.0]),
            Some(vec![]),
        ]);
        let l: ArrayRef = Arc::new(Int64Array::from(vec![0, 0, 0]));
        let err = gold_probability(
            std::slice::from_ref(&s),
            std::slice::from_ref(&l),
            true,
            Workers::All,
            OnError::Raise,
        )
        .unwrap_err();
        assert!(err.to_string().contains("row 1"), "{err}");
        let out = gold_probability(&[s], &[l], true, Workers::All, OnError::Null).unwrap();
        assert_eq!(out.null_count(), 2);
    }

    /// The one-pass kernel gives the bits of the softmax written out (`softmax_named`), for
    /// gold indices, soft targets and the top choice, and reports the score's error before
    /// the label's.
    #[test]
    fn same_bits_as_the_softmax_in_place() {
        use super::super::brier_score::softmax_named;
        let rows: Vec<Vec<f64>> = (0..200u32)
            .map(|i| {
                (0..=i % 6)
                    .map(|k| match (i * 7 + k * 3) % 11 {
                        0 if k > 0 => f64::NEG_INFINITY,
                        r => -f64::from((i * 31 + k * 17) % 97) / 7.3 - f64::from(r),
                    })
                    .collect()
            })
            .collect();
        let s = lists(&rows.iter().cloned().map(Some).collect::<Vec<_>>());
        let labels: ArrayRef = Arc::new(Int64Array::from_iter_values(
            rows.iter().enumerate().map(|(i, r)| (i % r.len()) as i64),
        ));
        let soft = lists(
            &rows
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let mut t = vec![0.0; r.len()];
                    t[i % r.len()] = 0.25;
                    t[0] += 0.75;
                    Some(t)
                })
                .collect::<Vec<_>>(),
        );
        let run = |labels: &ArrayRef, which| {
            let out = choice_probability(
                std::slice::from_ref(&s),
                std::slice::from_ref(labels),
                which,
                true,
                Workers::Exactly(1),
                OnError::Raise,
            )
            .unwrap();
            out.as_primitive::<Float64Type>().values().to_vec()
        };
        let (gold, top, weighted_sums) = (
            run(&labels, Which::Gold),
            run(&labels, Which::Top),
            run(&soft, Which::Gold),
        );
        for (i, row) in rows.iter().enumerate() {
            let mut p = row.clone();
            softmax_named(&mut p, "scores", i).unwrap();
            let label = i % row.len();
            assert_eq!(gold[i].to_bits(), p[label].to_bits(), "row {i}");
            assert_eq!(
                top[i].to_bits(),
                p.iter().copied().fold(0.0, f64::max).to_bits()
            );
            let mut t = vec![0.0; row.len()];
            t[label] = 0.25;
            t[0] += 0.75;
            let want: f64 = t.iter().zip(&p).map(|(a, b)| a * b).sum();
            assert_eq!(weighted_sums[i].to_bits(), want.clamp(0.0, 1.0).to_bits());
        }
        // a NaN score and a label out of range in one row: the score is reported
        let bad = lists(&[Some(vec![-1.0, f64::NAN])]);
        let out_of_range: ArrayRef = Arc::new(Int64Array::from(vec![5]));
        let err = gold_probability(&[bad], &[out_of_range], true, Workers::All, OnError::Raise)
            .unwrap_err();
        assert!(err.to_string().contains("log-likelihood"), "{err}");
    }
}
