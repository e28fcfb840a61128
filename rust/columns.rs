//! Read-only views over the Arrow layouts users hand over, so kernels see one shape per idea.
//!
//! Strings come as utf8, large_utf8 or utf8_view; lists as list, large_list, fixed_size_list,
//! list_view or large_list_view; list
//! values as any integer or float width. Sliced arrays (non-zero offsets) are handled by reading
//! offsets through arrow-rs accessors, never raw buffers. Nothing here copies the data.

use std::ops::Range;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type,
    UInt64Type, UInt8Type,
};
use arrow_array::{
    Array, ArrayRef, FixedSizeListArray, LargeStringArray, StringArray, StringViewArray,
};
use arrow_buffer::NullBuffer;
use arrow_schema::DataType;

use crate::error::{RescoreError, RescoreResult};

fn unsupported(argument: &'static str, array: &dyn Array, expected: &'static str) -> RescoreError {
    RescoreError::UnsupportedType {
        argument,
        dtype: array.data_type().to_string(),
        expected,
    }
}

/// Cut two chunked columns into aligned pieces: in each returned pair both sides hold the same
/// rows. Slicing is zero-copy, so chunked input costs nothing extra.
pub fn align_chunks(
    left: (&'static str, &[ArrayRef]),
    right: (&'static str, &[ArrayRef]),
) -> RescoreResult<Vec<(ArrayRef, ArrayRef)>> {
    let (left_name, left) = left;
    let (right_name, right) = right;
    let left_len: usize = left.iter().map(Array::len).sum();
    let right_len: usize = right.iter().map(Array::len).sum();
    if left_len != right_len {
        return Err(RescoreError::LengthMismatch {
            left: left_name,
            left_len,
            right: right_name,
            right_len,
        });
    }
    let mut pieces = Vec::new();
    let (mut li, mut lo, mut ri, mut ro) = (0, 0, 0, 0);
    while li < left.len() && ri < right.len() {
        let take = (left[li].len() - lo).min(right[ri].len() - ro);
        if take > 0 {
            pieces.push((left[li].slice(lo, take), right[ri].slice(ro, take)));
        }
        lo += take;
        ro += take;
        if lo == left[li].len() {
            li += 1;
            lo = 0;
        }
        if ro == right[ri].len() {
            ri += 1;
            ro = 0;
        }
    }
    Ok(pieces)
}

/// Cut three chunked columns into aligned pieces (see [`align_chunks`]): in each returned
/// triple all sides hold the same rows.
pub fn align_three(
    first: (&'static str, &[ArrayRef]),
    second: (&'static str, &[ArrayRef]),
    third: (&'static str, &[ArrayRef]),
) -> RescoreResult<Vec<[ArrayRef; 3]>> {
    let pairs = align_chunks(first, second)?;
    let lefts: Vec<ArrayRef> = pairs.iter().map(|(l, _)| l.clone()).collect();
    // Align the first column's pieces with the third; each resulting piece lies inside one
    // piece of the first alignment, whose second column is sliced alike.
    let with_third = align_chunks((first.0, &lefts), third)?;
    let mut out = Vec::with_capacity(with_third.len());
    let (mut pair, mut offset) = (0, 0);
    for (l, t) in with_third {
        while offset == pairs[pair].0.len() {
            pair += 1;
            offset = 0;
        }
        let second = pairs[pair].1.slice(offset, l.len());
        offset += l.len();
        out.push([l, second, t]);
    }
    Ok(out)
}

/// Strings in any of Arrow's three layouts.
#[derive(Clone, Copy)]
pub enum StrColumn<'a> {
    /// `utf8` (32-bit offsets).
    Utf8(&'a StringArray),
    /// `large_utf8` (64-bit offsets).
    Large(&'a LargeStringArray),
    /// `utf8_view` (what Polars exports).
    View(&'a StringViewArray),
}

impl<'a> StrColumn<'a> {
    /// A view if `array` is a string array of any layout.
    pub fn try_new(array: &'a dyn Array) -> Option<Self> {
        match array.data_type() {
            DataType::Utf8 => Some(Self::Utf8(array.as_string::<i32>())),
            DataType::LargeUtf8 => Some(Self::Large(array.as_string::<i64>())),
            DataType::Utf8View => Some(Self::View(array.as_string_view())),
            _ => None,
        }
    }

    /// Number of bytes the rows span (string views: the sum of their lengths).
    pub fn total_len(&self) -> usize {
        match self {
            Self::Utf8(a) => {
                let o = a.value_offsets();
                (o[o.len() - 1] - o[0]) as usize
            }
            Self::Large(a) => {
                let o = a.value_offsets();
                (o[o.len() - 1] - o[0]) as usize
            }
            // The low 32 bits of a view are the string's length.
            Self::View(a) => a.views().iter().map(|&v| (v as u32) as usize).sum(),
        }
    }

    /// Whether row `i` is null.
    pub fn is_null(&self, i: usize) -> bool {
        match self {
            Self::Utf8(a) => a.is_null(i),
            Self::Large(a) => a.is_null(i),
            Self::View(a) => a.is_null(i),
        }
    }

    /// The string of row `i` (empty for a null row).
    pub fn value(&self, i: usize) -> &'a str {
        match self {
            Self::Utf8(a) => a.value(i),
            Self::Large(a) => a.value(i),
            Self::View(a) => a.value(i),
        }
    }
}

/// Where each row's elements sit in a list's child array.
#[derive(Clone, Copy)]
enum Offsets<'a> {
    Small(&'a [i32]),
    Large(&'a [i64]),
    Fixed(&'a FixedSizeListArray),
    /// `list_view`: a start and a size per row (rows may overlap or come in any order).
    View(&'a [i32], &'a [i32]),
    /// `large_list_view`.
    LargeView(&'a [i64], &'a [i64]),
}

/// A list column of any layout: row ranges into a child array, plus the row nulls.
#[derive(Clone, Copy)]
pub struct ListColumn<'a> {
    offsets: Offsets<'a>,
    nulls: Option<&'a NullBuffer>,
    /// The child (values) array the ranges index into.
    pub child: &'a ArrayRef,
}

impl<'a> ListColumn<'a> {
    /// A view if `array` is a list, large list, fixed-size list or (large) list view.
    pub fn try_new(array: &'a dyn Array) -> Option<Self> {
        let nulls = array.logical_nulls_ref();
        match array.data_type() {
            DataType::List(_) => {
                let a = array.as_list::<i32>();
                Some(Self {
                    offsets: Offsets::Small(a.value_offsets()),
                    nulls,
                    child: a.values(),
                })
            }
            DataType::LargeList(_) => {
                let a = array.as_list::<i64>();
                Some(Self {
                    offsets: Offsets::Large(a.value_offsets()),
                    nulls,
                    child: a.values(),
                })
            }
            DataType::FixedSizeList(_, _) => {
                let a = array.as_fixed_size_list();
                Some(Self {
                    offsets: Offsets::Fixed(a),
                    nulls,
                    child: a.values(),
                })
            }
            DataType::ListView(_) => {
                let a = array.as_list_view::<i32>();
                Some(Self {
                    offsets: Offsets::View(a.value_offsets(), a.value_sizes()),
                    nulls,
                    child: a.values(),
                })
            }
            DataType::LargeListView(_) => {
                let a = array.as_list_view::<i64>();
                Some(Self {
                    offsets: Offsets::LargeView(a.value_offsets(), a.value_sizes()),
                    nulls,
                    child: a.values(),
                })
            }
            _ => None,
        }
    }

    /// Whether row `i` is null.
    pub fn is_null(&self, i: usize) -> bool {
        self.nulls.is_some_and(|n| n.is_null(i))
    }

    /// Number of child values the rows span.
    pub fn total_len(&self) -> usize {
        match self.offsets {
            Offsets::Small(o) => (o[o.len() - 1] - o[0]) as usize,
            Offsets::Large(o) => (o[o.len() - 1] - o[0]) as usize,
            Offsets::Fixed(a) => a.len() * a.value_length() as usize,
            // Views may overlap: the sum of the sizes is the work the rows hold.
            Offsets::View(_, sizes) => sizes.iter().map(|&s| s as usize).sum(),
            Offsets::LargeView(_, sizes) => sizes.iter().map(|&s| s as usize).sum(),
        }
    }

    /// The child positions of row `i`.
    #[inline]
    pub fn range(&self, i: usize) -> Range<usize> {
        match self.offsets {
            Offsets::Small(o) => o[i] as usize..o[i + 1] as usize,
            Offsets::Large(o) => o[i] as usize..o[i + 1] as usize,
            Offsets::Fixed(a) => {
                let start = a.value_offset(i) as usize;
                start..start + a.value_length() as usize
            }
            Offsets::View(o, s) => o[i] as usize..(o[i] + s[i]) as usize,
            Offsets::LargeView(o, s) => o[i] as usize..(o[i] + s[i]) as usize,
        }
    }

    /// Position of the first null child element inside row `i`'s range, if any.
    pub fn first_null_in(&self, i: usize) -> Option<usize> {
        if self.child.data_type() == &DataType::Null {
            // A `null`-typed child (what pyarrow infers for `[[None]]`) has no null buffer.
            return (!self.range(i).is_empty()).then_some(0);
        }
        let nulls = self.child.logical_nulls_ref()?;
        self.range(i).position(|j| nulls.is_null(j))
    }
}

/// Helper trait: the null buffer of an array without allocating where arrow-rs can avoid it.
trait LogicalNullsRef {
    fn logical_nulls_ref(&self) -> Option<&NullBuffer>;
}

impl LogicalNullsRef for dyn Array + '_ {
    fn logical_nulls_ref(&self) -> Option<&NullBuffer> {
        // Plain (non-dictionary, non-run-end) layouts store their logical nulls physically.
        self.nulls().filter(|n| n.null_count() > 0)
    }
}

impl LogicalNullsRef for ArrayRef {
    fn logical_nulls_ref(&self) -> Option<&NullBuffer> {
        self.nulls().filter(|n| n.null_count() > 0)
    }
}

/// Integer list values of any width, read as `i64` token ids.
#[derive(Clone, Copy)]
pub enum IntValues<'a> {
    /// int8
    I8(&'a [i8]),
    /// int16
    I16(&'a [i16]),
    /// int32
    I32(&'a [i32]),
    /// int64
    I64(&'a [i64]),
    /// uint8
    U8(&'a [u8]),
    /// uint16
    U16(&'a [u16]),
    /// uint32
    U32(&'a [u32]),
    /// uint64 (ids above `i64::MAX` are rejected when read)
    U64(&'a [u64]),
    /// The `null` type, which pyarrow infers for lists that are all empty (`[[]]`).
    Null,
}

impl<'a> IntValues<'a> {
    /// A view if `array` is a primitive integer array.
    pub fn try_new(array: &'a dyn Array) -> Option<Self> {
        Some(match array.data_type() {
            DataType::Int8 => Self::I8(array.as_primitive::<Int8Type>().values()),
            DataType::Int16 => Self::I16(array.as_primitive::<Int16Type>().values()),
            DataType::Int32 => Self::I32(array.as_primitive::<Int32Type>().values()),
            DataType::Int64 => Self::I64(array.as_primitive::<Int64Type>().values()),
            DataType::UInt8 => Self::U8(array.as_primitive::<UInt8Type>().values()),
            DataType::UInt16 => Self::U16(array.as_primitive::<UInt16Type>().values()),
            DataType::UInt32 => Self::U32(array.as_primitive::<UInt32Type>().values()),
            DataType::UInt64 => Self::U64(array.as_primitive::<UInt64Type>().values()),
            DataType::Null => Self::Null,
            _ => return None,
        })
    }

    /// Value `i` as `i64`; a `uint64` above `i64::MAX` is returned as the error. `Null` (no
    /// values) reads as 0: callers check row nulls first.
    #[inline]
    pub fn get(&self, i: usize) -> Result<i64, u64> {
        Ok(match self {
            Self::I8(v) => i64::from(v[i]),
            Self::I16(v) => i64::from(v[i]),
            Self::I32(v) => i64::from(v[i]),
            Self::I64(v) => v[i],
            Self::U8(v) => i64::from(v[i]),
            Self::U16(v) => i64::from(v[i]),
            Self::U32(v) => i64::from(v[i]),
            Self::U64(v) => i64::try_from(v[i]).map_err(|_| v[i])?,
            Self::Null => 0,
        })
    }

    /// Append `range` as `i64` ids to `out`. Matching once per row keeps the loops tight.
    /// On a `uint64` id above `i64::MAX`, returns that id.
    pub fn extend_into(&self, range: Range<usize>, out: &mut Vec<i64>) -> Result<(), u64> {
        match self {
            Self::I8(v) => out.extend(v[range].iter().map(|&x| i64::from(x))),
            Self::I16(v) => out.extend(v[range].iter().map(|&x| i64::from(x))),
            Self::I32(v) => out.extend(v[range].iter().map(|&x| i64::from(x))),
            Self::I64(v) => out.extend_from_slice(&v[range]),
            Self::U8(v) => out.extend(v[range].iter().map(|&x| i64::from(x))),
            Self::U16(v) => out.extend(v[range].iter().map(|&x| i64::from(x))),
            Self::U32(v) => out.extend(v[range].iter().map(|&x| i64::from(x))),
            Self::U64(v) => {
                for &x in &v[range] {
                    out.push(i64::try_from(x).map_err(|_| x)?);
                }
            }
            // Only empty rows reach here: `first_null_in` reports any other row.
            Self::Null => {}
        }
        Ok(())
    }
}

/// Float list values (probabilities, scores, log-likelihoods) read as `f64`.
#[derive(Clone, Copy)]
pub enum FloatValues<'a> {
    /// float32
    F32(&'a [f32]),
    /// float64
    F64(&'a [f64]),
    /// The `null` type (all rows empty).
    Null,
}

impl<'a> FloatValues<'a> {
    /// A view if `array` is float32 or float64.
    pub fn try_new(array: &'a dyn Array) -> Option<Self> {
        match array.data_type() {
            DataType::Float32 => Some(Self::F32(array.as_primitive::<Float32Type>().values())),
            DataType::Float64 => Some(Self::F64(array.as_primitive::<Float64Type>().values())),
            DataType::Null => Some(Self::Null),
            _ => None,
        }
    }

    /// Copy `range` into `out` as `f64` (cleared first).
    pub fn read_into(&self, range: Range<usize>, out: &mut Vec<f64>) {
        out.clear();
        match self {
            Self::F32(v) => out.extend(v[range].iter().map(|&x| f64::from(x))),
            Self::F64(v) => out.extend_from_slice(&v[range]),
            Self::Null => {}
        }
    }
}

/// A list<float> column of any list layout.
#[derive(Clone, Copy)]
pub struct FloatLists<'a> {
    /// Row ranges.
    pub lists: ListColumn<'a>,
    /// The values.
    pub values: FloatValues<'a>,
    argument: &'static str,
    len: usize,
    /// Whether any value is null (checked once, not per row).
    child_has_nulls: bool,
}

impl<'a> FloatLists<'a> {
    /// View `array` as list<float>, or say what was expected.
    pub fn try_new(argument: &'static str, array: &'a dyn Array) -> RescoreResult<Self> {
        const EXPECTED: &str =
            "a list of float32/float64 per row (list, large_list or fixed_size_list)";
        let lists =
            ListColumn::try_new(array).ok_or_else(|| unsupported(argument, array, EXPECTED))?;
        let values = FloatValues::try_new(lists.child.as_ref())
            .ok_or_else(|| unsupported(argument, array, EXPECTED))?;
        let child_has_nulls =
            lists.child.data_type() == &DataType::Null || lists.child.logical_nulls_ref().is_some();
        Ok(Self {
            lists,
            values,
            argument,
            len: array.len(),
            child_has_nulls,
        })
    }

    /// Number of rows.
    pub fn lists_len(&self) -> usize {
        self.len
    }

    /// The values as one `[rows x width]` float64 block when the column is a fixed-size list
    /// without any null (row or value) and a non-zero width: the layout 2-D probabilities arrive
    /// in, scored without per-row bookkeeping.
    pub fn dense_f64(&self) -> Option<(&'a [f64], usize)> {
        let (Offsets::Fixed(a), FloatValues::F64(values)) = (self.lists.offsets, self.values)
        else {
            return None;
        };
        let width = a.value_length() as usize;
        let row_nulls = self.lists.nulls.is_some_and(|n| n.null_count() > 0);
        if width == 0 || row_nulls || self.child_has_nulls {
            return None;
        }
        let start = a.value_offset(0) as usize;
        values
            .get(start..start + self.len * width)
            .map(|v| (v, width))
    }

    /// The column as plain slices when its values are float64 without any null element and its
    /// rows are a list, large list or fixed-size list: row ranges, values, and the row nulls (if
    /// any). Kernels monomorphised over [`RowRanges`] then read rows without a per-row match on
    /// the layout; [`FloatLists::row`] stays the general path.
    pub fn plain_f64(&self) -> Option<(PlainRanges<'a>, &'a [f64], Option<&'a NullBuffer>)> {
        let FloatValues::F64(values) = self.values else {
            return None;
        };
        if self.child_has_nulls {
            return None;
        }
        let ranges = match self.lists.offsets {
            Offsets::Small(o) => PlainRanges::Small(o),
            Offsets::Large(o) => PlainRanges::Large(o),
            Offsets::Fixed(a) => PlainRanges::Fixed(FixedRanges {
                start: a.value_offset(0) as usize,
                width: a.value_length() as usize,
            }),
            Offsets::View(..) | Offsets::LargeView(..) => return None,
        };
        Some((ranges, values, self.lists.nulls))
    }

    /// Row `i` as `f64`s: borrowed from the Arrow buffer when the values are float64 (no copy),
    /// else converted into `buffer`. `Ok(None)` for a null row;
    /// an error for a null element.
    pub fn row<'s>(
        &'s self,
        i: usize,
        buffer: &'s mut Vec<f64>,
    ) -> RescoreResult<Option<&'s [f64]>> {
        if self.lists.is_null(i) {
            return Ok(None);
        }
        if self.child_has_nulls {
            if let Some(position) = self.lists.first_null_in(i) {
                return Err(RescoreError::NullElement {
                    argument: self.argument,
                    row: i,
                    position,
                });
            }
        }
        if let FloatValues::F64(values) = self.values {
            return Ok(Some(&values[self.lists.range(i)]));
        }
        self.values.read_into(self.lists.range(i), buffer);
        Ok(Some(buffer))
    }
}

/// Row ranges of a list layout, for kernels monomorphised per layout.
pub trait RowRanges: Copy + Sync {
    /// The child positions of row `i`.
    fn range(&self, i: usize) -> Range<usize>;
}

impl RowRanges for &[i32] {
    #[inline]
    fn range(&self, i: usize) -> Range<usize> {
        self[i] as usize..self[i + 1] as usize
    }
}

impl RowRanges for &[i64] {
    #[inline]
    fn range(&self, i: usize) -> Range<usize> {
        self[i] as usize..self[i + 1] as usize
    }
}

/// The rows of a fixed-size list: `width` values each from `start`.
#[derive(Clone, Copy)]
pub struct FixedRanges {
    start: usize,
    width: usize,
}

impl RowRanges for FixedRanges {
    #[inline]
    fn range(&self, i: usize) -> Range<usize> {
        let start = self.start + i * self.width;
        start..start + self.width
    }
}

/// The row ranges [`FloatLists::plain_f64`] gives, one variant per layout.
#[derive(Clone, Copy)]
pub enum PlainRanges<'a> {
    /// `list`: int32 offsets.
    Small(&'a [i32]),
    /// `large_list`: int64 offsets.
    Large(&'a [i64]),
    /// `fixed_size_list`.
    Fixed(FixedRanges),
}

/// Sequences to compare: token-id lists, or strings split by a tokenizer.
#[derive(Clone, Copy)]
pub enum Sequences<'a> {
    /// list<int> of any layout and width.
    Tokens(ListColumn<'a>, IntValues<'a>),
    /// Strings of any layout.
    Text(StrColumn<'a>),
}

impl<'a> Sequences<'a> {
    /// A view if `array` is a string column or a list<int> column.
    pub fn try_new(array: &'a dyn Array) -> Option<Self> {
        if let Some(s) = StrColumn::try_new(array) {
            return Some(Self::Text(s));
        }
        let lists = ListColumn::try_new(array)?;
        let ints = IntValues::try_new(lists.child.as_ref())?;
        Some(Self::Tokens(lists, ints))
    }

    /// Whether row `i` is null.
    pub fn is_null(&self, i: usize) -> bool {
        match self {
            Self::Tokens(l, _) => l.is_null(i),
            Self::Text(s) => s.is_null(i),
        }
    }

    /// Total number of tokens (token-id lists) or bytes (strings) over all rows, in O(1): how
    /// much work the rows hold, to size parallel blocks.
    pub fn total_len(&self) -> usize {
        match self {
            Self::Tokens(l, _) => l.total_len(),
            Self::Text(s) => s.total_len(),
        }
    }

    /// Human name of the kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Tokens(..) => "token-id lists",
            Self::Text(_) => "strings",
        }
    }
}

/// The acceptable references of each row: one per row, or a list of them.
#[derive(Clone, Copy)]
pub enum References<'a> {
    /// One reference per row.
    One(Sequences<'a>),
    /// A list of acceptable references per row (null entries inside a list are skipped).
    Many(ListColumn<'a>, Sequences<'a>),
}

impl<'a> References<'a> {
    /// View `array` as references of the same kind as `predictions` (single or multiple).
    pub fn try_new(array: &'a dyn Array, predictions: &Sequences<'_>) -> Option<Self> {
        let one = Sequences::try_new(array);
        match (predictions, one) {
            (Sequences::Text(_), Some(s @ Sequences::Text(_)))
            | (Sequences::Tokens(..), Some(s @ Sequences::Tokens(..))) => {
                return Some(Self::One(s))
            }
            _ => {}
        }
        let outer = ListColumn::try_new(array)?;
        let inner = Sequences::try_new(outer.child.as_ref())?;
        let same_kind = matches!(
            (predictions, &inner),
            (Sequences::Text(_), Sequences::Text(_))
                | (Sequences::Tokens(..), Sequences::Tokens(..))
        );
        same_kind.then_some(Self::Many(outer, inner))
    }

    /// Row `i`'s references as positions in the inner sequence column; `None` for a null row.
    pub fn positions(&self, i: usize) -> Option<Range<usize>> {
        match self {
            Self::One(s) => (!s.is_null(i)).then_some(i..i + 1),
            Self::Many(outer, _) => (!outer.is_null(i)).then(|| outer.range(i)),
        }
    }

    /// The sequence column the positions index into.
    pub fn inner(&self) -> &Sequences<'a> {
        match self {
            Self::One(s) | Self::Many(_, s) => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::builder::{Int32Builder, ListBuilder};
    use arrow_array::Int64Array;
    use arrow_schema::Field;

    use super::*;

    #[test]
    fn align_cuts_at_every_boundary() {
        let a: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(vec![1, 2, 3])),
            Arc::new(Int64Array::from(vec![4, 5])),
        ];
        let b: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(vec![1])),
            Arc::new(Int64Array::from(vec![2, 3, 4, 5])),
        ];
        let pieces = align_chunks(("a", &a), ("b", &b)).unwrap();
        let lens: Vec<usize> = pieces
            .iter()
            .map(|(l, r)| {
                assert_eq!(l.len(), r.len());
                l.len()
            })
            .collect();
        assert_eq!(lens, vec![1, 2, 2]);
        let short: Vec<ArrayRef> = vec![Arc::new(Int64Array::from(vec![1]))];
        assert!(matches!(
            align_chunks(("a", &a), ("b", &short)),
            Err(RescoreError::LengthMismatch {
                left_len: 5,
                right_len: 1,
                ..
            })
        ));
    }

    #[test]
    fn sliced_list_reads_its_own_rows() {
        let mut b = ListBuilder::new(Int32Builder::new());
        b.append_value([Some(1), Some(2)]);
        b.append_value([Some(3)]);
        b.append_null();
        b.append_value([Some(4), None]);
        let list = b.finish();
        let sliced = list.slice(1, 3);
        let view = ListColumn::try_new(&sliced).unwrap();
        let ints = IntValues::try_new(view.child.as_ref()).unwrap();
        let mut out = Vec::new();
        ints.extend_into(view.range(0), &mut out).unwrap();
        assert_eq!(out, vec![3]);
        assert!(view.is_null(1));
        assert_eq!(view.first_null_in(2), Some(1));
        assert_eq!(view.first_null_in(0), None);
    }

    #[test]
    fn fixed_size_list_sliced() {
        let values = Arc::new(Int64Array::from(vec![1, 2, 3, 4, 5, 6]));
        let field = Arc::new(Field::new("item", DataType::Int64, true));
        let fsl = FixedSizeListArray::new(field, 2, values, None);
        let sliced = fsl.slice(1, 2);
        let view = ListColumn::try_new(&sliced).unwrap();
        let ints = IntValues::try_new(view.child.as_ref()).unwrap();
        let mut out = Vec::new();
        ints.extend_into(view.range(1), &mut out).unwrap();
        assert_eq!(out, vec![5, 6]);
    }
}
