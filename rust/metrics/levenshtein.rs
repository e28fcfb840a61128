//! Levenshtein distance (unit costs) between two sequences of any hashable symbols, with the
//! bit-parallel algorithm of Myers (1999) in Hyyrö's formulation: one 64-bit word per 64 symbols
//! of the shorter sequence, so a 60-token pair is about 60 word operations instead of 3,600 cells.
//!
//! Symbols are first renamed to small dense ids (the shorter sequence's distinct symbols), so the
//! per-symbol match masks are array lookups whatever the symbol type: token ids, chars or words.
//!
//! Past 64 symbols, the cost depends on how close the pair is, not only on its lengths:
//! - close pairs: one word sliding down the diagonal (Hyyrö 2003), one step per column;
//! - short patterns or distant pairs: the whole matrix, `ceil(m / 64)` steps per column;
//! - otherwise: passes over the words that can still hold a path within a threshold `k`
//!   (Ukkonen's cut-off, narrowed per column as in Edlib), `k` doubling from an estimate until a
//!   pass is exact. A failed pass stops as soon as no path can stay within `k`.
//!
//! Which to use was measured (callgrind instruction counts) on generations with a 3% tail of
//! long rows, where the long rows take most of the time.

use std::hash::Hash;

use rustc_hash::FxHashMap;

/// Reusable buffers for one thread: after warm-up, scoring a pair does not allocate.
pub struct Scratch<K> {
    ids: FxHashMap<K, u32>,
    /// Direct renaming table: (epoch stamp, dense id) per small symbol index.
    table: Vec<(u32, u32)>,
    epoch: u32,
    /// Distinct symbols of the current pattern.
    alphabet: usize,
    pattern: Vec<u32>,
    text: Vec<u32>,
    /// Single word: match mask per dense id (the last entry, for symbols absent from the
    /// pattern, stays 0).
    masks: Vec<u64>,
    /// Multi-word: per dense id, the (word, bits) entries where it occurs, in CSR layout.
    sparse_start: Vec<u32>,
    sparse_entries: Vec<(u32, u64)>,
    cursor: Vec<u32>,
    eq: Vec<u64>,
    vp: Vec<u64>,
    vn: Vec<u64>,
    /// Multi-word: the value at each word's bottom row in the current column.
    score: Vec<usize>,
}

impl<K> Default for Scratch<K> {
    fn default() -> Self {
        Self {
            ids: FxHashMap::default(),
            table: Vec::new(),
            epoch: 0,
            alphabet: 0,
            pattern: Vec::new(),
            text: Vec::new(),
            masks: Vec::new(),
            sparse_start: Vec::new(),
            sparse_entries: Vec::new(),
            cursor: Vec::new(),
            eq: Vec::new(),
            vp: Vec::new(),
            vn: Vec::new(),
            score: Vec::new(),
        }
    }
}

/// A sequence element. Symbols with a small non-negative index (token ids of real vocabularies,
/// most characters) are renamed through a direct table instead of a hash map.
pub trait Symbol: Copy + Eq + Hash {
    /// `Some(i)` with `i < SMALL_INDEX_LIMIT` when the symbol has such an index.
    fn small_index(self) -> Option<usize>;
}

/// Direct-table limit: 2^20 entries of 8 bytes, 8 MiB per thread at most (50k-id vocabularies
/// use 400 KiB).
pub const SMALL_INDEX_LIMIT: usize = 1 << 20;

impl Symbol for i64 {
    fn small_index(self) -> Option<usize> {
        usize::try_from(self)
            .ok()
            .filter(|&i| i < SMALL_INDEX_LIMIT)
    }
}

impl Symbol for u8 {
    fn small_index(self) -> Option<usize> {
        Some(self as usize)
    }
}

impl Symbol for u32 {
    fn small_index(self) -> Option<usize> {
        Some(self as usize).filter(|&i| i < SMALL_INDEX_LIMIT)
    }
}

impl Symbol for char {
    fn small_index(self) -> Option<usize> {
        Some(self as usize).filter(|&i| i < SMALL_INDEX_LIMIT)
    }
}

impl Symbol for &str {
    fn small_index(self) -> Option<usize> {
        None
    }
}

/// Levenshtein distance between `a` and `b` with unit insert, delete and substitute costs.
pub fn levenshtein<K: Symbol>(a: &[K], b: &[K], scratch: &mut Scratch<K>) -> usize {
    // A shared prefix or suffix never changes the distance; generations often share a lot. The
    // pattern (bit-vector side) is the shorter one: fewer words per text symbol.
    let (pattern, text) = trim(a, b);
    if pattern.is_empty() {
        return text.len();
    }
    rename(pattern, text, scratch);
    if pattern.len() <= 64 {
        single_word(scratch)
    } else {
        multi_word(scratch)
    }
}

