//! `brier_score`: squared error between the predicted distribution over choices and the one-hot
//! (or soft) target, per example.
//!
//! Conventions differ by a factor of the number of choices K: lm-eval sums over choices (range
//! [0, 2]); BIG-bench averages over (example, choice) pairs, i.e. divides the sum by K.

use arrow_array::types::Float64Type;
use arrow_array::{Array, ArrayRef};

use super::choices::{Gold, Labels};
use super::exp::Exp;
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
    if let (Some((values, width)), Some(gold), false) =
        (probs.dense_f64(), labels.dense_i64(), options.from_logprobs)
    {
        return score_dense(values, width, gold, options);
    }
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
            }
            // One pass checks the distribution and sums the squared errors; the label is checked
            // after the probabilities, whose errors come first.
            let gold = labels.gold(row, p.len(), t);
            let pass = match &gold {
                Ok(Some(Gold::Soft(targets))) => {
                    squared_errors(p, targets.iter().copied(), options.tolerance)
                }
                Ok(Some(Gold::Index(label))) => squared_errors(
                    p,
                    (0..p.len()).map(|k| f64::from(u8::from(k == *label))),
                    options.tolerance,
                ),
                _ => squared_errors(p, std::iter::repeat(0.0), options.tolerance),
            };
            let valid = pass.in_range && (pass.total - 1.0).abs() <= options.tolerance;
            // A softmax output is a distribution by construction.
            if !(options.from_logprobs || valid) {
                return Err(distribution_error(p, row, options.tolerance));
            }
            if gold?.is_none() {
                return Ok(None);
            }
            let sum = pass.squared;
            Ok(Some(match options.convention {
                BrierConvention::Sum => sum,
                BrierConvention::ClassMean => sum / p.len() as f64,
            }))
        },
    )
}

/// [`score_piece`] for a `[rows x width]` float64 block and `int64` labels, none null: the same
/// checks and results, at memory speed.
fn score_dense(
    values: &[f64],
    width: usize,
    labels: &[i64],
    options: BrierOptions,
) -> RescoreResult<RowScores<f64>> {
    map_rows(
        labels.len(),
        options.workers,
        options.on_error,
        |(): &mut (), row| {
            let p = &values[row * width..(row + 1) * width];
            let label = labels[row];
            let gold = usize::try_from(label).unwrap_or(usize::MAX);
            let pass = squared_errors(
                p,
                (0..width).map(|k| if k == gold { 1.0 } else { 0.0 }),
                options.tolerance,
            );
            if !(pass.in_range && (pass.total - 1.0).abs() <= options.tolerance) {
                return Err(distribution_error(p, row, options.tolerance));
            }
            if label < 0 || label as u64 >= width as u64 {
                return Err(RescoreError::LabelOutOfRange {
                    argument: "labels",
                    row,
                    label,
                    choices: width,
                });
            }
            Ok(Some(match options.convention {
                BrierConvention::Sum => pass.squared,
                BrierConvention::ClassMean => pass.squared / width as f64,
            }))
        },
    )
}

/// What one pass over a row of probabilities finds.
struct RowPass {
    /// Every value is in [0, 1 + tolerance] (false for NaN).
    in_range: bool,
    /// Their sum.
    total: f64,
    /// Sum of squared differences from the targets.
    squared: f64,
}

#[inline]
#[allow(clippy::needless_bitwise_bool)] // branch-free on purpose: rows are almost always valid
fn squared_errors(p: &[f64], targets: impl Iterator<Item = f64>, tolerance: f64) -> RowPass {
    let high = 1.0 + tolerance;
    let (mut in_range, mut total, mut squared) = (true, 0.0, 0.0);
    for (&pk, tk) in p.iter().zip(targets) {
        // Comparisons with NaN are false, so NaN fails too.
        in_range &= (pk >= 0.0) & (pk <= high);
        total += pk;
        squared += (pk - tk) * (pk - tk);
    }
    RowPass {
        in_range,
        total,
        squared,
    }
}

/// The error for a probability row that failed [`squared_errors`]' checks: the first value out
/// of range, else the sum.
#[cold]
fn distribution_error(p: &[f64], row: usize, tolerance: f64) -> RescoreError {
    if let Some((choice, &value)) = p
        .iter()
        .enumerate()
        .find(|(_, v)| !(0.0..=1.0 + tolerance).contains(*v))
    {
        return RescoreError::ProbabilityOutOfRange {
            argument: "probabilities",
            row,
            choice,
            value,
            expected: "probability in [0, 1]",
        };
    }
    RescoreError::NotNormalized {
        argument: "probabilities",
        row,
        sum: p.iter().sum(),
        tolerance,
    }
}

