//! `token_edit_distance` and `char_edit_distance`: Levenshtein distance per row, over token ids
//! (or words) and over Unicode scalar values, optionally normalised, with the best (smallest)
//! value over several references when a row has a list of them.

use arrow_array::types::{Float64Type, UInt32Type};
use arrow_array::{Array, ArrayRef};

use super::levenshtein::{levenshtein, Scratch};
use super::pairs::{over_sequence_pairs, PairColumns, SequencePairs};
use super::{primitive_array, RowScores};
use crate::columns::Sequences;
use crate::error::{RescoreError, RescoreResult};
use crate::parallel::{map_blocks, Blocks, OnError, Workers};
use crate::text::python_split;

/// How a raw distance is scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Normalize {
    /// The raw edit count (`uint32`).
    None,
    /// Divide by the longer length, as rapidfuzz's normalized distance does; in [0, 1]; two empty
    /// sequences give 0.
    Max,
    /// Divide by the reference length (the WER/CER convention); unbounded above. An empty
    /// reference counts as length 1, so it gives the prediction's length (0 when both are empty).
    Reference,
}

impl Normalize {
    /// Parse the Python option (`None` is handled by the caller).
    pub fn parse(name: Option<&str>) -> RescoreResult<Self> {
        match name {
            None => Ok(Self::None),
            Some("max") => Ok(Self::Max),
            Some("reference") => Ok(Self::Reference),
            Some(other) => Err(RescoreError::InvalidOption {
                option: "normalize",
                message: format!("got {other:?}, expected None, \"max\" or \"reference\""),
            }),
        }
    }
}

/// How strings are cut into the sequence the distance counts edits over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tokenizer {
    /// Words separated by whitespace, exactly as Python's `str.split()` cuts them (WER's words).
    Whitespace,
    /// Unicode scalar values (one `char` each), as CER counts them.
    Characters,
}

impl Tokenizer {
    /// Parse the Python option.
    pub fn parse(name: &str) -> RescoreResult<Self> {
        match name {
            "whitespace" => Ok(Self::Whitespace),
            "characters" => Ok(Self::Characters),
            other => Err(RescoreError::InvalidOption {
                option: "tokenizer",
                message: format!("got {other:?}, expected \"whitespace\" or \"characters\""),
            }),
        }
    }
}

/// Options shared by both edit distances.
#[derive(Debug, Clone, Copy)]
pub struct EditDistanceOptions {
    /// Scaling of the raw count.
    pub normalize: Normalize,
    /// How string columns are split (token-id columns ignore it).
    pub tokenizer: Tokenizer,
    /// Threads.
    pub workers: Workers,
    /// Rows that cannot be scored: raise or null.
    pub on_error: OnError,
}

/// Levenshtein distance between token-id sequences (list<int>), or between the tokens of strings
/// split by `options.tokenizer`. See [`Normalize`] for the scaling.
pub fn token_edit_distance(
    predictions: &[ArrayRef],
    references: &[ArrayRef],
    options: EditDistanceOptions,
) -> RescoreResult<ArrayRef> {
    edit_distance(predictions, references, options)
}

/// Levenshtein distance between strings, counted over Unicode scalar values (chars).
pub fn char_edit_distance(
    predictions: &[ArrayRef],
    references: &[ArrayRef],
    options: EditDistanceOptions,
) -> RescoreResult<ArrayRef> {
    for (argument, column) in [("predictions", predictions), ("references", references)] {
        if let Some(chunk) = column.first() {
            let is_text = matches!(Sequences::try_new(chunk.as_ref()), Some(Sequences::Text(_)));
            let is_text_list =
                crate::columns::ListColumn::try_new(chunk.as_ref()).is_some_and(|l| {
                    matches!(
                        Sequences::try_new(l.child.as_ref()),
                        Some(Sequences::Text(_))
                    )
                });
            // an all-null column (pyarrow `null`) scores as nulls, as in the token distance
            let is_null = chunk.data_type() == &arrow_schema::DataType::Null;
            if !(is_text || is_null || (argument == "references" && is_text_list)) {
                return Err(RescoreError::UnsupportedType {
                    argument,
                    dtype: chunk.data_type().to_string(),
                    expected:
                        "strings (utf8, large_utf8, utf8_view); references may be a list of strings",
                });
            }
        }
    }
    edit_distance(
        predictions,
        references,
        EditDistanceOptions {
            tokenizer: Tokenizer::Characters,
            ..options
        },
    )
}