/// What [`match_stream`] made of a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// The match masks were appended to [`LaneInput::streams`]; the pattern (the shorter side
    /// after trimming the shared prefix and suffix) has this many symbols, 1 to 64.
    Appended {
        /// Pattern length.
        pattern_len: usize,
    },
    /// The pattern takes 2 to [`WIDE_WORDS`] words: its symbols, then the text's, were appended
    /// to [`LaneInput::ids`] as dense ids below `alphabet`.
    Wide {
        /// Pattern length, 65 to `64 * WIDE_WORDS`.
        pattern_len: usize,
        /// Text length (at least the pattern's).
        text_len: usize,
        /// Ids are below this.
        alphabet: usize,
    },
    /// Nothing left to compare once the shared prefix and suffix are gone: the distance.
    Done(usize),
    /// The pattern is longer than the lanes take: use [`levenshtein`].
    TooLong,
}

/// Patterns of up to this many 64-bit words go to the lane kernels (see [`match_stream`]).
pub const WIDE_WORDS: usize = 6;

/// What [`match_stream`] appends pairs to, for the lane kernels.
#[derive(Default)]
pub struct LaneInput {
    /// Single-word pairs: one match mask per text symbol.
    pub streams: Vec<u64>,
    /// Wide pairs: pattern ids, then text ids.
    pub ids: Vec<u32>,
}

impl LaneInput {
    /// Forget every pair.
    pub fn clear(&mut self) {
        self.streams.clear();
        self.ids.clear();
    }
}

/// `a` and `b` without their shared prefix and suffix, shorter first.
fn trim<'x, K: Eq>(a: &'x [K], b: &'x [K]) -> (&'x [K], &'x [K]) {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[prefix..], &b[prefix..]);
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (a, b) = (&a[..a.len() - suffix], &b[..b.len() - suffix]);
    if a.len() <= b.len() {
        (a, b)
    } else {
        (b, a)
    }
}

/// Whether the pair may fit `words` words once trimmed (longer sides are not scanned).
fn may_fit_lanes<K: Eq>(a: &[K], b: &[K], words: usize) -> bool {
    a.len().min(b.len()) <= 64 * words || shares_ends(a, b)
}

/// For the lane kernels ([`super::levenshtein_lanes`]): trim `a` and `b` as [`levenshtein`]
/// does; when the shorter side fits one 64-bit word, append one match mask per symbol of the
/// longer side to `out.streams`; when it fits `max_words` words (at most [`WIDE_WORDS`]),
/// append both sides as dense ids to `out.ids`. Myers' step over either gives [`levenshtein`]'s
/// result.
pub fn match_stream<K: Symbol>(
    a: &[K],
    b: &[K],
    scratch: &mut Scratch<K>,
    max_words: usize,
    out: &mut LaneInput,
) -> Stream {
    let max_words = max_words.min(WIDE_WORDS);
    if !may_fit_lanes(a, b, max_words) {
        return Stream::TooLong;
    }
    let (pattern, text) = trim(a, b);
    if pattern.is_empty() {
        return Stream::Done(text.len());
    }
    if pattern.len() > 64 * max_words {
        return Stream::TooLong;
    }
    rename(pattern, text, scratch);
    let s = scratch;
    if pattern.len() > 64 {
        out.ids.extend_from_slice(&s.pattern);
        out.ids.extend_from_slice(&s.text);
        return Stream::Wide {
            pattern_len: pattern.len(),
            text_len: text.len(),
            alphabet: alphabet_size(s),
        };
    }
    s.masks.clear();
    s.masks.resize(alphabet_size(s), 0);
    for (i, &id) in s.pattern.iter().enumerate() {
        s.masks[id as usize] |= 1u64 << i;
    }
    out.streams
        .extend(s.text.iter().map(|&id| s.masks[id as usize]));
    Stream::Appended {
        pattern_len: pattern.len(),
    }
}

