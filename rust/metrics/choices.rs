//! What multiple-choice metrics share: reading the gold label of a row, either a choice index
//! (lm-eval `gold`) or a per-choice target score list (BIG-bench `target_scores`).

use arrow_array::Array;
use arrow_buffer::NullBuffer;

use crate::columns::{FloatLists, IntValues};
use crate::error::{RescoreError, RescoreResult};

/// The gold answer column.
pub enum Labels<'a> {
    /// One choice index per row (any integer type), and its nulls.
    Index(IntValues<'a>, Option<NullBuffer>),
    /// One target score per choice per row (soft targets), each in [0, 1].
    Soft(FloatLists<'a>),
}

/// A null buffer that marks at least one null (a per-row check is worth it only then).
fn present(nulls: Option<&NullBuffer>) -> Option<&NullBuffer> {
    nulls.filter(|n| n.null_count() > 0)
}

/// Choice indices as [`Labels::plain_index`] gives them.
pub enum PlainIndex<'a> {
    /// int64 (pyarrow's default).
    I64(&'a [i64]),
    /// int32.
    I32(&'a [i32]),
}

/// Row `i`'s gold answer.
pub enum Gold<'s> {
    /// The correct choice.
    Index(usize),
    /// Per-choice target scores (same length as the row's choices).
    Soft(&'s [f64]),
}

impl<'a> Labels<'a> {
    /// View `array` as labels: integers, or lists of floats.
    pub fn try_new(array: &'a dyn Array) -> RescoreResult<Self> {
        if let Some(ints) = IntValues::try_new(array) {
            // The null buffer is resolved once here, not through `dyn Array` per row.
            return Ok(Self::Index(ints, array.logical_nulls()));
        }
        FloatLists::try_new("labels", array).map(Self::Soft).map_err(|_| RescoreError::UnsupportedType {
            argument: "labels",
            dtype: array.data_type().to_string(),
            expected: "an integer choice index per row, or a list of per-choice target scores (list<float>)",
        })
    }

    /// The labels as an `int64` slice when they are `int64` without nulls (pyarrow's default).
    pub fn dense_i64(&self) -> Option<&'a [i64]> {
        match self {
            Self::Index(IntValues::I64(v), nulls)
                if nulls.as_ref().is_none_or(|n| n.null_count() == 0) =>
            {
                Some(v)
            }
            _ => None,
        }
    }

    /// The labels as a plain `int64` or `int32` slice and their nulls (if any), for kernels
    /// monomorphised over the label type; `None` for other types and for soft targets.
    pub fn plain_index(&self) -> Option<(PlainIndex<'a>, Option<&NullBuffer>)> {
        match self {
            Self::Index(IntValues::I64(v), nulls) => {
                Some((PlainIndex::I64(v), present(nulls.as_ref())))
            }
            Self::Index(IntValues::I32(v), nulls) => {
                Some((PlainIndex::I32(v), present(nulls.as_ref())))
            }
            _ => None,
        }
    }

    /// Whether row `row`'s label is null.
    #[inline]
    pub fn is_null(&self, row: usize) -> bool {
        match self {
            Self::Index(_, nulls) => nulls.as_ref().is_some_and(|n| n.is_null(row)),
            Self::Soft(lists) => lists.lists.is_null(row),
        }
    }

    /// Row `row`'s gold answer checked against `choices` choices; `None` for a null label.
    /// `buffer` holds soft targets.
    #[inline]
    pub fn gold<'s>(
        &'s self,
        row: usize,
        choices: usize,
        buffer: &'s mut Vec<f64>,
    ) -> RescoreResult<Option<Gold<'s>>> {
        match self {
            Self::Index(ints, nulls) => {
                if nulls.as_ref().is_some_and(|n| n.is_null(row)) {
                    return Ok(None);
                }
                // A uint64 label above i64::MAX is out of range whatever the row: saturate.
                let label = ints.get(row).unwrap_or(i64::MAX);
                if label < 0 || label as u64 >= choices as u64 {
                    return Err(RescoreError::LabelOutOfRange {
                        argument: "labels",
                        row,
                        label,
                        choices,
                    });
                }
                Ok(Some(Gold::Index(label as usize)))
            }
            Self::Soft(lists) => {
                let Some(targets) = lists.row(row, buffer)? else {
                    return Ok(None);
                };
                if targets.len() != choices {
                    return Err(RescoreError::ChoiceCountMismatch {
                        row,
                        left: "labels",
                        left_len: targets.len(),
                        right: "choices",
                        right_len: choices,
                    });
                }
                if let Some((choice, &value)) = targets
                    .iter()
                    .enumerate()
                    .find(|(_, t)| !(0.0..=1.0).contains(*t))
                {
                    return Err(RescoreError::ProbabilityOutOfRange {
                        argument: "labels",
                        row,
                        choice,
                        value,
                        expected: "target score in [0, 1]",
                    });
                }
                Ok(Some(Gold::Soft(targets)))
            }
        }
    }
}
