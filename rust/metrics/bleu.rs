//! `bleu`: sacrebleu's sentence BLEU (`sacrebleu.sentence_bleu`, 0-100 scale, effective order),
//! and the per-row sufficient statistics from which corpus BLEU (`sacrebleu.corpus_bleu`) is
//! computed. The tokenizers re-implement sacrebleu's `13a`, `intl`, `char` and `none` from their
//! published definitions (regular expressions applied as Python's `re.sub` scans: left to right,
//! non-overlapping).

use std::ops::Range;
use std::sync::LazyLock;

use arrow_array::types::Float64Type;
use arrow_array::{ArrayRef, Float64Array, StructArray};
use arrow_buffer::NullBuffer;
use arrow_schema::{DataType, Field, Fields};
use regex::Regex;

use super::ngrams::{Interner, NgramTable};
use super::pairs::{over_sequence_pairs, PairColumns, SequencePairs};
use super::{primitive_array, RowScores};

use crate::error::{RescoreError, RescoreResult};
use crate::parallel::{map_rows, OnError, Workers};
use crate::text::{is_ascii_python_space, is_python_space, python_lower_into, python_split};

/// BLEU's n-gram orders.
pub const MAX_NGRAM_ORDER: usize = 4;
/// Statistics per row: hypothesis length, closest reference length, matches per order,
/// n-grams per order (sacrebleu's order).
pub const BLEU_STATISTICS: usize = 2 + 2 * MAX_NGRAM_ORDER;
/// Names of the statistics, in order.
pub const BLEU_FIELDS: [&str; BLEU_STATISTICS] = [
    "hyp_len",
    "ref_len",
    "matches_1",
    "matches_2",
    "matches_3",
    "matches_4",
    "totals_1",
    "totals_2",
    "totals_3",
    "totals_4",
];

/// sacrebleu's tokenizers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BleuTokenizer {
    /// mteval-v13a (WMT's default).
    Thirteen,
    /// mteval-v14 international: Unicode punctuation and symbols.
    International,
    /// Every character a token.
    Characters,
    /// Whitespace only.
    None,
}

impl BleuTokenizer {
    /// Parse the Python option.
    pub fn parse(name: &str) -> RescoreResult<Self> {
        match name {
            "13a" => Ok(Self::Thirteen),
            "intl" => Ok(Self::International),
            "char" => Ok(Self::Characters),
            "none" => Ok(Self::None),
            other => Err(RescoreError::InvalidOption {
                option: "tokenize",
                message: format!("got {other:?}, expected \"13a\", \"intl\", \"char\" or \"none\""),
            }),
        }
    }
}

/// sacrebleu's smoothing methods (Chen and Cherry 2014), with its default values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Smoothing {
    /// NIST geometric sequence (method 3).
    Exp,
    /// Zero matches count as 0.1 (method 1).
    Floor,
    /// One added to matches and totals from order 2 on (method 2).
    AddK,
    /// No smoothing.
    None,
}

impl Smoothing {
    /// Parse the Python option.
    pub fn parse(name: &str) -> RescoreResult<Self> {
        match name {
            "exp" => Ok(Self::Exp),
            "floor" => Ok(Self::Floor),
            "add-k" => Ok(Self::AddK),
            "none" => Ok(Self::None),
            other => Err(RescoreError::InvalidOption {
                option: "smooth_method",
                message: format!(
                    "got {other:?}, expected \"exp\", \"floor\", \"add-k\" or \"none\""
                ),
            }),
        }
    }
}

/// The options of `sacrebleu.sentence_bleu` rescore exposes.
#[derive(Debug, Clone, Copy)]
pub struct BleuOptions {
    /// Tokenizer.
    pub tokenize: BleuTokenizer,
    /// Smoothing.
    pub smooth: Smoothing,
    /// Lower-case both sides first (Python's `str.lower`).
    pub lowercase: bool,
    /// Threads.
    pub workers: Workers,
    /// Rows that cannot be scored: raise or null.
    pub on_error: OnError,
}

impl Default for BleuOptions {
    fn default() -> Self {
        Self {
            tokenize: BleuTokenizer::Thirteen,
            smooth: Smoothing::Exp,
            lowercase: false,
            workers: Workers::All,
            on_error: OnError::Raise,
        }
    }
}