/// [`match_stream`] for bytes: the masks are indexed by the byte itself, with no renaming (wide
/// pairs keep their bytes as ids, alphabet 256). `masks` must be all zero, and is left so.
pub fn match_stream_bytes(
    a: &[u8],
    b: &[u8],
    masks: &mut [u64; 256],
    out: &mut LaneInput,
) -> Stream {
    if !may_fit_lanes(a, b, WIDE_WORDS) {
        return Stream::TooLong;
    }
    let (pattern, text) = trim(a, b);
    if pattern.is_empty() {
        return Stream::Done(text.len());
    }
    if pattern.len() > 64 * WIDE_WORDS {
        return Stream::TooLong;
    }
    if pattern.len() > 64 {
        out.ids
            .extend(pattern.iter().chain(text).map(|&byte| u32::from(byte)));
        return Stream::Wide {
            pattern_len: pattern.len(),
            text_len: text.len(),
            alphabet: 256,
        };
    }
    for (i, &byte) in pattern.iter().enumerate() {
        masks[byte as usize] |= 1u64 << i;
    }
    out.streams
        .extend(text.iter().map(|&byte| masks[byte as usize]));
    for &byte in pattern {
        masks[byte as usize] = 0;
    }
    Stream::Appended {
        pattern_len: pattern.len(),
    }
}

/// Whether `a` and `b` start or end with the same symbol (trimming may then shorten them).
fn shares_ends<K: Eq>(a: &[K], b: &[K]) -> bool {
    a.first().is_some_and(|x| b.first() == Some(x)) || a.last().is_some_and(|x| b.last() == Some(x))
}

/// Map the pattern's distinct symbols to 0..k and the text's symbols to the same ids, or to k
/// when absent from the pattern (such a symbol matches nothing).
fn rename<K: Symbol>(pattern: &[K], text: &[K], s: &mut Scratch<K>) {
    s.pattern.clear();
    s.text.clear();
    if rename_direct(pattern, text, s) {
        return;
    }
    s.ids.clear();
    for &sym in pattern {
        let next = s.ids.len() as u32;
        s.pattern.push(*s.ids.entry(sym).or_insert(next));
    }
    let absent = s.ids.len() as u32;
    s.text.extend(
        text.iter()
            .map(|sym| s.ids.get(sym).copied().unwrap_or(absent)),
    );
    s.alphabet = s.ids.len();
}

/// [`rename`] through a table indexed by the symbols themselves, with an epoch stamp per entry so
/// nothing is cleared between pairs. Returns `false` (and does nothing) when a symbol of the
/// pattern has no small index; text symbols without one simply match nothing.
fn rename_direct<K: Symbol>(pattern: &[K], text: &[K], s: &mut Scratch<K>) -> bool {
    let Some(max) = pattern
        .iter()
        .map(|&sym| sym.small_index())
        .try_fold(0, |m, i| i.map(|i| m.max(i)))
    else {
        return false;
    };
    if s.table.len() <= max {
        s.table.resize(max + 1, (0, 0));
    }
    s.epoch = s.epoch.wrapping_add(1);
    if s.epoch == 0 {
        // Stamps from 2^32 pairs ago could alias: start the table afresh.
        s.table.fill((0, 0));
        s.epoch = 1;
    }
    let mut next = 0u32;
    for &sym in pattern {
        // In range: `max` covers every pattern index.
        let slot = &mut s.table[sym.small_index().unwrap_or(0)];
        if slot.0 != s.epoch {
            *slot = (s.epoch, next);
            next += 1;
        }
        s.pattern.push(slot.1);
    }
    let (table, epoch) = (&s.table, s.epoch);
    s.text.extend(
        text.iter()
            .map(|sym| match sym.small_index().and_then(|i| table.get(i)) {
                Some(&(stamp, id)) if stamp == epoch => id,
                _ => next,
            }),
    );
    s.alphabet = next as usize;
    true
}

/// Distinct pattern symbols, plus one id for "absent from the pattern".
fn alphabet_size<K>(s: &Scratch<K>) -> usize {
    s.alphabet + 1
}

fn single_word<K>(s: &mut Scratch<K>) -> usize {
    let m = s.pattern.len();
    s.masks.clear();
    s.masks.resize(alphabet_size(s), 0);
    for (i, &id) in s.pattern.iter().enumerate() {
        s.masks[id as usize] |= 1u64 << i;
    }
    let last = 1u64 << (m - 1);
    let mut vp = u64::MAX;
    let mut vn = 0u64;
    let mut score = m;
    for &id in &s.text {
        let eq = s.masks[id as usize];
        let xv = eq | vn;
        let xh = ((eq & vp).wrapping_add(vp) ^ vp) | eq;
        let mut hp = vn | !(xh | vp);
        let mut hn = vp & xh;
        if hp & last != 0 {
            score += 1;
        } else if hn & last != 0 {
            score -= 1;
        }
        // The top row of the DP matrix grows by one per text symbol: carry a +1 in.
        hp = (hp << 1) | 1;
        hn <<= 1;
        vp = hn | !(xv | hp);
        vn = hp & xv;
    }
    score
}

/// Largest dense match-mask table (entries of 64 bits) before switching to sparse masks: 512 KiB,
/// an L2-sized table; a 2,000-token pattern with 500 distinct ids needs 16k entries.
const DENSE_MASK_ENTRIES: usize = 1 << 16;

