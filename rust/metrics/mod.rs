//! The metrics. Each takes chunked Arrow columns (`&[ArrayRef]`, one array = one chunk) and
//! returns one Arrow array with a value per row; a null input row gives a null output row.

pub mod bleu;
pub mod brier_score;
mod choices;
pub mod chrf;
pub mod edit_distance;
pub mod exact_match;
mod exp;
pub mod gold_probability;
pub mod levenshtein;
pub mod levenshtein_lanes;
pub mod multiple_choice_grade;
mod ngrams;
mod pairs;
pub mod porter;
pub mod rouge;
pub mod sampling;
pub mod token_f1;

use std::sync::Arc;

use arrow_array::types::ArrowPrimitiveType;
use arrow_array::{Array, ArrayRef, BooleanArray, PrimitiveArray};
use arrow_buffer::NullBuffer;
use arrow_schema::DataType;

use crate::columns::align_chunks;
use crate::error::RescoreResult;

/// Per-row values and validity, as produced by [`crate::parallel::map_rows`].
pub(crate) type RowScores<T> = (Vec<T>, Vec<bool>);

/// Run `score_piece` over aligned pieces of two chunked columns and concatenate the results,
/// shifting row numbers in errors so they name rows of the whole input.
pub(crate) fn over_aligned_chunks<T, F>(
    left: (&'static str, &[ArrayRef]),
    right: (&'static str, &[ArrayRef]),
    score_piece: F,
) -> RescoreResult<RowScores<T>>
where
    T: Copy + Default,
    F: Fn(&dyn Array, &dyn Array) -> RescoreResult<RowScores<T>>,
{
    let pieces = align_chunks(left, right)?;
    let score = |l: &ArrayRef, r: &ArrayRef| {
        if l.data_type() == &DataType::Null || r.data_type() == &DataType::Null {
            // An all-null column (pyarrow infers type `null` for `[None, None]`): all-null out.
            return Ok((vec![T::default(); l.len()], vec![false; l.len()]));
        }
        score_piece(l.as_ref(), r.as_ref())
    };
    if let [(l, r)] = pieces.as_slice() {
        return score(l, r);
    }
    let (mut values, mut valid) = (Vec::new(), Vec::new());
    for (l, r) in &pieces {
        let offset = values.len();
        let (v, ok) = score(l, r).map_err(|e| e.offset_row(offset))?;
        values.extend(v);
        valid.extend(ok);
    }
    Ok((values, valid))
}

fn null_buffer(valid: Vec<bool>) -> Option<NullBuffer> {
    let nulls = NullBuffer::from(valid);
    (nulls.null_count() > 0).then_some(nulls)
}

/// Build a primitive Arrow array from row scores.
pub(crate) fn primitive_array<P: ArrowPrimitiveType>(scores: RowScores<P::Native>) -> ArrayRef {
    let (values, valid) = scores;
    Arc::new(PrimitiveArray::<P>::new(values.into(), null_buffer(valid)))
}

/// Build a boolean Arrow array from row scores.
pub(crate) fn boolean_array(scores: RowScores<bool>) -> ArrayRef {
    let (values, valid) = scores;
    Arc::new(BooleanArray::new(values.into(), null_buffer(valid)))
}