/// Per-thread buffers.
#[derive(Default)]
struct Scratch {
    lowered: String,
    a: String,
    b: String,
    /// All sequences' tokens, back to back, and their spans.
    tokens: Tokens,
    /// Token count per sequence.
    lengths: Vec<usize>,
    ids: Vec<u32>,
    interner: Interner,
    table: NgramTable,
}

/// Tokens, their bytes back to back.
#[derive(Default)]
struct Tokens {
    text: Vec<u8>,
    spans: Vec<Range<usize>>,
}

impl Tokens {
    fn push(&mut self, token: &[u8]) {
        let start = self.text.len();
        self.text.extend_from_slice(token);
        self.spans.push(start..self.text.len());
    }

    fn push_words(&mut self, line: &str) {
        for w in python_split(line) {
            self.push(w.as_bytes());
        }
    }
}

/// `sacrebleu`'s `_preprocess_segment`: lower case (optional), `rstrip()`, tokenize; appends
/// the tokens to `s.tokens` and returns how many.
fn tokenize_into(line: &str, options: &BleuOptions, s: &mut Scratch) -> usize {
    let Scratch {
        lowered,
        a,
        b,
        tokens,
        ..
    } = s;
    let line = if options.lowercase {
        python_lower_into(line, lowered)
    } else {
        line
    };
    let line = line.trim_end_matches(is_python_space);
    let before = tokens.spans.len();
    match options.tokenize {
        BleuTokenizer::None => tokens.push_words(line),
        BleuTokenizer::Characters => {
            let mut buf = [0u8; 4];
            for c in line.chars().filter(|&c| !is_python_space(c)) {
                tokens.push(c.encode_utf8(&mut buf).as_bytes());
            }
        }
        BleuTokenizer::Thirteen => thirteen_a(line, a, b, tokens),
        BleuTokenizer::International => {
            international(line, a, b);
            tokens.push_words(a);
        }
    }
    tokens.spans.len() - before
}

/// `re.sub(pattern, repl, text)` for a pattern of two single-character classes: `first` then
/// `second`; `suffix` gives `\1 \2 `, otherwise ` \1 \2`.
fn pair_rule(
    input: &str,
    out: &mut String,
    first: impl Fn(char) -> bool,
    second: impl Fn(char) -> bool,
    suffix: bool,
) {
    out.clear();
    let mut chars = input.chars().peekable();
    while let Some(a) = chars.next() {
        if first(a) {
            if let Some(&b) = chars.peek() {
                if second(b) {
                    chars.next();
                    if suffix {
                        out.extend([a, ' ', b, ' ']);
                    } else {
                        out.extend([' ', a, ' ', b]);
                    }
                    continue;
                }
            }
        }
        out.push(a);
    }
}

/// `re.sub(pattern, r" \1 ", text)` for a one-character class.
fn spaced(input: &str, out: &mut String, class: impl Fn(char) -> bool) {
    out.clear();
    for c in input.chars() {
        if class(c) {
            out.extend([' ', c, ' ']);
        } else {
            out.push(c);
        }
    }
}

/// The characters `13a`'s first rule puts spaces around: `[\{-\~\[-\` -\&\(-\+\:-\@\/]`.
fn is_13a_symbol(c: u8) -> bool {
    matches!(c, b'{'..=b'~' | b'['..=b'`' | b' '..=b'&' | b'('..=b'+' | b':'..=b'@' | b'/')
}