/// Myers' block algorithm, restricted to the cells that can still lie on a path of cost `<= k`.
///
/// A pass with threshold `k` returns the exact distance when it is `<= k` (see [`banded`]), and
/// a pass whose `k` is too small gives up early, after a fraction of the matrix. So: passes with
/// a threshold that grows geometrically from an estimate, and a last pass at a proven upper bound,
/// which is always exact.
fn multi_word<K>(s: &mut Scratch<K>) -> usize {
    let (m, n) = (s.pattern.len(), s.text.len());
    let words = m.div_ceil(64);
    let dense = alphabet_size(s) * words <= DENSE_MASK_ENTRIES;
    if dense {
        build_dense_masks(s, words);
    } else {
        build_sparse_masks(s);
    }
    let diff = n - m;
    // Substituting position by position, then inserting the rest, is one valid edit script.
    let mut bound = s
        .pattern
        .iter()
        .zip(&s.text)
        .filter(|(a, b)| a != b)
        .count()
        + diff;
    // Each aligned match pairs two equal symbols, so d >= n - sum over symbols of min(count).
    let lower = n - shared_symbols(s);
    // The band's width, hence a pass's cost, grows with k - d: overshooting d costs more than a
    // failed pass below it (which stops early), so the threshold grows by 1.5x, not 2x.
    let mut k = (lower + lower / 8).max(diff).max(32);
    // A band of at most 64 rows fits one word that slides down the diagonal: one word step per
    // column whatever the pattern's length, the common case of a close generation.
    let narrow = 63usize.midpoint(diff);
    if dense && lower <= narrow {
        match small_band(s, narrow) {
            Pass::Exact(d) => return d,
            Pass::Exceeds { upper } => bound = bound.min(upper),
        }
        k = k.max(narrow + narrow / 2);
    }
    // A band of half-width k covers about (2k - diff) / 64 + 2 words of a column; when that is
    // most of a short pattern, skipping the band's bookkeeping is cheaper than narrowing it.
    if dense && (2 * k.min(bound) - diff) / 64 + 2 >= words * 3 / 4 {
        return full_matrix(s, words);
    }
    loop {
        k = k.min(bound);
        match banded(s, k, dense) {
            Pass::Exact(d) => return d,
            // Unreachable when k = bound: `bound` is the cost of an edit script, so d <= bound.
            Pass::Exceeds { upper } if k == bound => return upper,
            Pass::Exceeds { upper } => {
                // Doubling measured best on skewed generations (x1.5 and x3 were slower, and
                // extrapolating d from where a failed pass stopped overshot about 2x, since the
                // band also dies when indels drift the path off the last diagonal).
                bound = bound.min(upper);
                k *= 2;
            }
        }
    }
}

/// Myers' algorithm over one 64-row window that slides down one row per column (Hyyrö 2003's
/// banded form), covering Ukkonen's band for threshold `k` when `2k - diff + 1 <= 64`.
///
/// The window holds rows `[top, top + 63]`, `top = max(1, j - k)`. When it moves down, the row
/// that leaves it is assumed to grow by one along the row (an over-estimate, as at the edge of
/// [`banded`]) and the row that enters starts as "+1 below". The value at the window's top row is
/// tracked along the diagonal, and D(m, n) is read from it and the vertical deltas at the end.
fn small_band<K>(s: &Scratch<K>, k: usize) -> Pass {
    let (m, n) = (s.pattern.len(), s.text.len());
    let words = m.div_ceil(64);
    debug_assert!(2 * k < 64 + (n - m));
    let window = |id: usize, top: usize| {
        // Match bits of pattern rows top..top + 63 (pattern positions top - 1 ..).
        let (w, shift) = ((top - 1) / 64, (top - 1) % 64);
        let row = &s.masks[id * words..(id + 1) * words];
        let high = if shift > 0 && w + 1 < words {
            row[w + 1] << (64 - shift)
        } else {
            0
        };
        (row[w] >> shift) | high
    };
    let (mut vp, mut vn) = (u64::MAX, 0u64);
    // D(top, j) for the current window.
    let mut score = 1;
    for (j, &id) in (1..=n).zip(&s.text) {
        let top = j.saturating_sub(k).max(1);
        let moved = top > 1;
        if moved {
            vp = (vp >> 1) | (1 << 63);
            vn >>= 1;
        }
        let eq = window(id as usize, top);
        let xv = eq | vn;
        let xh = ((eq & vp).wrapping_add(vp) ^ vp) | eq;
        let hp = (vn | !(xh | vp)) << 1 | 1;
        let hn = (vp & xh) << 1;
        vp = hn | !(xv | hp);
        vn = hp & xv;
        // The row above the window grew by one (exact on row 0, D(0, j) = j).
        let above = if moved { score + 1 } else { j };
        score = (above + (vp & 1) as usize) - (vn & 1) as usize;
    }
    let top = n.saturating_sub(k).max(1);
    // Vertical deltas of rows top + 1 ..= m, bits 1 ..= m - top.
    let below = (u64::MAX >> (63 - (m - top))) & !1;
    let d = (score + (vp & below).count_ones() as usize) - (vn & below).count_ones() as usize;
    if d <= k {
        Pass::Exact(d)
    } else {
        Pass::Exceeds { upper: d }
    }
}

