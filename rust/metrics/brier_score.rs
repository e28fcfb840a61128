//! `brier_score`: squared error between the predicted distribution over choices and the one-hot
//! (or soft) target, per example.
//!
//! Conventions differ by a factor of the number of choices K: lm-eval sums over choices (range
//! [0, 2]); BIG-bench averages over (example, choice) pairs, i.e. divides the sum by K.

use arrow_array::types::Float64Type;
use arrow_array::{Array, ArrayRef};

use super::choices::{Gold, Labels};
use super::{over_aligned_chunks, primitive_array, RowScores};
use crate::columns::FloatLists;
use crate::error::{RescoreError, RescoreResult};
use crate::parallel::{map_rows, OnError, Workers};

/// Default tolerance on a probability row's sum: loose enough for float32 rows of a few hundred
/// choices, tight enough to catch unnormalised scores.
pub const DEFAULT_SUM_TOLERANCE: f64 = 1e-4;

/// Sum or per-choice mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrierConvention {
    /// Sum over choices (lm-eval-harness), in [0, 2].
    Sum,
    /// Sum divided by the number of choices (BIG-bench), in [0, 2/K].
    ClassMean,
}

impl BrierConvention {
    /// Parse the Python option.
    pub fn parse(name: &str) -> RescoreResult<Self> {
        match name {
            "sum" => Ok(Self::Sum),
            "class_mean" => Ok(Self::ClassMean),
            other => Err(RescoreError::InvalidOption {
                option: "convention",
                message: format!(
                    "got {other:?}, expected \"sum\" (lm-eval) or \"class_mean\" (BIG-bench)"
                ),
            }),
        }
    }
}

/// Options of [`brier_score`].
#[derive(Debug, Clone, Copy)]
pub struct BrierOptions {
    /// Sum or per-choice mean.
    pub convention: BrierConvention,
    /// Rows are per-choice log-likelihoods: apply a softmax per row first (what lm-eval does).
    pub from_logprobs: bool,
    /// Allowed distance of a probability row's sum from 1 (probabilities only).
    pub tolerance: f64,
    /// Threads.
    pub workers: Workers,
    /// Rows that cannot be scored: raise or null.
    pub on_error: OnError,
}

/// Brier score per row. `probabilities` is list<float> (rows may have different numbers of
/// choices); `labels` an integer choice index or a list of per-choice target scores.
pub fn brier_score(
    probabilities: &[ArrayRef],
    labels: &[ArrayRef],
    options: BrierOptions,
) -> RescoreResult<ArrayRef> {
    if !(options.tolerance >= 0.0 && options.tolerance.is_finite()) {
        return Err(RescoreError::InvalidOption {
            option: "tolerance",
            message: format!(
                "got {}, expected a finite non-negative number",
                options.tolerance
            ),
        });
    }
    let scores = over_aligned_chunks(
        ("probabilities", probabilities),
        ("labels", labels),
        |p, l| score_piece(p, l, options),
    )?;
    Ok(primitive_array::<Float64Type>(scores))
}

fn score_piece(
    probabilities: &dyn Array,
    labels: &dyn Array,
    options: BrierOptions,
) -> RescoreResult<RowScores<f64>> {
    let probs = FloatLists::try_new("probabilities", probabilities)?;
    let labels = Labels::try_new(labels)?;
    map_rows(
        probabilities.len(),
        options.workers,
        options.on_error,
        |(buffer, t, shifted): &mut (Vec<f64>, Vec<f64>, Vec<f64>), row| {
            // A null label makes the row null whatever its probabilities: nothing to score.
            let Some(mut p) = probs.row(row, buffer)? else {
                return Ok(None);
            };
            if labels.is_null(row) {
                return Ok(None);
            }
            if p.is_empty() {
                return Err(RescoreError::EmptyChoices {
                    argument: "probabilities",
                    row,
                });
            }
            if options.from_logprobs {
                shifted.clear();
                shifted.extend_from_slice(p);
                softmax_in_place(shifted, row)?;
                p = shifted;
            } else {
                check_distribution(p, row, options.tolerance)?;
            }
            let Some(gold) = labels.gold(row, p.len(), t)? else {
                return Ok(None);
            };
            let sum: f64 = match gold {
                Gold::Index(label) => p
                    .iter()
                    .enumerate()
                    .map(|(k, &pk)| {
                        let d = pk - f64::from(u8::from(k == label));
                        d * d
                    })
                    .sum(),
                Gold::Soft(targets) => p
                    .iter()
                    .zip(targets)
                    .map(|(pk, tk)| (pk - tk) * (pk - tk))
                    .sum(),
            };
            Ok(Some(match options.convention {
                BrierConvention::Sum => sum,
                BrierConvention::ClassMean => sum / p.len() as f64,
            }))
        },
    )
}

