//! The set-up the sequence metrics (`exact_match`, the edit distances) share: predictions and
//! their acceptable references viewed once per aligned piece, the references a row is compared
//! with, and token rows read with errors that name the argument and the prediction row.

use std::ops::Range;

use arrow_array::{Array, ArrayRef};

use super::{over_aligned_chunks, RowScores};
use crate::columns::{IntValues, ListColumn, References, Sequences, StrColumn};
use crate::error::{RescoreError, RescoreResult};

const EXPECTED_PREDICTIONS: &str =
    "strings (utf8, large_utf8, utf8_view) or lists of integer token ids";
const EXPECTED_TEXT_REFERENCES: &str = "strings or a list of strings per row, like predictions";
const EXPECTED_TOKEN_REFERENCES: &str =
    "the same kind as predictions, or a list of acceptable references of that kind per row";

/// Score two chunked columns (predictions, references) piece by piece: `score_piece` gets the
/// pairs of each aligned piece, and row numbers in its errors are shifted to name rows of the
/// whole input.
pub(crate) fn over_sequence_pairs<T, F>(
    predictions: &[ArrayRef],
    references: &[ArrayRef],
    score_piece: F,
) -> RescoreResult<RowScores<T>>
where
    T: Copy + Default,
    F: Fn(&SequencePairs<'_>) -> RescoreResult<RowScores<T>>,
{
    over_aligned_chunks(
        ("predictions", predictions),
        ("references", references),
        |p, r| score_piece(&SequencePairs::try_new(p, r)?),
    )
}

/// Predictions and their references, of the same kind: one row of each per output row.
pub(crate) struct SequencePairs<'a> {
    predictions: Sequences<'a>,
    references: References<'a>,
    len: usize,
}

/// The two sides of [`SequencePairs`], by kind. Reference positions index the `references` side
/// (the flattened list of references when rows have several).
pub(crate) enum PairColumns<'a> {
    /// Strings on both sides.
    Text {
        predictions: StrColumn<'a>,
        references: StrColumn<'a>,
    },
    /// Token-id lists on both sides.
    Tokens {
        predictions: TokenRows<'a>,
        references: TokenRows<'a>,
    },
}

impl<'a> SequencePairs<'a> {
    /// View a piece of predictions and references, or say which argument has the wrong type.
    pub fn try_new(predictions: &'a dyn Array, references: &'a dyn Array) -> RescoreResult<Self> {
        let preds =
            Sequences::try_new(predictions).ok_or_else(|| RescoreError::UnsupportedType {
                argument: "predictions",
                dtype: predictions.data_type().to_string(),
                expected: EXPECTED_PREDICTIONS,
            })?;
        let refs = References::try_new(references, &preds).ok_or_else(|| {
            RescoreError::UnsupportedType {
                argument: "references",
                dtype: references.data_type().to_string(),
                expected: match preds {
                    Sequences::Text(_) => EXPECTED_TEXT_REFERENCES,
                    Sequences::Tokens(..) => EXPECTED_TOKEN_REFERENCES,
                },
            }
        })?;
        Ok(Self {
            predictions: preds,
            references: refs,
            len: predictions.len(),
        })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Tokens (token-id lists) or bytes (strings) over both sides, to size parallel blocks.
    pub fn total_len(&self) -> usize {
        self.predictions.total_len() + self.references.inner().total_len()
    }

    /// The columns by kind.
    pub fn columns(&self) -> PairColumns<'a> {
        match (self.predictions, *self.references.inner()) {
            (Sequences::Text(predictions), Sequences::Text(references)) => PairColumns::Text {
                predictions,
                references,
            },
            (Sequences::Tokens(pl, pv), Sequences::Tokens(rl, rv)) => PairColumns::Tokens {
                predictions: TokenRows::new(pl, pv, "predictions"),
                references: TokenRows::new(rl, rv, "references"),
            },
            // References::try_new only pairs sequences of the same kind.
            _ => unreachable!("predictions and references of different kinds"),
        }
    }

    /// The positions of row `row`'s references, null ones included (see
    /// [`Self::is_reference_null`]); `None` when the prediction or the row's references are
    /// null, which gives a null result.
    pub fn reference_positions(&self, row: usize) -> Option<Range<usize>> {
        if self.predictions.is_null(row) {
            return None;
        }
        self.references.positions(row)
    }

    /// Whether the reference at `position` is null (a null entry in a row's list is skipped; a
    /// row whose references are all null gives a null result).
    pub fn is_reference_null(&self, position: usize) -> bool {
        self.references.inner().is_null(position)
    }

    /// The non-null references of row `row`, or `None` as [`Self::reference_positions`].
    pub fn references(&self, row: usize) -> Option<impl Iterator<Item = usize> + '_> {
        let positions = self.reference_positions(row)?;
        Some(positions.filter(move |&j| !self.is_reference_null(j)))
    }
}

/// A list<int> column read as `i64` token ids.
#[derive(Clone, Copy)]
pub(crate) struct TokenRows<'a> {
    lists: ListColumn<'a>,
    values: IntValues<'a>,
    argument: &'static str,
}

impl<'a> TokenRows<'a> {
    fn new(lists: ListColumn<'a>, values: IntValues<'a>, argument: &'static str) -> Self {
        Self {
            lists,
            values,
            argument,
        }
    }