/// Myers' block algorithm over the whole matrix (dense masks): for short patterns and distant
/// pairs, where a band would cover most of it anyway.
fn full_matrix<K>(s: &mut Scratch<K>, words: usize) -> usize {
    let m = s.pattern.len();
    s.vp.clear();
    s.vp.resize(words, u64::MAX);
    s.vn.clear();
    s.vn.resize(words, 0);
    let last_shift = ((m - 1) % 64) as u32;
    let mut score = m;
    for &id in &s.text {
        let eq_row = &s.masks[id as usize * words..(id as usize + 1) * words];
        // D(0, j) = j: the top row grows by one per column.
        let mut carry = (1u64, 0u64);
        for ((vp, vn), &eq) in s.vp[..words - 1]
            .iter_mut()
            .zip(&mut s.vn[..words - 1])
            .zip(&eq_row[..words - 1])
        {
            carry = advance_word(vp, vn, eq, carry, 63);
        }
        let (hp, hn) = advance_word(
            &mut s.vp[words - 1],
            &mut s.vn[words - 1],
            eq_row[words - 1],
            carry,
            last_shift,
        );
        score = (score + hp as usize) - hn as usize;
    }
    score
}

/// The result of one [`banded`] pass with threshold `k`.
enum Pass {
    /// The distance, which is `<= k`.
    Exact(usize),
    /// The distance is `> k`; `upper` bounds it (`usize::MAX` when the pass stopped early).
    Exceeds { upper: usize },
}

/// Sum over symbols of the smaller of their counts in pattern and text: at most that many
/// positions can be aligned as matches.
fn shared_symbols<K>(s: &mut Scratch<K>) -> usize {
    let k = alphabet_size(s);
    s.cursor.clear();
    s.cursor.resize(k, 0);
    for &id in &s.pattern {
        s.cursor[id as usize] += 1;
    }
    let mut shared = 0;
    for &id in &s.text {
        let left = &mut s.cursor[id as usize];
        if *left > 0 {
            *left -= 1;
            shared += 1;
        }
    }
    shared
}

/// Match masks as a dense `[alphabet][words]` table.
fn build_dense_masks<K>(s: &mut Scratch<K>, words: usize) {
    s.masks.clear();
    s.masks.resize(alphabet_size(s) * words, 0);
    for (i, &id) in s.pattern.iter().enumerate() {
        s.masks[id as usize * words + i / 64] |= 1u64 << (i % 64);
    }
}

/// Per dense id, the (word, bits) entries where it occurs, in CSR layout, for patterns whose
/// dense table would be too large (it grows as distinct symbols times words).
fn build_sparse_masks<K>(s: &mut Scratch<K>) {
    let k = alphabet_size(s);
    // Pass 1 counts the distinct (id, word) pairs per id, pass 2 fills them in word order.
    s.sparse_start.clear();
    s.sparse_start.resize(k + 1, 0);
    s.cursor.clear();
    s.cursor.resize(k, u32::MAX);
    for (i, &id) in s.pattern.iter().enumerate() {
        let w = (i / 64) as u32;
        if s.cursor[id as usize] != w {
            s.cursor[id as usize] = w;
            s.sparse_start[id as usize + 1] += 1;
        }
    }
    for id in 0..k {
        s.sparse_start[id + 1] += s.sparse_start[id];
    }
    s.sparse_entries.clear();
    s.sparse_entries
        .resize(s.sparse_start[k] as usize, (u32::MAX, 0));
    // cursor[id] = next free entry of id; an id's entries are appended in word order, so the
    // entry before the cursor is this word's when the id already occurred in this word.
    s.cursor.clear();
    s.cursor.extend_from_slice(&s.sparse_start[..k]);
    for (i, &id) in s.pattern.iter().enumerate() {
        let (w, bit) = ((i / 64) as u32, i % 64);
        let (start, at) = (
            s.sparse_start[id as usize] as usize,
            s.cursor[id as usize] as usize,
        );
        if at > start && s.sparse_entries[at - 1].0 == w {
            s.sparse_entries[at - 1].1 |= 1u64 << bit;
        } else {
            s.sparse_entries[at] = (w, 1u64 << bit);
            s.cursor[id as usize] += 1;
        }
    }
}

