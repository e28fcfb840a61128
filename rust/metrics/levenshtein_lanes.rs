//! Several short pairs at once: Myers' single-word step (see [`super::levenshtein`]) on `L`
//! pairs side by side, one 64-bit lane each, so one vector instruction advances every pair.
//!
//! Each pair arrives as its *match stream*: for every text symbol, the 64-bit mask of the pattern
//! positions holding that symbol ([`super::levenshtein::match_stream`] builds it, pattern at most
//! 64 symbols). The step itself is plain integer code over `[u64; L]` arrays, written once and
//! compiled three times: with AVX-512 (8 lanes), with AVX2 (4 lanes), and with the target's
//! baseline (4 lanes, SSE2 on x86-64, NEON on aarch64). The instance is picked at run time
//! from the CPU's features, so one wheel runs everywhere; all three compute the same integers, so
//! results never depend on the machine, and each lane's result is exactly the scalar kernel's.
//!
//! Pairs whose pattern takes 2 to 6 words (65-384 symbols: a paragraph of text) go to
//! [`wide_distances`]: 4 pairs with as many words side by side, each running the block algorithm
//! over its whole matrix (a word count fixed at compile time keeps every word's state in
//! registers). On the medium profile of `benches/datagen.py` this cut the kernel's instructions
//! about 3x against the scalar kernel's bands, whose bookkeeping and failed passes cost more than
//! the cells they skip at about 220 characters.

/// A pair reduced to its match stream: `stream[j]` is the match mask of text symbol `j`;
/// `pattern_len` (1..=64) is the pattern's length.
#[derive(Clone, Copy)]
pub struct LanePair<'a> {
    /// Pattern length, 1 to 64.
    pub pattern_len: usize,
    /// One match mask per text symbol.
    pub stream: &'a [u64],
}

/// Which instance of the lane kernel runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaneKernel {
    /// Plain arrays, 4 lanes, baseline instructions (every target).
    Portable,
    /// 4 lanes in AVX2 registers.
    Avx2,
    /// 8 lanes in AVX-512 registers.
    Avx512,
}

impl LaneKernel {
    /// The widest instance this CPU runs.
    pub fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Self::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Self::Avx2;
            }
        }
        Self::Portable
    }

    /// Pairs scored per call of the step loop.
    pub fn lanes(self) -> usize {
        match self {
            Self::Portable | Self::Avx2 => 4,
            Self::Avx512 => 8,
        }
    }

    /// Whether this CPU can run the instance (the portable one always).
    pub fn available(self) -> bool {
        match self {
            Self::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Self::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Self::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }
}

/// Reusable buffers: the interleaved streams of one group of lanes.
#[derive(Default)]
pub struct LaneScratch {
    interleaved: Vec<u64>,
}