/// sacrebleu's `Tokenizer13a` then `TokenizerRegexp`, then `split()`: the tokens into `out`
/// (`a` and `b` are scratch).
///
/// A line with none of `.`, `,`, `-` (and nothing the first step replaces) only meets the first
/// rule, which makes each of its symbols a token of its own: it is split in one pass. Other
/// lines go through the rules one after the other, skipping a rule whose characters are absent.
fn thirteen_a(line: &str, a: &mut String, b: &mut String, out: &mut Tokens) {
    let bytes = line.as_bytes();
    let (mut period_comma, mut dash, mut replace) = (false, false, false);
    for &c in bytes {
        match c {
            b'.' | b',' => period_comma = true,
            b'-' => dash = true,
            b'\n' | b'&' | b'<' => replace = true,
            _ => {}
        }
    }
    if !(period_comma || dash || replace) {
        let mut start = None;
        let mut at = 0;
        while at < bytes.len() {
            let c = bytes[at];
            let (word, width) = if c.is_ascii() {
                if is_13a_symbol(c) && !is_ascii_python_space(c) {
                    if let Some(s) = start.take() {
                        out.push(&bytes[s..at]);
                    }
                    out.push(&bytes[at..=at]);
                    at += 1;
                    continue;
                }
                (!is_ascii_python_space(c), 1)
            } else {
                // `at` steps over whole characters: it is on a boundary
                let ch = line[at..].chars().next().unwrap_or(' ');
                (!is_python_space(ch), ch.len_utf8())
            };
            if word {
                start.get_or_insert(at);
            } else if let Some(s) = start.take() {
                out.push(&bytes[s..at]);
            }
            at += width;
        }
        if let Some(s) = start {
            out.push(&bytes[s..]);
        }
        return;
    }
    b.clear();
    b.push(' ');
    if replace {
        let mut text = line
            .replace("<skipped>", "")
            .replace("-\n", "")
            .replace('\n', " ");
        if text.contains('&') {
            text = text
                .replace("&quot;", "\"")
                .replace("&amp;", "&")
                .replace("&lt;", "<")
                .replace("&gt;", ">");
        }
        period_comma = text.contains(['.', ',']);
        dash = text.contains('-');
        b.push_str(&text);
    } else {
        b.push_str(line);
    }
    b.push(' ');
    // The four rules read ASCII classes only, so they run on bytes: a multi-byte character
    // never starts a match, and a match at its last byte (`[^0-9]` before `.`) or before its
    // first (`.` before `[^0-9]`) inserts the spaces where Python's character scan does.
    let mut x = std::mem::take(b).into_bytes();
    let mut y = std::mem::take(a).into_bytes();
    // [\{-\~\[-\` -\&\(-\+\:-\@\/] ->  \1
    y.clear();
    for &c in &x {
        if is_13a_symbol(c) {
            y.extend([b' ', c, b' ']);
        } else {
            y.push(c);
        }
    }
    let digit = |c: u8| c.is_ascii_digit();
    let period_or_comma = |c: u8| c == b'.' || c == b',';
    if period_comma {
        pair_rule_bytes(&y, &mut x, |c| !digit(c), period_or_comma, true); // ([^0-9])([\.,])
        pair_rule_bytes(&x, &mut y, period_or_comma, |c| !digit(c), false); // ([\.,])([^0-9])
    }
    if dash {
        pair_rule_bytes(&y, &mut x, digit, |c| c == b'-', true); // ([0-9])(-)
        std::mem::swap(&mut x, &mut y);
    }
    // Spaces went in at character boundaries only: still UTF-8.
    *a = String::from_utf8(y).unwrap_or_default();
    out.push_words(a);
    x.clear();
    *b = String::from_utf8(x).unwrap_or_default();
}

/// [`pair_rule`] on bytes, for classes of ASCII bytes.
fn pair_rule_bytes(
    input: &[u8],
    out: &mut Vec<u8>,
    first: impl Fn(u8) -> bool,
    second: impl Fn(u8) -> bool,
    suffix: bool,
) {
    out.clear();
    let mut i = 0;
    while i < input.len() {
        let a = input[i];
        if i + 1 < input.len() && first(a) && second(input[i + 1]) {
            let b = input[i + 1];
            if suffix {
                out.extend([a, b' ', b, b' ']);
            } else {
                out.extend([b' ', a, b' ', b]);
            }
            i += 2;
            continue;
        }
        out.push(a);
        i += 1;
    }
}

/// Unicode general categories the `intl` tokenizer reads.
#[derive(Clone, Copy)]
struct Category {
    punctuation: bool,
    symbol: bool,
    number: bool,
}

fn category(c: char) -> Category {
    static P: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\p{P}$").expect("valid"));
    static S: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\p{S}$").expect("valid"));
    static N: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\p{N}$").expect("valid"));
    static ASCII: LazyLock<Vec<Category>> = LazyLock::new(|| {
        (0u8..128)
            .map(|b| slow_category(char::from(b), &P, &S, &N))
            .collect()
    });
    if c.is_ascii() {
        return ASCII[c as usize];
    }
    slow_category(c, &P, &S, &N)
}

fn slow_category(c: char, p: &Regex, s: &Regex, n: &Regex) -> Category {
    let mut buf = [0u8; 4];
    let text = c.encode_utf8(&mut buf);
    Category {
        punctuation: p.is_match(text),
        symbol: s.is_match(text),
        number: n.is_match(text),
    }
}

