//! `token_edit_distance` and `char_edit_distance`: Levenshtein distance per row, over token ids
//! (or words) and over Unicode scalar values, optionally normalised, with the best (smallest)
//! value over several references when a row has a list of them.

use arrow_array::types::{Float64Type, UInt32Type};
use arrow_array::{Array, ArrayRef};

use super::levenshtein::{
    levenshtein, match_stream, match_stream_bytes, LaneInput, Scratch, Stream, Symbol, WIDE_WORDS,
};
use super::levenshtein_lanes::{self, LaneKernel, LanePair, LaneScratch, WidePair, WideScratch};
use super::pairs::{over_sequence_pairs, PairColumns, SequencePairs};
use super::{primitive_array, RowScores};
use crate::columns::Sequences;
use crate::error::{RescoreError, RescoreResult};
use crate::parallel::{map_blocks_prepared, Blocks, OnError, Workers};
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
    lanes: LaneCache,
}

/// The pairs of a block whose shorter side fits 6 64-bit words, scored together in SIMD lanes
/// before the block's rows are visited ([`prepare_lanes`]); rows read their distance from here.
#[derive(Default)]
struct LaneCache {
    /// Reference position of `results[0]`.
    base: usize,
    /// Per reference position from `base`: (distance, prediction length, reference length), or
    /// `None` when the pair was not scored in lanes (long, unreadable, or a null reference).
    results: Vec<Option<(u32, u32, u32)>>,
    /// Match streams (single-word pairs) and ids (wide pairs) of the pending pairs, back to back.
    input: LaneInput,
    /// Pending single-word pairs: (position, stream start, stream length, pattern length).
    pending: Vec<(usize, usize, usize, usize)>,
    /// Pending wide pairs: (position, ids start, pattern length, text length, alphabet).
    wide: Vec<(usize, usize, usize, usize, usize)>,
    distances: Vec<u32>,
    scratch: LaneScratch,
    wide_scratch: WideScratch,
    /// Match masks by byte for ASCII text (all zero between pairs).
    byte_masks: Option<Box<[u64; 256]>>,
}

impl LaneCache {
    fn get(&self, position: usize) -> Option<(usize, usize, usize)> {
        let hit = (*self.results.get(position.checked_sub(self.base)?)?)?;
        Some((hit.0 as usize, hit.1 as usize, hit.2 as usize))
    }

    fn put(&mut self, position: usize, value: (usize, usize, usize)) {
        if self.results.is_empty() {
            self.base = position;
        }
        // Positions only grow within a block (rows are visited in order).
        let at = position - self.base;
        if self.results.len() <= at {
            self.results.resize(at + 1, None);
        }
        self.results[at] = Some((value.0 as u32, value.1 as u32, value.2 as u32));
    }

    /// Queue `a` against `b` (lengths `lp`, `lr`) for the lanes, or record its distance when
    /// trimming already decided it. Returns `false` for pairs too long for a lane.
    fn add<K: Symbol>(
        &mut self,
        position: usize,
        (a, b): (&[K], &[K]),
        lev: &mut Scratch<K>,
        max_words: usize,
    ) -> bool {
        let start = (self.input.streams.len(), self.input.ids.len());
        let stream = match_stream(a, b, lev, max_words, &mut self.input);
        self.record(position, start, stream, a.len(), b.len())
    }

    /// [`Self::add`] for ASCII text, with masks indexed by byte.
    fn add_bytes(&mut self, position: usize, a: &[u8], b: &[u8]) -> bool {
        let start = (self.input.streams.len(), self.input.ids.len());
        let masks = self.byte_masks.get_or_insert_with(|| Box::new([0; 256]));
        let stream = match_stream_bytes(a, b, masks, &mut self.input);
        self.record(position, start, stream, a.len(), b.len())
    }

    fn record(
        &mut self,
        position: usize,
        (stream_start, ids_start): (usize, usize),
        stream: Stream,
        a: usize,
        b: usize,
    ) -> bool {
        match stream {
            Stream::Appended { pattern_len } => {
                let len = self.input.streams.len() - stream_start;
                self.pending
                    .push((position, stream_start, len, pattern_len));
                // Lengths are filled in with the distance (see `run`): keep them now.
                self.put(position, (u32::MAX as usize, a, b));
                true
            }
            Stream::Wide {
                pattern_len,
                text_len,
                alphabet,
            } => {
                self.wide
                    .push((position, ids_start, pattern_len, text_len, alphabet));
                self.put(position, (u32::MAX as usize, a, b));
                true
            }
            Stream::Done(d) => {
                self.put(position, (d, a, b));
                true
            }
            Stream::TooLong => false,
        }
    }