/// One pass of the block algorithm over the 64-row words that may hold a cell of a path of cost
/// `<= k` (Ukkonen's cut-off, kept per column from the scores as Edlib does).
///
/// Cell (i, j) lies on such a path only if `D(i, j) + |(n - j) - (m - i)| <= k`: the rest of the
/// path has to reach the last diagonal. Each column, words whose every cell fails that test (the
/// bound comes from the score at the word's bottom row, as values change by at most 1 per row)
/// leave the band at either end, and a word below the band enters when its cells could pass it.
/// Cells outside the band are never on such a path, and a word entering the band starts as "+1
/// per row below the word above", which is exact for every path that reaches it from the band.
/// So the cells of an optimal path of cost `<= k` are computed exactly; other cells may be
/// over-estimated, which never lowers a value.
fn banded<K>(s: &mut Scratch<K>, k: usize, dense: bool) -> Pass {
    let (m, n) = (s.pattern.len(), s.text.len());
    let words = m.div_ceil(64);
    let diff = n - m;
    if k < diff {
        return Pass::Exceeds { upper: usize::MAX };
    }
    s.eq.clear();
    s.eq.resize(words, 0);
    s.vp.clear();
    s.vp.resize(words, u64::MAX);
    s.vn.clear();
    s.vn.resize(words, 0);
    // score[w]: the value at word w's bottom row in the current column (D(i, 0) = i at first).
    let bottom = |w: usize| m.min(64 * (w + 1));
    s.score.clear();
    s.score.extend((0..words).map(bottom));
    let shift = |w: usize| {
        if w + 1 == words {
            ((m - 1) % 64) as u32
        } else {
            63
        }
    };
    // Column 0: D(i, 0) + |n - (m - i)| = 2i + diff <= k.
    let (mut first, mut last) = (0, ((((k - diff) / 2).max(1) - 1) / 64).min(words - 1));
    // Lower bound of D(i, j) + |(n - j) - (m - i)| over the cells of word w in column j.
    let k = k as i64;
    let dead = |w: usize, j: usize, score: usize| {
        let (r, rows) = (bottom(w), (bottom(w) - 64 * w) as i64);
        let e = (n - j) as i64 - (m - r) as i64;
        // The cell t rows above the bottom is at least score - t from e - t off the last diagonal.
        let reach = if e >= rows - 1 {
            e - 2 * (rows - 1)
        } else {
            -e
        };
        score as i64 + reach > k
    };
    for (j, &id) in (1..=n).zip(&s.text) {
        let id = id as usize;
        let entries = if dense {
            &[][..]
        } else {
            &s.sparse_entries[s.sparse_start[id] as usize..s.sparse_start[id + 1] as usize]
        };
        for &(w, bits) in entries {
            s.eq[w as usize] = bits;
        }
        let eq_row = if dense {
            &s.masks[id * words..(id + 1) * words]
        } else {
            &s.eq[..]
        };
        // Carry into the first word: +1, exact on the top row, an over-estimate below it.
        let run = first..=last;
        let mut carry = advance_run(
            &mut s.vp[run.clone()],
            &mut s.vn[run.clone()],
            &mut s.score[run.clone()],
            &eq_row[run],
            (1, 0),
            shift(last),
        );
        // Words below the band enter while a path from the band could reach them within k: from
        // the last word's bottom row r, row r + t of this column costs at least
        // D(r, j - 1) + t - 1 and is |e + t| off the last diagonal; t = 1 or t = -e is best.
        while last + 1 < words {
            let previous = s.score[last] + carry.1 as usize - carry.0 as usize;
            let e = (n - j) as i64 - (m - bottom(last)) as i64;
            if previous as i64 + (e + 1).abs() > k {
                break;
            }
            last += 1;
            s.vp[last] = u64::MAX;
            s.vn[last] = 0;
            s.score[last] = previous + (bottom(last) - bottom(last - 1));
            let word = last..=last;
            carry = advance_run(
                &mut s.vp[word.clone()],
                &mut s.vn[word.clone()],
                &mut s.score[word.clone()],
                &eq_row[word],
                carry,
                shift(last),
            );
        }
        for &(w, _) in entries {
            s.eq[w as usize] = 0;
        }
        // Words may leave the band late (they only cost time), so check every fourth column.
        if j % 4 != 0 && j != n {
            continue;
        }
        while last > first && dead(last, j, s.score[last]) {
            last -= 1;
        }
        while first < last && dead(first, j, s.score[first]) {
            first += 1;
        }
        if first == last && dead(last, j, s.score[last]) {
            return Pass::Exceeds { upper: usize::MAX };
        }
    }
    // The band ends above row m: the distance exceeds k, and going straight down bounds it.
    let d = s.score[last] + (m - bottom(last));
    if last + 1 == words && d as i64 <= k {
        Pass::Exact(d)
    } else {
        Pass::Exceeds { upper: d }
    }
}