/// sacrebleu's `TokenizerV14International`; the result (before splitting) in `a`.
fn international(line: &str, a: &mut String, b: &mut String) {
    pair_rule(
        line,
        a,
        |c| !category(c).number,
        |c| category(c).punctuation,
        true,
    ); // (\P{N})(\p{P}) -> \1 \2
    pair_rule(
        a,
        b,
        |c| category(c).punctuation,
        |c| !category(c).number,
        false,
    ); // (\p{P})(\P{N}) ->  \1 \2
    spaced(b, a, |c| category(c).symbol); // (\p{S}) ->  \1
}

/// sacrebleu's `_get_closest_ref_len`: the reference length closest to `hyp`, the shorter on ties.
fn closest_reference_length(hyp: usize, references: &[usize]) -> usize {
    let mut best: Option<(usize, usize)> = None;
    for &r in references {
        let diff = hyp.abs_diff(r);
        best = match best {
            Some((d, l)) if d < diff || (d == diff && l <= r) => Some((d, l)),
            _ => Some((diff, r)),
        };
    }
    best.map_or(0, |(_, l)| l)
}

/// Fill `out` from the tokens already in `s` (sequence 0 the hypothesis).
fn statistics_from_tokens(s: &mut Scratch, out: &mut [f64]) {
    let Scratch {
        ids,
        lengths,
        table,
        tokens,
        interner,
        ..
    } = s;
    interner.intern(&tokens.text, &tokens.spans, ids);
    table.clear(MAX_NGRAM_ORDER);
    let mut at = 0;
    for &len in lengths.iter() {
        table.push(ids[at..at + len].iter().copied());
        at += len;
    }
    let hyp_len = lengths[0];
    out[0] = hyp_len as f64;
    out[1] = closest_reference_length(hyp_len, &lengths[1..]) as f64;
    for n in 0..MAX_NGRAM_ORDER {
        table.next_order();
        out[2 + n] = table.matches_max_over_references() as f64;
        out[2 + MAX_NGRAM_ORDER + n] = table.total(0) as f64;
    }
}

/// sacrebleu's `BLEU.compute_bleu` from (summed) statistics, on the 0-100 scale.
pub fn bleu_from_statistics(stats: &[f64], smooth: Smoothing, effective_order: bool) -> f64 {
    let (sys_len, ref_len) = (stats[0], stats[1]);
    let mut correct = [0.0; MAX_NGRAM_ORDER];
    let mut total = [0.0; MAX_NGRAM_ORDER];
    correct.copy_from_slice(&stats[2..2 + MAX_NGRAM_ORDER]);
    total.copy_from_slice(&stats[2 + MAX_NGRAM_ORDER..BLEU_STATISTICS]);
    let mut bp = 1.0;
    if sys_len < ref_len {
        bp = if sys_len > 0.0 {
            (1.0 - ref_len / sys_len).exp()
        } else {
            0.0
        };
    }
    if correct.iter().all(|&c| c == 0.0) {
        return 0.0;
    }
    let mut precisions = [0.0; MAX_NGRAM_ORDER];
    let mut smooth_mteval = 1.0;
    let mut eff_order = MAX_NGRAM_ORDER;
    for n in 1..=MAX_NGRAM_ORDER {
        if smooth == Smoothing::AddK && n > 1 {
            correct[n - 1] += 1.0;
            total[n - 1] += 1.0;
        }
        if total[n - 1] == 0.0 {
            break;
        }
        if effective_order {
            eff_order = n;
        }
        if correct[n - 1] == 0.0 {
            match smooth {
                Smoothing::Exp => {
                    smooth_mteval *= 2.0;
                    precisions[n - 1] = 100.0 / (smooth_mteval * total[n - 1]);
                }
                Smoothing::Floor => precisions[n - 1] = 100.0 * 0.1 / total[n - 1],
                Smoothing::AddK | Smoothing::None => {}
            }
        } else {
            precisions[n - 1] = 100.0 * correct[n - 1] / total[n - 1];
        }
    }
    // sacrebleu's my_log floors log(0) at -9999999999; Python's sum() adds left to right
    let log_sum = precisions[..eff_order]
        .iter()
        .map(|&p| if p == 0.0 { -9_999_999_999.0 } else { p.ln() })
        .fold(0.0, |acc, x| acc + x);
    bp * (log_sum / eff_order as f64).exp()
}