#[inline]
fn check_distribution(p: &[f64], row: usize, tolerance: f64) -> RescoreResult<()> {
    // One branch-free pass for the common case; the error path looks again for the culprit.
    let (mut in_range, mut sum) = (true, 0.0);
    for &value in p {
        // `contains` is false for NaN, so NaN fails too.
        in_range &= (0.0..=1.0 + tolerance).contains(&value);
        sum += value;
    }
    if in_range && (sum - 1.0).abs() <= tolerance {
        return Ok(());
    }
    for (choice, &value) in p.iter().enumerate() {
        // `!(..)` so NaN fails too.
        if !(0.0..=1.0 + tolerance).contains(&value) {
            return Err(RescoreError::ProbabilityOutOfRange {
                argument: "probabilities",
                row,
                choice,
                value,
                expected: "probability in [0, 1]",
            });
        }
    }
    let sum: f64 = p.iter().sum();
    if (sum - 1.0).abs() > tolerance {
        return Err(RescoreError::NotNormalized {
            argument: "probabilities",
            row,
            sum,
            tolerance,
        });
    }
    Ok(())
}

/// Softmax of log-likelihoods, stable (shifted by the maximum). `-inf` is a zero-probability
/// choice; NaN and `+inf` are errors, and so is a row where every choice is `-inf`.
pub(crate) fn softmax_in_place(x: &mut [f64], row: usize) -> RescoreResult<()> {
    let mut max = f64::NEG_INFINITY;
    for (choice, &value) in x.iter().enumerate() {
        if value.is_nan() || value == f64::INFINITY {
            return Err(RescoreError::ProbabilityOutOfRange {
                argument: "probabilities",
                row,
                choice,
                value,
                expected: "log-likelihood (finite, or -inf)",
            });
        }
        max = max.max(value);
    }
    if max == f64::NEG_INFINITY {
        return Err(RescoreError::ProbabilityOutOfRange {
            argument: "probabilities",
            row,
            choice: 0,
            value: max,
            expected: "log-likelihood row with at least one finite value",
        });
    }
    let mut total = 0.0;
    for v in x.iter_mut() {
        *v = (*v - max).exp();
        total += *v;
    }
    for v in x.iter_mut() {
        *v /= total;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::builder::{Float32Builder, Float64Builder, ListBuilder};
    use arrow_array::cast::AsArray;
    use arrow_array::{Int64Array, UInt8Array};

    use super::*;

    fn floats(rows: &[Option<&[f64]>]) -> ArrayRef {
        let mut b = ListBuilder::new(Float64Builder::new());
        for row in rows {
            match row {
                Some(r) => b.append_value(r.iter().map(|&x| Some(x))),
                None => b.append_null(),
            }
        }
        Arc::new(b.finish())
    }

    fn opts(convention: BrierConvention, from_logprobs: bool) -> BrierOptions {
        BrierOptions {
            convention,
            from_logprobs,
            tolerance: DEFAULT_SUM_TOLERANCE,
            workers: Workers::Exactly(1),
            on_error: OnError::Raise,
        }
    }

    #[test]
    fn conventions_differ_by_k() {
        let p = floats(&[Some(&[0.7, 0.2, 0.1, 0.0]), None]);
        let l: ArrayRef = Arc::new(Int64Array::from(vec![Some(0), Some(1)]));
        let sum = brier_score(
            std::slice::from_ref(&p),
            std::slice::from_ref(&l),
            opts(BrierConvention::Sum, false),
        )
        .unwrap();
        let sum = sum.as_primitive::<Float64Type>();
        assert!((sum.value(0) - (0.09 + 0.04 + 0.01)).abs() < 1e-12);
        assert!(sum.is_null(1));
        let mean = brier_score(&[p], &[l], opts(BrierConvention::ClassMean, false)).unwrap();
        assert!((mean.as_primitive::<Float64Type>().value(0) - 0.14 / 4.0).abs() < 1e-12);
    }

    #[test]
    fn logprobs_and_soft_targets() {
        let lp = floats(&[Some(&[0.0_f64.ln(), 0.25_f64.ln(), 0.75_f64.ln()])]);
        let soft = floats(&[Some(&[0.0, 0.0, 1.0])]);
        let out = brier_score(&[lp], &[soft], opts(BrierConvention::Sum, true)).unwrap();
        assert!((out.as_primitive::<Float64Type>().value(0) - (0.0625 + 0.0625)).abs() < 1e-12);
    }

    #[test]
    fn float32_rows_within_tolerance() {
        let mut b = ListBuilder::new(Float32Builder::new());
        b.append_value([Some(0.1f32), Some(0.2), Some(0.7)]);
        let p: ArrayRef = Arc::new(b.finish());
        let l: ArrayRef = Arc::new(UInt8Array::from(vec![2]));
        assert!(brier_score(&[p], &[l], opts(BrierConvention::Sum, false)).is_ok());
    }

    #[test]
    fn bad_input_names_row_and_choice() {
        let l: ArrayRef = Arc::new(Int64Array::from(vec![0, 0]));
        let o = opts(BrierConvention::Sum, false);
        let e = brier_score(
            &[floats(&[Some(&[1.0]), Some(&[f64::NAN, 1.0])])],
            std::slice::from_ref(&l),
            o,
        )
        .unwrap_err();
        assert!(matches!(
            e,
            RescoreError::ProbabilityOutOfRange {
                row: 1,
                choice: 0,
                ..
            }
        ));
        let e = brier_score(
            &[floats(&[Some(&[1.0]), Some(&[0.5, 0.6])])],
            std::slice::from_ref(&l),
            o,
        )
        .unwrap_err();
        assert!(matches!(e, RescoreError::NotNormalized { row: 1, .. }));
        let e = brier_score(
            &[floats(&[Some(&[1.0]), Some(&[-0.1, 1.1])])],
            std::slice::from_ref(&l),
            o,
        )
        .unwrap_err();
        assert!(matches!(
            e,
            RescoreError::ProbabilityOutOfRange {
                row: 1,
                choice: 0,
                ..
            }
        ));
        let e = brier_score(
            &[floats(&[Some(&[1.0]), Some(&[])])],
            std::slice::from_ref(&l),
            o,
        )
        .unwrap_err();
        assert_eq!(
            e,
            RescoreError::EmptyChoices {
                argument: "probabilities",
                row: 1
            }
        );
        let far: ArrayRef = Arc::new(Int64Array::from(vec![0, 2]));
        let e = brier_score(&[floats(&[Some(&[1.0]), Some(&[0.5, 0.5])])], &[far], o).unwrap_err();
        assert!(matches!(
            e,
            RescoreError::LabelOutOfRange {
                row: 1,
                label: 2,
                choices: 2,
                ..
            }
        ));
        let e = brier_score(
            &[floats(&[Some(&[f64::NEG_INFINITY])])],
            &[l.slice(0, 1)],
            opts(BrierConvention::Sum, true),
        )
        .unwrap_err();
        assert!(matches!(
            e,
            RescoreError::ProbabilityOutOfRange { row: 0, .. }
        ));
    }
}