    /// Read the ids at `position` into `out` (cleared first). Errors (a null id, a `uint64` id
    /// above `i64::MAX`) name this side's argument and the prediction row `row`.
    pub fn read(&self, position: usize, row: usize, out: &mut Vec<i64>) -> RescoreResult<()> {
        out.clear();
        if let Some(at) = self.lists.first_null_in(position) {
            return Err(RescoreError::NullElement {
                argument: self.argument,
                row,
                position: at,
            });
        }
        self.values
            .extend_into(self.lists.range(position), out)
            .map_err(|value| RescoreError::TokenOutOfRange {
                argument: self.argument,
                row,
                value,
            })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::builder::{Int64Builder, ListBuilder, StringBuilder, UInt64Builder};
    use arrow_array::{Int64Array, StringArray};

    use super::*;

    fn string_lists(rows: &[Option<&[Option<&str>]>]) -> ArrayRef {
        let mut b = ListBuilder::new(StringBuilder::new());
        for row in rows {
            match row {
                Some(r) => b.append_value(r.iter().copied()),
                None => b.append_null(),
            }
        }
        Arc::new(b.finish())
    }

    #[test]
    fn references_skip_nulls_and_null_rows_give_none() {
        let p: ArrayRef = Arc::new(StringArray::from(vec![
            Some("a"),
            None,
            Some("c"),
            Some("d"),
        ]));
        let r = string_lists(&[
            Some(&[Some("x"), None, Some("a")]),
            Some(&[Some("b")]),
            None,
            Some(&[None]),
        ]);
        let pairs = SequencePairs::try_new(p.as_ref(), r.as_ref()).unwrap();
        assert_eq!(pairs.len(), 4);
        let refs = |row| pairs.references(row).map(Iterator::collect::<Vec<_>>);
        assert_eq!(refs(0), Some(vec![0, 2]));
        assert_eq!(refs(1), None, "null prediction");
        assert_eq!(refs(2), None, "null list of references");
        assert_eq!(refs(3), Some(vec![]), "only null references");
        assert_eq!(pairs.reference_positions(3), Some(4..5));
        assert!(matches!(pairs.columns(), PairColumns::Text { .. }));
    }

    #[test]
    fn sliced_pieces_read_their_own_rows() {
        let p: ArrayRef = Arc::new(StringArray::from(vec!["a", "b", "c"]));
        let r: ArrayRef = Arc::new(StringArray::from(vec![Some("x"), None, Some("z")]));
        let (p, r) = (p.slice(1, 2), r.slice(1, 2));
        let pairs = SequencePairs::try_new(p.as_ref(), r.as_ref()).unwrap();
        assert!(pairs.references(0).is_none(), "a null single reference");
        assert_eq!(pairs.references(1).map(Iterator::collect), Some(vec![1]));
        let PairColumns::Text { references, .. } = pairs.columns() else {
            panic!("text pairs");
        };
        assert_eq!(references.value(1), "z");
    }

    #[test]
    fn token_errors_name_argument_and_prediction_row() {
        let mut b = ListBuilder::new(Int64Builder::new());
        b.append_value([Some(1), Some(2)]);
        b.append_value([Some(3), None]);
        let p: ArrayRef = Arc::new(b.finish());
        let mut b = ListBuilder::new(UInt64Builder::new());
        b.append_value([Some(1)]);
        b.append_value([Some(u64::MAX)]);
        let r: ArrayRef = Arc::new(b.finish());
        let pairs = SequencePairs::try_new(p.as_ref(), r.as_ref()).unwrap();
        let PairColumns::Tokens {
            predictions,
            references,
        } = pairs.columns()
        else {
            panic!("token pairs");
        };
        let mut out = vec![9];
        predictions.read(0, 0, &mut out).unwrap();
        assert_eq!(out, vec![1, 2]);
        assert_eq!(
            predictions.read(1, 7, &mut out),
            Err(RescoreError::NullElement {
                argument: "predictions",
                row: 7,
                position: 1
            })
        );
        assert_eq!(
            references.read(1, 7, &mut out),
            Err(RescoreError::TokenOutOfRange {
                argument: "references",
                row: 7,
                value: u64::MAX
            })
        );
    }

    #[test]
    fn wrong_types_name_the_argument() {
        let ints: ArrayRef = Arc::new(Int64Array::from(vec![1]));
        let text: ArrayRef = Arc::new(StringArray::from(vec!["a"]));
        let e = SequencePairs::try_new(ints.as_ref(), text.as_ref()).err();
        assert!(matches!(
            e,
            Some(RescoreError::UnsupportedType {
                argument: "predictions",
                ..
            })
        ));
        let e = SequencePairs::try_new(text.as_ref(), ints.as_ref()).err();
        assert!(matches!(
            e,
            Some(RescoreError::UnsupportedType {
                argument: "references",
                expected: EXPECTED_TEXT_REFERENCES,
                ..
            })
        ));
    }

    #[test]
    fn chunks_are_aligned_and_rows_shifted() {
        let p: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec!["a"])),
            Arc::new(StringArray::from(vec!["b", "c"])),
        ];
        let r: Vec<ArrayRef> = vec![Arc::new(StringArray::from(vec!["a", "b", "c"]))];
        let seen = over_sequence_pairs(&p, &r, |pairs| {
            let n = pairs.len();
            Ok((vec![n; n], vec![true; n]))
        })
        .unwrap();
        assert_eq!(seen.0, vec![1, 2, 2]);
        let e = over_sequence_pairs::<u8, _>(&p, &r, |pairs| {
            Err(RescoreError::EmptyChoices {
                argument: "x",
                row: pairs.len() - 1,
            })
        })
        .unwrap_err();
        assert_eq!(
            e,
            RescoreError::EmptyChoices {
                argument: "x",
                row: 0
            }
        );
    }
}