/// Run `row` over the rows, with the row's tokens in the scratch (hypothesis first); `None` for
/// a null row (null prediction, or no reference).
fn over_rows<T, F>(
    predictions: &[ArrayRef],
    references: &[ArrayRef],
    options: &BleuOptions,
    per_piece: F,
) -> RescoreResult<RowScores<T>>
where
    T: Copy + Default,
    F: Fn(
        &SequencePairs<'_>,
        &(dyn Fn(&mut Scratch, usize) -> bool + Sync),
    ) -> RescoreResult<RowScores<T>>,
{
    over_sequence_pairs(predictions, references, |pairs| {
        let PairColumns::Text {
            predictions: preds,
            references: refs,
        } = pairs.columns()
        else {
            return Err(RescoreError::UnsupportedType {
                argument: "predictions",
                dtype: "list of token ids".into(),
                expected: "strings (utf8, large_utf8, utf8_view): BLEU tokenizes text",
            });
        };
        let load = |s: &mut Scratch, row: usize| -> bool {
            let Some(positions) = pairs.references(row) else {
                return false;
            };
            s.tokens.text.clear();
            s.tokens.spans.clear();
            s.lengths.clear();
            let n = tokenize_into(preds.value(row), options, s);
            s.lengths.push(n);
            for j in positions {
                let n = tokenize_into(refs.value(j), options, s);
                s.lengths.push(n);
            }
            s.lengths.len() > 1
        };
        per_piece(pairs, &load)
    })
}

/// Sentence BLEU per row (sacrebleu's `sentence_bleu`: effective order), 0-100.
pub fn bleu(
    predictions: &[ArrayRef],
    references: &[ArrayRef],
    options: &BleuOptions,
) -> RescoreResult<ArrayRef> {
    let scores = over_rows(predictions, references, options, |pairs, load| {
        map_rows(
            pairs.len(),
            options.workers,
            options.on_error,
            |s: &mut Scratch, row| {
                if !load(s, row) {
                    return Ok(None);
                }
                let mut stats = [0.0; BLEU_STATISTICS];
                statistics_from_tokens(s, &mut stats);
                Ok(Some(bleu_from_statistics(&stats, options.smooth, true)))
            },
        )
    })?;
    Ok(primitive_array::<Float64Type>(scores))
}

/// BLEU's sufficient statistics per row ([`BLEU_FIELDS`], `Float64`), null where the row is:
/// summed over rows and given to [`bleu_from_statistics`] (without effective order), they give
/// sacrebleu's `corpus_bleu`.
pub fn bleu_statistics(
    predictions: &[ArrayRef],
    references: &[ArrayRef],
    options: &BleuOptions,
) -> RescoreResult<ArrayRef> {
    let (values, valid) = over_rows(predictions, references, options, |pairs, load| {
        map_rows(
            pairs.len(),
            options.workers,
            options.on_error,
            |s: &mut Scratch, row| {
                if !load(s, row) {
                    return Ok(None);
                }
                let mut stats = [0.0; BLEU_STATISTICS];
                statistics_from_tokens(s, &mut stats);
                Ok(Some(stats))
            },
        )
    })?;
    let names = BLEU_FIELDS.map(String::from);
    Ok(struct_of_rows(&names, values.len(), &valid, |f, r| {
        values[r][f]
    }))
}

/// A struct array of `Float64` fields from per-row values, nulls on the struct and its fields.
pub(crate) fn struct_of_rows(
    names: &[String],
    rows: usize,
    valid: &[bool],
    value: impl Fn(usize, usize) -> f64,
) -> ArrayRef {
    let nulls = NullBuffer::from(valid.to_vec());
    let nulls = (nulls.null_count() > 0).then_some(nulls);
    let fields: Fields = names
        .iter()
        .map(|n| Field::new(n, DataType::Float64, true))
        .collect();
    let columns: Vec<ArrayRef> = (0..names.len())
        .map(|f| {
            let values: Vec<f64> = (0..rows).map(|r| value(f, r)).collect();
            std::sync::Arc::new(Float64Array::new(values.into(), nulls.clone())) as ArrayRef
        })
        .collect();
    std::sync::Arc::new(StructArray::new(fields, columns, nulls))
}