/// Advance consecutive words by one text symbol from the horizontal delta `carry` entering the
/// first, keeping each word's bottom-row score; the last word's bottom is its bit `last_shift`.
/// Returns the delta leaving the last word.
#[inline]
fn advance_run(
    vp: &mut [u64],
    vn: &mut [u64],
    score: &mut [usize],
    eq: &[u64],
    mut carry: (u64, u64),
    last_shift: u32,
) -> (u64, u64) {
    let Some(last) = vp.len().checked_sub(1) else {
        return carry;
    };
    for (((vp, vn), &eq), score) in vp[..last]
        .iter_mut()
        .zip(&mut vn[..last])
        .zip(&eq[..last])
        .zip(&mut score[..last])
    {
        carry = advance_word(vp, vn, eq, carry, 63);
        *score = (*score + carry.0 as usize) - carry.1 as usize;
    }
    carry = advance_word(&mut vp[last], &mut vn[last], eq[last], carry, last_shift);
    score[last] = (score[last] + carry.0 as usize) - carry.1 as usize;
    carry
}

/// Advance one 64-row word by one text symbol (Myers 1999, block version, branch-free). `carry`
/// is the horizontal delta entering at the word's top as (+1 bit, -1 bit); returns the delta at
/// row `bottom` of the word the same way, the next word's carry.
#[inline]
fn advance_word(vp: &mut u64, vn: &mut u64, eq: u64, carry: (u64, u64), bottom: u32) -> (u64, u64) {
    let (hp_in, hn_in) = carry;
    let xv = eq | *vn;
    let eq = eq | hn_in;
    let xh = ((eq & *vp).wrapping_add(*vp) ^ *vp) | eq;
    let hp = *vn | !(xh | *vp);
    let hn = *vp & xh;
    let out = ((hp >> bottom) & 1, (hn >> bottom) & 1);
    let hp = (hp << 1) | hp_in;
    let hn = (hn << 1) | hn_in;
    *vp = hn | !(xv | hp);
    *vn = hp & xv;
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The textbook dynamic programme: the oracle.
    fn wagner_fischer<K: Eq>(a: &[K], b: &[K]) -> usize {
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, x) in a.iter().enumerate() {
            let mut diag = row[0];
            row[0] = i + 1;
            for (j, y) in b.iter().enumerate() {
                let up = row[j + 1];
                row[j + 1] = (diag + usize::from(x != y)).min(up + 1).min(row[j] + 1);
                diag = up;
            }
        }
        row[b.len()]
    }

    /// `a` with each `(position, symbol, kind)` edit applied in turn (positions wrap): 0
    /// substitutes, 1 deletes, 3 deletes a run of 10, anything else inserts.
    fn apply_edits(a: &[u32], edits: &[(usize, u32, u8)]) -> Vec<u32> {
        let mut b = a.to_vec();
        for &(pos, sym, kind) in edits {
            let pos = pos % (b.len() + 1);
            match kind {
                0 if pos < b.len() => b[pos] = sym,
                1 if pos < b.len() => {
                    b.remove(pos);
                }
                3 => {
                    b.drain(pos..(pos + 10).min(b.len()));
                }
                _ => b.insert(pos, sym),
            }
        }
        b
    }

    #[test]
    fn known_values() {
        let mut s = Scratch::default();
        let d = |a: &str, b: &str, s: &mut Scratch<char>| {
            let a: Vec<char> = a.chars().collect();
            let b: Vec<char> = b.chars().collect();
            levenshtein(&a, &b, s)
        };
        assert_eq!(d("kitten", "sitting", &mut s), 3);
        assert_eq!(d("", "", &mut s), 0);
        assert_eq!(d("", "abc", &mut s), 3);
        assert_eq!(d("flaw", "lawn", &mut s), 2);
        assert_eq!(d("ünïcödé", "unicode", &mut s), 4);
    }

    #[test]
    fn long_sequences_cross_word_boundaries() {
        let mut s = Scratch::default();
        for m in [63usize, 64, 65, 127, 128, 129, 300] {
            let a: Vec<u32> = (0..m as u32).map(|i| i % 17).collect();
            let mut b = a.clone();
            b.remove(m / 2);
            b.insert(3, 99);
            b[m - 5] = 42;
            assert_eq!(levenshtein(&a, &b, &mut s), wagner_fischer(&a, &b), "m={m}");
        }
    }

    #[test]
    fn band_doubling_is_exact_on_long_sequences() {
        // Few edits (narrow band suffices), many edits (band doubles), shifted copies.
        let mut s = Scratch::default();
        let a: Vec<u32> = (0..1500u32).map(|i| (i * 7) % 31).collect();
        let mut few = a.clone();
        few[700] = 99;
        few.insert(10, 98);
        let many: Vec<u32> = (0..1400u32).map(|i| (i * 11) % 29).collect();
        let shifted: Vec<u32> = a[200..].iter().copied().chain(0..50).collect();
        for b in [&few, &many, &shifted, &a[..100].to_vec()] {
            assert_eq!(levenshtein(&a, b, &mut s), wagner_fischer(&a, b));
            assert_eq!(levenshtein(b, &a, &mut s), wagner_fischer(&a, b));
        }
    }

    #[test]
    fn sparse_masks_for_many_distinct_symbols() {
        // 3,000 distinct ids x 47 words is past DENSE_MASK_ENTRIES: the sparse layout is used.
        let a: Vec<u32> = (0..3000).collect();
        let mut b: Vec<u32> = (0..3000).rev().step_by(2).chain(1000..1400).collect();
        b.swap(10, 900);
        let mut s = Scratch::default();
        assert_eq!(levenshtein(&a, &b, &mut s), wagner_fischer(&a, &b));
        let mut close = a.clone();
        close[1500] = 7;
        close.remove(20);
        assert_eq!(levenshtein(&a, &close, &mut s), 2);
    }

    proptest! {
        #[test]
        fn long_pairs_match_dynamic_programme(
            a in proptest::collection::vec(0u32..4, 60..400),
            edits in proptest::collection::vec((0usize..400, 0u32..6, 0u8..3), 0..60),
        ) {
            let b = apply_edits(&a, &edits);
            let mut s = Scratch::default();
            prop_assert_eq!(levenshtein(&a, &b, &mut s), wagner_fischer(&a, &b));
        }

        #[test]
        fn banded_pass_is_exact_iff_threshold_reaches_distance(
            a in proptest::collection::vec(0u32..27, 65..700),
            edits in proptest::collection::vec((0usize..700, 0u32..27, 0u8..4), 0..120),
        ) {
            // Character-like alphabet, clustered edits and shifts (kind 3 deletes a run of 10):
            // every threshold below the distance must say so, every one above must be exact.
            let b = apply_edits(&a, &edits);
            let expected = wagner_fischer(&a, &b);
            let (pattern, text) = if a.len() <= b.len() { (&a, &b) } else { (&b, &a) };
            prop_assume!(pattern.len() > 64);
            let mut s = Scratch::default();
            rename(pattern, text, &mut s);
            let words = pattern.len().div_ceil(64);
            let dense = alphabet_size(&s) * words <= DENSE_MASK_ENTRIES;
            if dense { build_dense_masks(&mut s, words) } else { build_sparse_masks(&mut s) }
            let diff = text.len() - pattern.len();
            for k in [diff, expected.saturating_sub(1).max(diff), expected, expected + 1, expected + 64, 2 * expected + 7] {
                match banded(&mut s, k, dense) {
                    Pass::Exact(d) => prop_assert!(k >= expected && d == expected, "k={} d={} expected={}", k, d, expected),
                    Pass::Exceeds { upper } => prop_assert!(k < expected && upper >= expected, "k={} upper={} expected={}", k, upper, expected),
                }
            }
            let narrow = 63usize.midpoint(diff);
            if dense && diff <= narrow {
                match small_band(&s, narrow) {
                    Pass::Exact(d) => prop_assert!(narrow >= expected && d == expected, "narrow={} d={} expected={}", narrow, d, expected),
                    Pass::Exceeds { upper } => prop_assert!(narrow < expected && upper >= expected, "narrow={} upper={} expected={}", narrow, upper, expected),
                }
            }
            prop_assert_eq!(levenshtein(&a, &b, &mut s), expected);
        }

        #[test]
        fn matches_dynamic_programme(
            a in proptest::collection::vec(0u32..6, 0..200),
            b in proptest::collection::vec(0u32..6, 0..200),
        ) {
            let mut s = Scratch::default();
            prop_assert_eq!(levenshtein(&a, &b, &mut s), wagner_fischer(&a, &b));
            prop_assert_eq!(levenshtein(&b, &a, &mut s), wagner_fischer(&a, &b));
        }
    }
}