fn edit_distance(
    predictions: &[ArrayRef],
    references: &[ArrayRef],
    options: EditDistanceOptions,
) -> RescoreResult<ArrayRef> {
    match options.normalize {
        Normalize::None => {
            let scores = over_sequence_pairs(predictions, references, |pairs| {
                score_piece(pairs, options, |d, _, _| d as u32)
            })?;
            Ok(primitive_array::<UInt32Type>(scores))
        }
        Normalize::Max => {
            let scores = over_sequence_pairs(predictions, references, |pairs| {
                score_piece(pairs, options, |d, lp, lr| {
                    let longer = lp.max(lr);
                    if longer == 0 {
                        0.0
                    } else {
                        d as f64 / longer as f64
                    }
                })
            })?;
            Ok(primitive_array::<Float64Type>(scores))
        }
        Normalize::Reference => {
            let scores = over_sequence_pairs(predictions, references, |pairs| {
                score_piece(pairs, options, |d, _, lr| d as f64 / lr.max(1) as f64)
            })?;
            Ok(primitive_array::<Float64Type>(scores))
        }
    }
}

/// Per-thread buffers for every kind of sequence.
#[derive(Default)]
struct RowScratch<'a> {
    ids: (Vec<i64>, Vec<i64>),
    ids_lev: Scratch<i64>,
    words: (Vec<&'a str>, Vec<&'a str>),
    words_lev: Scratch<&'a str>,
    chars: (Vec<char>, Vec<char>),
    chars_lev: Scratch<char>,
    bytes_lev: Scratch<u8>,
}

/// Distance, prediction length and reference length between prediction `row` and the reference
/// at `position`.
fn distance<'a>(
    columns: &PairColumns<'a>,
    row: usize,
    position: usize,
    tokenizer: Tokenizer,
    s: &mut RowScratch<'a>,
) -> RescoreResult<(usize, usize, usize)> {
    match columns {
        PairColumns::Tokens {
            predictions,
            references,
        } => {
            predictions.read(row, row, &mut s.ids.0)?;
            references.read(position, row, &mut s.ids.1)?;
            let d = levenshtein(&s.ids.0, &s.ids.1, &mut s.ids_lev);
            Ok((d, s.ids.0.len(), s.ids.1.len()))
        }
        PairColumns::Text {
            predictions,
            references,
        } => {
            let (a, b) = (predictions.value(row), references.value(position));
            match tokenizer {
                Tokenizer::Whitespace => {
                    s.words.0.clear();
                    s.words.0.extend(python_split(a));
                    s.words.1.clear();
                    s.words.1.extend(python_split(b));
                    let d = levenshtein(&s.words.0, &s.words.1, &mut s.words_lev);
                    Ok((d, s.words.0.len(), s.words.1.len()))
                }
                Tokenizer::Characters => {
                    if a.is_ascii() && b.is_ascii() {
                        // One char per byte: skip UTF-8 decoding (most generations are ASCII).
                        let d = levenshtein(a.as_bytes(), b.as_bytes(), &mut s.bytes_lev);
                        return Ok((d, a.len(), b.len()));
                    }
                    s.chars.0.clear();
                    s.chars.0.extend(a.chars());
                    s.chars.1.clear();
                    s.chars.1.extend(b.chars());
                    let d = levenshtein(&s.chars.0, &s.chars.1, &mut s.chars_lev);
                    Ok((d, s.chars.0.len(), s.chars.1.len()))
                }
            }
        }
    }
}

