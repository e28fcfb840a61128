//! `multiple_choice_grade`: 1 when the highest-scored choice is the gold one, else 0; with soft
//! targets, the target score of the highest-scored choice (BIG-bench).
//!
//! Ties go to the lowest choice index, as `numpy.argmax` in lm-eval's `acc` (BIG-bench breaks
//! ties by a hash instead, which is not reproducible across implementations).

use arrow_array::types::Float64Type;
use arrow_array::{Array, ArrayRef};

use super::choices::{Gold, Labels};
use super::{over_aligned_chunks, primitive_array, RowScores};
use crate::columns::FloatLists;
use crate::error::{RescoreError, RescoreResult};
use crate::parallel::{map_rows, OnError, Workers};

/// Grade per row. `scores` is list<float> of any real per-choice scores (log-likelihoods,
/// probabilities; `-inf` allowed, NaN rejected); `labels` an index or per-choice target scores.
pub fn multiple_choice_grade(
    scores: &[ArrayRef],
    labels: &[ArrayRef],
    workers: Workers,
    on_error: OnError,
) -> RescoreResult<ArrayRef> {
    let out = over_aligned_chunks(("scores", scores), ("labels", labels), |s, l| {
        score_piece(s, l, workers, on_error)
    })?;
    Ok(primitive_array::<Float64Type>(out))
}

fn score_piece(
    scores: &dyn Array,
    labels: &dyn Array,
    workers: Workers,
    on_error: OnError,
) -> RescoreResult<RowScores<f64>> {
    let scores = FloatLists::try_new("scores", scores)?;
    let labels = Labels::try_new(labels)?;
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
            let mut best = 0;
            for (choice, &value) in s.iter().enumerate() {
                if value.is_nan() {
                    return Err(RescoreError::ProbabilityOutOfRange {
                        argument: "scores",
                        row,
                        choice,
                        value,
                        expected: "score (any real number or -inf)",
                    });
                }
                // Strictly greater: the first of tied maxima wins.
                if value > s[best] {
                    best = choice;
                }
            }
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
}