/// Distances of `pairs` (any number; `out[i]` for `pairs[i]`), `kernel.lanes()` at a time.
/// Falls back to the portable instance when the CPU lacks `kernel`'s features.
pub fn distances(kernel: LaneKernel, pairs: &[LanePair<'_>], s: &mut LaneScratch, out: &mut [u32]) {
    debug_assert_eq!(pairs.len(), out.len());
    let kernel = if kernel.available() {
        kernel
    } else {
        LaneKernel::Portable
    };
    let lanes = kernel.lanes();
    for (group, out) in pairs.chunks(lanes).zip(out.chunks_mut(lanes)) {
        match kernel {
            LaneKernel::Portable => group_distances::<4>(group, s, out, step_portable),
            #[cfg(target_arch = "x86_64")]
            LaneKernel::Avx2 => group_distances::<4>(group, s, out, step_avx2),
            #[cfg(target_arch = "x86_64")]
            LaneKernel::Avx512 => group_distances::<8>(group, s, out, step_avx512),
            #[cfg(not(target_arch = "x86_64"))]
            _ => group_distances::<4>(group, s, out, step_portable),
        }
    }
}

/// Per-lane constants and state for [`steps`].
struct Lanes<const L: usize> {
    /// Bit of the pattern's last row.
    last: [u64; L],
    /// Text length: the lane's score stops changing after it.
    len: [u64; L],
}

fn group_distances<const L: usize>(
    group: &[LanePair<'_>],
    s: &mut LaneScratch,
    out: &mut [u32],
    step: fn(&Lanes<L>, &[u64]) -> [u64; L],
) {
    let columns = group.iter().map(|p| p.stream.len()).max().unwrap_or(0);
    // Column-major: the L masks of column j are adjacent, one vector load. Missing lanes and
    // columns past a lane's text are 0 (no match); their score changes are masked out.
    s.interleaved.clear();
    s.interleaved.resize(columns * L, 0);
    let mut lanes = Lanes {
        last: [1; L],
        len: [0; L],
    };
    for (l, pair) in group.iter().enumerate() {
        debug_assert!((1..=64).contains(&pair.pattern_len));
        lanes.last[l] = 1u64 << (pair.pattern_len - 1);
        lanes.len[l] = pair.stream.len() as u64;
        for (j, &eq) in pair.stream.iter().enumerate() {
            s.interleaved[j * L + l] = eq;
        }
    }
    let delta = step(&lanes, &s.interleaved);
    for (l, (pair, out)) in group.iter().zip(out.iter_mut()).enumerate() {
        // D(m, n) = m + (net bottom-row changes); the changes are exact integers mod 2^64.
        *out = (pair.pattern_len as u64).wrapping_add(delta[l]) as u32;
    }
}

/// The column loop over all lanes; returns each lane's net change of its bottom-row value.
// Always inlined: each `#[target_feature]` instance must compile this body with its own
// features (a call would run the baseline code).
#[allow(clippy::inline_always)]
#[inline(always)]
fn steps<const L: usize>(lanes: &Lanes<L>, interleaved: &[u64]) -> [u64; L] {
    let mut vp = [u64::MAX; L];
    let mut vn = [0u64; L];
    let mut delta = [0u64; L];
    for (j, eq) in interleaved.chunks_exact(L).enumerate() {
        let j = j as u64;
        for l in 0..L {
            let eq = eq[l];
            let xv = eq | vn[l];
            let xh = ((eq & vp[l]).wrapping_add(vp[l]) ^ vp[l]) | eq;
            let hp = vn[l] | !(xh | vp[l]);
            let hn = vp[l] & xh;
            // +1, -1 or 0 at the last row, counted only while the lane has text left.
            let active = if j < lanes.len[l] { u64::MAX } else { 0 };
            let up = u64::from(hp & lanes.last[l] != 0);
            let down = u64::from(hn & lanes.last[l] != 0);
            delta[l] = delta[l].wrapping_add(up.wrapping_sub(down) & active);
            let hp = (hp << 1) | 1;
            let hn = hn << 1;
            vp[l] = hn | !(xv | hp);
            vn[l] = hp & xv;
        }
    }
    delta
}

fn step_portable(lanes: &Lanes<4>, interleaved: &[u64]) -> [u64; 4] {
    steps(lanes, interleaved)
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
fn step_avx2(lanes: &Lanes<4>, interleaved: &[u64]) -> [u64; 4] {
    #[target_feature(enable = "avx2")]
    fn inner(lanes: &Lanes<4>, interleaved: &[u64]) -> [u64; 4] {
        steps(lanes, interleaved)
    }
    // SAFETY: only reached through `distances`, which checked `LaneKernel::Avx2.available()`
    // (the CPU reports AVX2) before choosing this instance.
    unsafe { inner(lanes, interleaved) }
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
fn step_avx512(lanes: &Lanes<8>, interleaved: &[u64]) -> [u64; 8] {
    #[target_feature(enable = "avx512f")]
    fn inner(lanes: &Lanes<8>, interleaved: &[u64]) -> [u64; 8] {
        steps(lanes, interleaved)
    }
    // SAFETY: only reached through `distances`, which checked `LaneKernel::Avx512.available()`
    // (the CPU reports AVX-512F) before choosing this instance.
    unsafe { inner(lanes, interleaved) }
}

/// A pair whose pattern takes 2 to [`WIDE_WORDS`](super::levenshtein::WIDE_WORDS) words, as dense ids (see
/// [`super::levenshtein::match_stream`]).
#[derive(Clone, Copy)]
pub struct WidePair<'a> {
    /// Pattern ids, 65 to `64 * WIDE_WORDS` of them.
    pub pattern: &'a [u32],
    /// Text ids.
    pub text: &'a [u32],
    /// Every id is below this.
    pub alphabet: usize,
}

impl WidePair<'_> {
    fn words(&self) -> usize {
        self.pattern.len().div_ceil(64)
    }
}

/// Reusable buffers of [`wide_distances`].
#[derive(Default)]
pub struct WideScratch {
    interleaved: Vec<u64>,
    /// Per id, one mask per word (all zero between pairs).
    masks: Vec<u64>,
}

/// Distances of pairs longer than one word (`out[i]` for `pairs[i]`): consecutive pairs with
/// the same number of words share a group of lanes, so callers sort by words, then text length.
/// Each pair runs Myers' block algorithm over the whole matrix, its words one after another in
/// each column, as [`super::levenshtein`]'s full-matrix pass does; `L` pairs at a time.
pub fn wide_distances(
    kernel: LaneKernel,
    pairs: &[WidePair<'_>],
    s: &mut WideScratch,
    out: &mut [u32],
) {
    debug_assert_eq!(pairs.len(), out.len());
    let kernel = if kernel.available() {
        kernel
    } else {
        LaneKernel::Portable
    };
    // 4 lanes for every instance: 8 (AVX-512) ran 25% slower on the medium profile on an AMD
    // EPYC (512-bit operations split in two, more lanes idle in groups and longer columns), so
    // the AVX-512 instance uses its instructions on 256-bit registers.
    let lanes = 4;
    // The 4-lane AVX-512 instance needs AVX-512VL (every AVX-512 CPU but Xeon Phi has it).
    #[cfg(target_arch = "x86_64")]
    let kernel = if kernel == LaneKernel::Avx512 && !std::arch::is_x86_feature_detected!("avx512vl")
    {
        LaneKernel::Avx2
    } else {
        kernel
    };
    let mut start = 0;
    while start < pairs.len() {
        let words = pairs[start].words();
        let end = pairs[start..]
            .iter()
            .take(lanes)
            .take_while(|p| p.words() == words)
            .count()
            + start;
        let (group, out) = (&pairs[start..end], &mut out[start..end]);
        macro_rules! dispatch {
            ($($w:literal),*) => {
                match (kernel, words) {
                    $(
                        (LaneKernel::Portable, $w) => group_wide::<4, $w>(group, s, out, wide_portable::<$w>),
                        #[cfg(target_arch = "x86_64")]
                        (LaneKernel::Avx2, $w) => group_wide::<4, $w>(group, s, out, wide_avx2::<$w>),
                        #[cfg(target_arch = "x86_64")]
                        (LaneKernel::Avx512, $w) => group_wide::<4, $w>(group, s, out, wide_avx512::<$w>),
                    )*
                    _ => unreachable!("a wide pair has 2 to WIDE_WORDS words"),
                }
            };
        }
        dispatch!(2, 3, 4, 5, 6);
        start = end;
    }
}

/// Interleave the group's match masks column by column (word by word within a column, lane by
/// lane within a word), run the steps, and read each lane's distance.
fn group_wide<const L: usize, const W: usize>(
    group: &[WidePair<'_>],
    s: &mut WideScratch,
    out: &mut [u32],
    step: fn(&Lanes<L>, &[u64]) -> [u64; L],
) {
    let columns = group.iter().map(|p| p.text.len()).max().unwrap_or(0);
    s.interleaved.clear();
    s.interleaved.resize(columns * W * L, 0);
    let mut lanes = Lanes {
        last: [1; L],
        len: [0; L],
    };
    for (l, pair) in group.iter().enumerate() {
        debug_assert_eq!(pair.words(), W);
        let m = pair.pattern.len();
        lanes.last[l] = 1u64 << ((m - 1) % 64);
        lanes.len[l] = pair.text.len() as u64;
        if s.masks.len() < pair.alphabet * W {
            s.masks.resize(pair.alphabet * W, 0);
        }
        for (i, &id) in pair.pattern.iter().enumerate() {
            s.masks[id as usize * W + i / 64] |= 1u64 << (i % 64);
        }
        for (column, &id) in s.interleaved.chunks_exact_mut(W * L).zip(pair.text) {
            let row = &s.masks[id as usize * W..id as usize * W + W];
            for (w, &mask) in row.iter().enumerate() {
                column[w * L + l] = mask;
            }
        }
        for &id in pair.pattern {
            s.masks[id as usize * W..id as usize * W + W].fill(0);
        }
    }
    let delta = step(&lanes, &s.interleaved);
    for (l, (pair, out)) in group.iter().zip(out.iter_mut()).enumerate() {
        *out = (pair.pattern.len() as u64).wrapping_add(delta[l]) as u32;
    }
}

/// [`steps`] for patterns of `W` words: each column advances the words top to bottom, the
/// horizontal delta leaving one word's last row entering the next; the last word's bottom-row
/// changes (at bit `last`) are counted while the lane has text left.
#[allow(clippy::inline_always)]
#[inline(always)]
fn wide_steps<const L: usize, const W: usize>(lanes: &Lanes<L>, interleaved: &[u64]) -> [u64; L] {
    let mut vp = [[u64::MAX; L]; W];
    let mut vn = [[0u64; L]; W];
    let mut delta = [0u64; L];
    for (j, column) in interleaved.chunks_exact(W * L).enumerate() {
        let j = j as u64;
        // D(0, j) = j: the top row grows by one per column.
        let mut hp_in = [1u64; L];
        let mut hn_in = [0u64; L];
        for w in 0..W {
            let eq_w = &column[w * L..(w + 1) * L];
            for l in 0..L {
                let eq = eq_w[l];
                let xv = eq | vn[w][l];
                let eq_in = eq | hn_in[l];
                let xh = ((eq_in & vp[w][l]).wrapping_add(vp[w][l]) ^ vp[w][l]) | eq_in;
                let hp = vn[w][l] | !(xh | vp[w][l]);
                let hn = vp[w][l] & xh;
                if w + 1 == W {
                    let active = if j < lanes.len[l] { u64::MAX } else { 0 };
                    let up = u64::from(hp & lanes.last[l] != 0);
                    let down = u64::from(hn & lanes.last[l] != 0);
                    delta[l] = delta[l].wrapping_add(up.wrapping_sub(down) & active);
                }
                let (hp_out, hn_out) = (hp >> 63, hn >> 63);
                let hp = (hp << 1) | hp_in[l];
                let hn = (hn << 1) | hn_in[l];
                vp[w][l] = hn | !(xv | hp);
                vn[w][l] = hp & xv;
                hp_in[l] = hp_out;
                hn_in[l] = hn_out;
            }
        }
    }
    delta
}

fn wide_portable<const W: usize>(lanes: &Lanes<4>, interleaved: &[u64]) -> [u64; 4] {
    wide_steps::<4, W>(lanes, interleaved)
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
fn wide_avx2<const W: usize>(lanes: &Lanes<4>, interleaved: &[u64]) -> [u64; 4] {
    #[target_feature(enable = "avx2")]
    fn inner<const W: usize>(lanes: &Lanes<4>, interleaved: &[u64]) -> [u64; 4] {
        wide_steps::<4, W>(lanes, interleaved)
    }
    // SAFETY: only reached through `wide_distances`, which checked
    // `LaneKernel::Avx2.available()` (the CPU reports AVX2) before choosing this instance.
    unsafe { inner::<W>(lanes, interleaved) }
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
fn wide_avx512<const W: usize>(lanes: &Lanes<4>, interleaved: &[u64]) -> [u64; 4] {
    #[target_feature(enable = "avx512f,avx512vl")]
    fn inner<const W: usize>(lanes: &Lanes<4>, interleaved: &[u64]) -> [u64; 4] {
        wide_steps::<4, W>(lanes, interleaved)
    }
    // SAFETY: only reached through `wide_distances`, which checked
    // `LaneKernel::Avx512.available()` and AVX-512VL (the CPU reports both) before choosing this
    // instance.
    unsafe { inner::<W>(lanes, interleaved) }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::levenshtein::{
        levenshtein, match_stream, match_stream_bytes, LaneInput, Scratch, Stream, Symbol,
        WIDE_WORDS,
    };
    use super::*;

    /// Every instance this CPU runs.
    fn kernels() -> Vec<LaneKernel> {
        [LaneKernel::Portable, LaneKernel::Avx2, LaneKernel::Avx512]
            .into_iter()
            .filter(|k| k.available())
            .collect()
    }

    /// Each pair's distance from every lane instance (single-word and wide), checked against
    /// the scalar kernel; pairs too long for the lanes are checked to be long. Returns how many
    /// pairs went to the single-word and to the wide kernels.
    fn check_batch<K: Symbol>(pairs: &[(Vec<K>, Vec<K>)]) -> (usize, usize) {
        let mut lev = Scratch::default();
        let mut input = LaneInput::default();
        let (mut pending, mut wide) = (Vec::new(), Vec::new());
        let (mut expected, mut wide_expected) = (Vec::new(), Vec::new());
        for (a, b) in pairs {
            let scalar = levenshtein(a, b, &mut lev);
            let (start, ids_start) = (input.streams.len(), input.ids.len());
            match match_stream(a, b, &mut lev, WIDE_WORDS, &mut input) {
                Stream::Appended { pattern_len } => {
                    pending.push((start, input.streams.len() - start, pattern_len));
                    expected.push(scalar as u32);
                }
                Stream::Wide {
                    pattern_len,
                    text_len,
                    alphabet,
                } => {
                    assert!(pattern_len > 64 && pattern_len <= text_len);
                    wide.push((ids_start, pattern_len, text_len, alphabet));
                    wide_expected.push(scalar as u32);
                }
                Stream::Done(d) => assert_eq!(d, scalar),
                Stream::TooLong => assert!(a.len().min(b.len()) > 64 * WIDE_WORDS),
            }
        }
        let lane_pairs: Vec<LanePair<'_>> = pending
            .iter()
            .map(|&(start, len, pattern_len)| LanePair {
                pattern_len,
                stream: &input.streams[start..start + len],
            })
            .collect();
        // In arrival order: groups break wherever the word count changes.
        let wide_pairs: Vec<WidePair<'_>> = wide
            .iter()
            .map(|&(start, m, n, alphabet)| WidePair {
                pattern: &input.ids[start..start + m],
                text: &input.ids[start + m..start + m + n],
                alphabet,
            })
            .collect();
        for kernel in kernels() {
            let mut out = vec![0; lane_pairs.len()];
            distances(kernel, &lane_pairs, &mut LaneScratch::default(), &mut out);
            assert_eq!(out, expected, "{kernel:?}");
            let mut out = vec![0; wide_pairs.len()];
            wide_distances(kernel, &wide_pairs, &mut WideScratch::default(), &mut out);
            assert_eq!(out, wide_expected, "wide {kernel:?}");
        }
        (expected.len(), wide_expected.len())
    }

    #[test]
    fn detection_picks_an_available_instance() {
        assert!(LaneKernel::detect().available());
        assert!(LaneKernel::Portable.available());
    }

    #[test]
    fn known_values_at_lane_boundaries() {
        let s = |x: &str| x.chars().collect::<Vec<char>>();
        let mut pairs = vec![
            (s("kitten"), s("sitting")),
            (s(""), s("abc")),
            (s("abc"), s("")),
            (s("ünïcödé"), s("unicode")),
            (s("flaw"), s("lawn")),
        ];
        // Patterns at each word boundary (65 and up are wide, past 384 too long for a lane),
        // texts far longer than the pattern, and groups of every size up to 9 (past 8 lanes).
        for m in [
            1usize, 2, 63, 64, 65, 127, 128, 129, 191, 192, 193, 255, 256, 257, 383, 384, 385,
        ] {
            let a: Vec<char> = (0..m).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
            let mut b = a.clone();
            b.insert(m / 2, 'Z');
            b.remove(0);
            pairs.push((a.clone(), b));
            pairs.push((
                a.clone(),
                a.iter().cycle().take(3 * m + 5).copied().collect(),
            ));
        }
        for n in 1..=pairs.len() {
            check_batch(&pairs[..n]);
        }
        // Wide pairs sorted as the caller sorts them: full groups of each word count.
        pairs.sort_by_key(|(a, b)| (a.len().min(b.len()).div_ceil(64), a.len().max(b.len())));
        let (single, wide) = check_batch(&pairs);
        assert!(
            single >= 10 && wide >= 9,
            "{single} single-word, {wide} wide"
        );
    }

    proptest! {
        #[test]
        fn lanes_match_scalar_on_chars(
            pairs in proptest::collection::vec(
                (proptest::collection::vec(proptest::char::any(), 0..80),
                 proptest::collection::vec(proptest::char::any(), 0..80)),
                0..20),
        ) {
            check_batch(&pairs);
        }

        #[test]
        fn wide_lanes_match_scalar(
            pairs in proptest::collection::vec(
                (proptest::collection::vec(0u32..5, 0..420),
                 proptest::collection::vec((0usize..420, 0u32..6, 0u8..3), 0..80),
                 proptest::collection::vec(0u32..30, 0..40)),
                0..12),
        ) {
            // Patterns of 1 to 6 words, close (edited copies) and far (appended noise), mixed in
            // one batch: groups of several word counts and text lengths.
            let pairs: Vec<(Vec<u32>, Vec<u32>)> = pairs
                .into_iter()
                .map(|(a, edits, tail)| {
                    let mut b = a.clone();
                    for (pos, sym, kind) in edits {
                        let pos = pos % (b.len() + 1);
                        match kind {
                            0 if pos < b.len() => b[pos] = sym,
                            1 if pos < b.len() => { b.remove(pos); }
                            _ => b.insert(pos, sym),
                        }
                    }
                    b.extend(tail);
                    (a, b)
                })
                .collect();
            check_batch(&pairs);
        }

        #[test]
        fn lanes_match_scalar_on_small_alphabets(
            pairs in proptest::collection::vec(
                (proptest::collection::vec(0u8..4, 0..70),
                 proptest::collection::vec(0u8..4, 0..200)),
                0..20),
        ) {
            // Few symbols: long shared ends, many equal cells, text far longer than pattern.
            check_batch(&pairs);
        }

        #[test]
        fn byte_streams_equal_renamed_streams(
            a in proptest::collection::vec(b'a'..b'h', 0..420),
            b in proptest::collection::vec(b'a'..b'h', 0..420),
        ) {
            // The ASCII path indexes masks by byte (and keeps bytes as ids); the generic path
            // renames first. Same kind of result, same streams, same distances.
            let (mut by_byte, mut renamed) = (LaneInput::default(), LaneInput::default());
            let mut masks = [0u64; 256];
            let x = match_stream_bytes(&a, &b, &mut masks, &mut by_byte);
            let y = match_stream(&a, &b, &mut Scratch::default(), WIDE_WORDS, &mut renamed);
            prop_assert!(masks.iter().all(|&m| m == 0));
            prop_assert_eq!(by_byte.streams, renamed.streams);
            match (x, y) {
                (Stream::Wide { pattern_len: m, text_len: n, alphabet }, Stream::Wide { pattern_len: m2, text_len: n2, alphabet: a2 }) => {
                    prop_assert_eq!((m, n), (m2, n2));
                    prop_assert_eq!(alphabet, 256);
                    let x = WidePair { pattern: &by_byte.ids[..m], text: &by_byte.ids[m..m + n], alphabet };
                    let y = WidePair { pattern: &renamed.ids[..m], text: &renamed.ids[m..m + n], alphabet: a2 };
                    for kernel in kernels() {
                        let (mut d1, mut d2) = ([0], [0]);
                        wide_distances(kernel, &[x], &mut WideScratch::default(), &mut d1);
                        wide_distances(kernel, &[y], &mut WideScratch::default(), &mut d2);
                        prop_assert_eq!(d1, d2);
                    }
                }
                (x, y) => prop_assert_eq!(x, y),
            }
        }

        #[test]
        fn lanes_match_scalar_on_token_ids(
            pairs in proptest::collection::vec(
                (proptest::collection::vec(prop_oneof![0i64..8, 60_000i64..70_000, (1i64 << 40)..(1i64 << 40) + 3, -5i64..0], 0..70),
                 proptest::collection::vec(prop_oneof![0i64..8, 60_000i64..70_000, (1i64 << 40)..(1i64 << 40) + 3, -5i64..0], 0..70)),
                0..20),
        ) {
            // Ids above 2^16 and 2^20 (hash-map renaming) and negative ones.
            check_batch(&pairs);
        }
    }
}