/// Softmax of log-likelihoods, stable (shifted by the maximum). `-inf` is a zero-probability
/// choice; NaN and `+inf` are errors, and so is a row where every choice is `-inf`.
pub(crate) fn softmax_in_place(x: &mut [f64], row: usize) -> RescoreResult<()> {
    softmax_named(x, "probabilities", row)
}

/// [`softmax_in_place`] with errors naming `argument`.
pub(crate) fn softmax_named(
    x: &mut [f64],
    argument: &'static str,
    row: usize,
) -> RescoreResult<()> {
    let max = logprob_max(x, argument, row)?;
    let exp = Exp::get();
    let mut total = 0.0;
    for v in x.iter_mut() {
        *v = exp.nonpositive(*v - max);
        total += *v;
    }
    for v in x.iter_mut() {
        *v /= total;
    }
    Ok(())
}

/// The largest of a row's log-likelihoods, checking them on the way: NaN and `+inf` are
/// errors, and so is a row where every choice is `-inf` (no probability to share out).
#[inline]
pub(crate) fn logprob_max(x: &[f64], argument: &'static str, row: usize) -> RescoreResult<f64> {
    let mut max = f64::NEG_INFINITY;
    if let Some(choice) = x.iter().position(|&v| v.is_nan() || v == f64::INFINITY) {
        return Err(RescoreError::ProbabilityOutOfRange {
            argument,
            row,
            choice,
            value: x[choice],
            expected: "log-likelihood (finite, or -inf)",
        });
    }
    for &value in x {
        max = max.max(value);
    }
    if max == f64::NEG_INFINITY {
        return Err(RescoreError::ProbabilityOutOfRange {
            argument,
            row,
            choice: 0,
            value: max,
            expected: "log-likelihood row with at least one finite value",
        });
    }
    Ok(max)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::builder::{Float32Builder, Float64Builder, ListBuilder};
    use arrow_array::cast::AsArray;
    use arrow_array::{FixedSizeListArray, Float64Array, Int64Array, UInt8Array};
    use arrow_schema::DataType;

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
    fn dense_block_path_matches_the_general_path() {
        // The same rows as fixed_size_list (the dense path) and as list (the general one):
        // same scores, same first error, same nulls under on_error="null".
        let rows: [[f64; 3]; 6] = [
            [0.2, 0.3, 0.5],
            [1.0, 0.0, 0.0],
            [0.5, 0.5, 0.5],      // sums to 1.5
            [f64::NAN, 0.5, 0.5], // NaN
            [0.1, 0.1, 0.8],      // label out of range below
            [-0.5, 0.75, 0.75],   // negative
        ];
        let labels: ArrayRef = Arc::new(Int64Array::from(vec![2, 0, 1, 0, 3, 1]));
        let flat = Float64Array::from(rows.iter().flatten().copied().collect::<Vec<_>>());
        let field = Arc::new(arrow_schema::Field::new_list_field(DataType::Float64, true));
        let fixed: ArrayRef = Arc::new(FixedSizeListArray::new(field, 3, Arc::new(flat), None));
        let listed = floats(&rows.iter().map(|r| Some(&r[..])).collect::<Vec<_>>());
        let probs = FloatLists::try_new("probabilities", fixed.as_ref()).unwrap();
        assert!(
            probs.dense_f64().is_some(),
            "the fixed-size layout takes the dense path"
        );
        for convention in [BrierConvention::Sum, BrierConvention::ClassMean] {
            for on_error in [OnError::Raise, OnError::Null] {
                let options = BrierOptions {
                    on_error,
                    ..opts(convention, false)
                };
                let run = |p: &ArrayRef, l: &ArrayRef| {
                    brier_score(std::slice::from_ref(p), std::slice::from_ref(l), options)
                        .map(|a| a.as_primitive::<Float64Type>().iter().collect::<Vec<_>>())
                };
                assert_eq!(run(&fixed, &labels), run(&listed, &labels));
                // Sliced: the dense block starts at the array's offset.
                let tail = labels.slice(1, 5);
                assert_eq!(
                    run(&fixed.slice(1, 5), &tail),
                    run(&listed.slice(1, 5), &tail)
                );
                let ok = labels.slice(1, 1);
                assert_eq!(run(&fixed.slice(1, 1), &ok).unwrap(), vec![Some(0.0)]);
            }
        }
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