    /// Score the pending pairs, longest streams first in each group of lanes.
    fn run(&mut self, kernel: LaneKernel) {
        // Lanes of one group run as long as the longest: group pairs of similar text length.
        // The order only changes speed; each pair's distance is exact.
        self.pending.sort_unstable_by_key(|p| (p.2, p.0));
        let pairs: Vec<LanePair<'_>> = self
            .pending
            .iter()
            .map(|&(_, start, len, pattern_len)| LanePair {
                pattern_len,
                stream: &self.input.streams[start..start + len],
            })
            .collect();
        self.distances.clear();
        self.distances.resize(pairs.len(), 0);
        levenshtein_lanes::distances(kernel, &pairs, &mut self.scratch, &mut self.distances);
        drop(pairs);
        for (&(position, ..), &d) in self.pending.iter().zip(&self.distances) {
            // `add` recorded the slot with the lengths.
            if let Some(slot) = self.results[position - self.base].as_mut() {
                slot.0 = d;
            }
        }
        // Wide pairs: one group of lanes takes pairs of as many words, of similar text length.
        self.wide
            .sort_unstable_by_key(|p| (p.2.div_ceil(64), p.3, p.0));
        let ids = &self.input.ids;
        let pairs: Vec<WidePair<'_>> = self
            .wide
            .iter()
            .map(|&(_, start, m, n, alphabet)| WidePair {
                pattern: &ids[start..start + m],
                text: &ids[start + m..start + m + n],
                alphabet,
            })
            .collect();
        self.distances.clear();
        self.distances.resize(pairs.len(), 0);
        levenshtein_lanes::wide_distances(
            kernel,
            &pairs,
            &mut self.wide_scratch,
            &mut self.distances,
        );
        drop(pairs);
        for (&(position, ..), &d) in self.wide.iter().zip(&self.distances) {
            if let Some(slot) = self.results[position - self.base].as_mut() {
                slot.0 = d;
            }
        }
        self.pending.clear();
        self.wide.clear();
        self.input.clear();
    }
}

/// The lane kernel used on this machine: the widest the CPU runs, or the one named by the
/// `RESCORE_LANES` environment variable (`portable`, `avx2`, `avx512`, or `off` for the scalar
/// kernel alone), read once; for benchmarks and tests that compare the instances.
fn lane_kernel() -> Option<LaneKernel> {
    static KERNEL: std::sync::OnceLock<Option<LaneKernel>> = std::sync::OnceLock::new();
    *KERNEL.get_or_init(|| match std::env::var("RESCORE_LANES").as_deref() {
        Ok("off") => None,
        Ok("portable") => Some(LaneKernel::Portable),
        Ok("avx2") => Some(LaneKernel::Avx2),
        Ok("avx512") => Some(LaneKernel::Avx512),
        _ => Some(LaneKernel::detect()),
    })
}

/// Pairs whose shorter side is longer than this are left to the scalar kernel without a look:
/// a lane takes 64 symbols, and trimming a shared prefix or suffix rarely removes more than a
/// few dozen.
const LANE_READ_LIMIT: usize = 96;

/// [`LANE_READ_LIMIT`] for characters, which also go to the wide lanes (up to `WIDE_WORDS`
/// words). Token ids and words do not: on the skewed file's token ids (3% of rows up to 2,000
/// tokens) the wide lanes made `token_edit_distance` 1.3x slower than the scalar kernel's bands,
/// so token pairs longer than one word stay scalar.
const WIDE_READ_LIMIT: usize = 64 * WIDE_WORDS + 32;

/// Score the short pairs of `rows` in SIMD lanes, into `s.lanes`. Pairs that cannot be read
/// (the row then reports its error when visited) or are too long are left to [`distance`].
fn prepare_lanes<'a>(
    pairs: &SequencePairs<'a>,
    columns: &PairColumns<'a>,
    rows: std::ops::Range<usize>,
    tokenizer: Tokenizer,
    kernel: LaneKernel,
    s: &mut RowScratch<'a>,
) {
    for row in rows {
        let Some(references) = pairs.references(row) else {
            continue;
        };
        for position in references {
            match columns {
                PairColumns::Tokens {
                    predictions,
                    references,
                } => {
                    // Sides that cannot fit a lane even after trimming a short shared end are
                    // not read twice.
                    if predictions.len(row).min(references.len(position)) > LANE_READ_LIMIT
                        || predictions.read(row, row, &mut s.ids.0).is_err()
                        || references.read(position, row, &mut s.ids.1).is_err()
                    {
                        continue;
                    }
                    s.lanes
                        .add(position, (&s.ids.0, &s.ids.1), &mut s.ids_lev, 1);
                }
                PairColumns::Text {
                    predictions,
                    references,
                } => {
                    let (a, b) = (predictions.value(row), references.value(position));
                    // A char takes at most 4 bytes, so such sides cannot fit a lane after a
                    // short trim (words are split first: their count is not bounded by bytes).
                    if tokenizer == Tokenizer::Characters
                        && a.len().min(b.len()) > 4 * WIDE_READ_LIMIT
                    {
                        continue;
                    }
                    match tokenizer {
                        Tokenizer::Whitespace => {
                            s.words.0.clear();
                            s.words.0.extend(python_split(a));
                            s.words.1.clear();
                            s.words.1.extend(python_split(b));
                            s.lanes
                                .add(position, (&s.words.0, &s.words.1), &mut s.words_lev, 1);
                        }
                        Tokenizer::Characters => {
                            if a.is_ascii() && b.is_ascii() {
                                s.lanes.add_bytes(position, a.as_bytes(), b.as_bytes());
                            } else {
                                s.chars.0.clear();
                                s.chars.0.extend(a.chars());
                                s.chars.1.clear();
                                s.chars.1.extend(b.chars());
                                s.lanes.add(
                                    position,
                                    (&s.chars.0, &s.chars.1),
                                    &mut s.chars_lev,
                                    WIDE_WORDS,
                                );
                            }
                        }
                    }
                }
            }
        }
    }
    s.lanes.run(kernel);
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
    if let Some(hit) = s.lanes.get(position) {
        return Ok(hit);
    }
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
    let kernel = lane_kernel();
    map_blocks_prepared(
        n,
        Blocks::for_sequences(n, pairs.total_len()),
        options.workers,
        options.on_error,
        |s: &mut RowScratch<'_>, rows| {
            if let Some(kernel) = kernel {
                prepare_lanes(pairs, &columns, rows, options.tokenizer, kernel, s);
            }
        },
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
