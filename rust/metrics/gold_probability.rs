//! `gold_probability`: the probability a model puts on the correct choice (a continuous
//! multiple-choice metric, Schaeffer et al. 2024), and the top choice's probability (the
//! confidence an expected calibration error bins).
//!
//! From log-likelihoods the probabilities are their softmax per row, as lm-eval computes them
//! for its Brier score; from probabilities they are read as given (each in [0, 1], the row summing
//! to 1 within a tolerance).

use arrow_array::types::Float64Type;
use arrow_array::{Array, ArrayRef};

use super::brier_score::{softmax_named, DEFAULT_SUM_TOLERANCE};
use super::choices::{Gold, Labels};
use super::{over_aligned_chunks, primitive_array, RowScores};
use crate::columns::FloatLists;
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
    map_rows(
        scores.lists_len(),
        workers,
        on_error,
        |(buffer, t, probs): &mut (Vec<f64>, Vec<f64>, Vec<f64>), row| {
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
            probs.clear();
            probs.extend_from_slice(s);
            if from_logprobs {
                softmax_named(probs, "scores", row)?;
            } else {
                check_probabilities(probs, row)?;
            }
            let gold = labels.gold(row, probs.len(), t)?;
            Ok(gold.map(|gold| match (which, gold) {
                (Which::Top, _) => probs.iter().copied().fold(0.0, f64::max),
                (Which::Gold, Gold::Index(label)) => probs[label],
                (Which::Gold, Gold::Soft(targets)) => {
                    // Weighted sum, clamped: rounding must not leave [0, 1].
                    let p: f64 = targets.iter().zip(probs.iter()).map(|(a, b)| a * b).sum();
                    p.clamp(0.0, 1.0)
                }
            }))
        },
    )
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
}