fn score_piece<T, F>(
    pairs: &SequencePairs<'_>,
    options: EditDistanceOptions,
    scale: F,
) -> RescoreResult<RowScores<T>>
where
    T: Copy + Default + Send + PartialOrd,
    F: Fn(usize, usize, usize) -> T + Sync,
{
    let n = pairs.len();
    let columns = pairs.columns();
    map_blocks(
        n,
        Blocks::for_sequences(n, pairs.total_len()),
        options.workers,
        options.on_error,
        |s: &mut RowScratch<'_>, row| {
            let Some(references) = pairs.references(row) else {
                return Ok(None);
            };
            let mut best: Option<T> = None;
            for r in references {
                let (d, lp, lr) = distance(&columns, row, r, options.tokenizer, s)?;
                let value = scale(d, lp, lr);
                if best.is_none_or(|b| value < b) {
                    best = Some(value);
                }
            }
            Ok(best)
        },
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::builder::{Int64Builder, LargeListBuilder, ListBuilder, StringBuilder};
    use arrow_array::cast::AsArray;
    use arrow_array::{LargeStringArray, StringArray, StringViewArray};

    use super::*;

    fn opts(normalize: Normalize, tokenizer: Tokenizer) -> EditDistanceOptions {
        EditDistanceOptions {
            normalize,
            tokenizer,
            workers: Workers::Exactly(1),
            on_error: OnError::Raise,
        }
    }

    fn ids(rows: &[Option<&[i64]>]) -> ArrayRef {
        let mut b = ListBuilder::new(Int64Builder::new());
        for row in rows {
            match row {
                Some(r) => b.append_value(r.iter().map(|&x| Some(x))),
                None => b.append_null(),
            }
        }
        Arc::new(b.finish())
    }

    #[test]
    fn tokens_raw_and_null() {
        let p = ids(&[Some(&[1, 2, 3]), None, Some(&[])]);
        let r = ids(&[Some(&[1, 3]), Some(&[1]), Some(&[])]);
        let out =
            token_edit_distance(&[p], &[r], opts(Normalize::None, Tokenizer::Whitespace)).unwrap();
        let out = out.as_primitive::<UInt32Type>();
        assert_eq!(out.value(0), 1);
        assert!(out.is_null(1));
        assert_eq!(out.value(2), 0);
    }

    #[test]
    fn layouts_mix_list_widths() {
        let mut b = LargeListBuilder::new(arrow_array::builder::Int32Builder::new());
        b.append_value([Some(1), Some(2), Some(3)]);
        let p: ArrayRef = Arc::new(b.finish());
        let r = ids(&[Some(&[1, 2, 4])]);
        let out =
            token_edit_distance(&[p], &[r], opts(Normalize::Max, Tokenizer::Whitespace)).unwrap();
        assert!((out.as_primitive::<Float64Type>().value(0) - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn words_and_string_layouts() {
        let p: ArrayRef = Arc::new(StringViewArray::from(vec!["the cat sat", "a"]));
        let r: ArrayRef = Arc::new(LargeStringArray::from(vec!["the  dog sat\n", ""]));
        let out = token_edit_distance(
            std::slice::from_ref(&p),
            std::slice::from_ref(&r),
            opts(Normalize::Reference, Tokenizer::Whitespace),
        )
        .unwrap();
        let out = out.as_primitive::<Float64Type>();
        assert!((out.value(0) - 1.0 / 3.0).abs() < 1e-12);
        // Empty reference counts as length 1.
        assert!((out.value(1) - 1.0).abs() < 1e-12);
        let chars =
            char_edit_distance(&[p], &[r], opts(Normalize::None, Tokenizer::Whitespace)).unwrap();
        assert_eq!(chars.as_primitive::<UInt32Type>().value(0), 5);
    }

    #[test]
    fn best_of_several_references() {
        let p: ArrayRef = Arc::new(StringArray::from(vec!["paris", "x"]));
        let mut b = ListBuilder::new(StringBuilder::new());
        b.append_value([Some("london"), None, Some("pari")]);
        b.append_value::<[Option<&str>; 0], _>([]);
        let r: ArrayRef = Arc::new(b.finish());
        let out =
            char_edit_distance(&[p], &[r], opts(Normalize::None, Tokenizer::Characters)).unwrap();
        let out = out.as_primitive::<UInt32Type>();
        assert_eq!(out.value(0), 1);
        assert!(out.is_null(1), "no reference: null, not a made-up number");
    }

    #[test]
    fn chunked_inputs_align() {
        let p1 = ids(&[Some(&[1]), Some(&[2, 2])]);
        let p2 = ids(&[Some(&[3])]);
        let r = ids(&[Some(&[1]), Some(&[2]), Some(&[4, 4])]);
        let out = token_edit_distance(
            &[p1, p2],
            &[r.slice(0, 1), r.slice(1, 2)],
            opts(Normalize::None, Tokenizer::Whitespace),
        )
        .unwrap();
        let v: Vec<u32> = out.as_primitive::<UInt32Type>().values().to_vec();
        assert_eq!(v, vec![0, 1, 2]);
    }

    #[test]
    fn errors_name_argument_and_row() {
        let mut b = ListBuilder::new(Int64Builder::new());
        b.append_value([Some(1)]);
        b.append_value([Some(1), None]);
        let p: ArrayRef = Arc::new(b.finish());
        let r = ids(&[Some(&[1]), Some(&[1])]);
        let e = token_edit_distance(
            std::slice::from_ref(&p),
            &[r],
            opts(Normalize::None, Tokenizer::Whitespace),
        )
        .unwrap_err();
        assert_eq!(
            e,
            RescoreError::NullElement {
                argument: "predictions",
                row: 1,
                position: 1
            }
        );
        let s: ArrayRef = Arc::new(StringArray::from(vec!["a", "b"]));
        let e = token_edit_distance(
            &[p],
            std::slice::from_ref(&s),
            opts(Normalize::None, Tokenizer::Whitespace),
        )
        .unwrap_err();
        assert!(matches!(
            e,
            RescoreError::UnsupportedType {
                argument: "references",
                ..
            }
        ));
        let e = char_edit_distance(
            &[ids(&[Some(&[1])])],
            &[s],
            opts(Normalize::None, Tokenizer::Whitespace),
        )
        .unwrap_err();
        assert!(matches!(
            e,
            RescoreError::UnsupportedType {
                argument: "predictions",
                ..
            }
        ));
    }
}
