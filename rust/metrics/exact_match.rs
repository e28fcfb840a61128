//! `exact_match`: whether the prediction equals a reference after optional normalisation, in the
//! order lm-eval-harness and HF `evaluate` apply it: regexes removed, then case folded, then
//! punctuation removed, then digits removed; then, as SQuAD's and HELM's `normalize_answer`,
//! the articles a/an/the replaced by a space and whitespace collapsed; `strip` (ours) trims
//! whitespace last. HELM's quasi exact match is case, punctuation, articles and whitespace, and
//! an empty prediction never matches (`if not pred: return 0`).

use std::borrow::Cow;

use arrow_array::ArrayRef;
use regex::Regex;

use super::pairs::{over_sequence_pairs, PairColumns, SequencePairs};
use super::{boolean_array, RowScores};
use crate::columns::StrColumn;
use crate::error::{RescoreError, RescoreResult};
use crate::parallel::{map_rows, OnError, Workers};
use crate::text::{collapse_whitespace, is_ascii_python_space, python_strip, replace_articles};

/// Which characters `ignore_punctuation` deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Punctuation {
    /// Python's `string.punctuation`: the 32 ASCII punctuation characters (lm-eval, HF evaluate).
    Ascii,
    /// Every character in the Unicode general categories P* (punctuation) and S* (symbols): a
    /// superset of the ASCII set, for text with «guillemets», “curly quotes”, 。or ¿.
    Unicode,
}

impl Punctuation {
    /// Parse the Python option.
    pub fn parse(name: &str) -> RescoreResult<Self> {
        match name {
            "ascii" => Ok(Self::Ascii),
            "unicode" => Ok(Self::Unicode),
            other => Err(RescoreError::InvalidOption {
                option: "punctuation",
                message: format!("got {other:?}, expected \"ascii\" or \"unicode\""),
            }),
        }
    }
}

/// The normalisation options, as the user states them.
#[derive(Debug, Clone)]
pub struct ExactMatchOptions {
    /// Trim leading and trailing whitespace as Python's `str.strip()` (applied last).
    pub strip: bool,
    /// Compare lower-cased text (Unicode lower case, as Python's `str.lower`).
    pub ignore_case: bool,
    /// Delete punctuation (see [`Punctuation`]).
    pub ignore_punctuation: bool,
    /// Delete ASCII digits 0-9 (Python's `string.digits`).
    pub ignore_numbers: bool,
    /// Replace the words a, an, the (maximal runs of Python word characters) by a space, as
    /// `re.sub(r"\b(a|an|the)\b", " ", text)`.
    pub ignore_articles: bool,
    /// Words separated by one space, none at either end (`" ".join(text.split())`).
    pub collapse_whitespace: bool,
    /// An empty prediction (before normalisation) is false whatever the references (HELM's
    /// quasi exact match).
    pub empty_prediction_fails: bool,
    /// Regular expressions whose matches are deleted first, in order (Rust `regex` syntax:
    /// Python's, less look-around and back-references).
    pub regexes_to_ignore: Vec<String>,
    /// Punctuation set.
    pub punctuation: Punctuation,
    /// Threads.
    pub workers: Workers,
    /// Rows that cannot be scored: raise or null.
    pub on_error: OnError,
}

impl Default for ExactMatchOptions {
    fn default() -> Self {
        Self {
            strip: false,
            ignore_case: false,
            ignore_punctuation: false,
            ignore_numbers: false,
            ignore_articles: false,
            collapse_whitespace: false,
            empty_prediction_fails: false,
            regexes_to_ignore: Vec::new(),
            punctuation: Punctuation::Ascii,
            workers: Workers::All,
            on_error: OnError::Raise,
        }
    }
}

/// Compiled normalisation.
#[derive(Debug)]
pub struct Normalizer {
    regexes: Vec<Regex>,
    unicode_punctuation: Option<Regex>,
    options: ExactMatchOptions,
    /// Each ASCII byte after case folding, and what the options make of it.
    ascii: [(u8, AsciiClass); 128],
}

/// The role of an ASCII byte in [`Normalizer::apply_ascii`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AsciiClass {
    /// Deleted (punctuation or digit, as asked).
    Drop,
    /// A word character of Python's `re` (`[A-Za-z0-9_]`).
    Word,
    /// Whitespace, when whitespace is collapsed.
    Space,
    /// Anything else: kept as it is.
    Other,
}

impl Normalizer {
    /// Compile the options, rejecting a regex that does not compile.
    #[allow(clippy::missing_panics_doc)] // the one `expect` is on a fixed, valid pattern
    pub fn new(options: &ExactMatchOptions) -> RescoreResult<Self> {
        let regexes = options
            .regexes_to_ignore
            .iter()
            .enumerate()
            .map(|(index, pattern)| {
                Regex::new(pattern).map_err(|e| RescoreError::InvalidRegex {
                    index,
                    pattern: pattern.clone(),
                    message: e.to_string(),
                })
            })
            .collect::<RescoreResult<Vec<_>>>()?;
        let unicode_punctuation = (options.ignore_punctuation
            && options.punctuation == Punctuation::Unicode)
            // A fixed, valid pattern: this cannot fail.
            .then(|| Regex::new(r"[\p{P}\p{S}]").expect("static pattern compiles"));
        let o = options;
        let ascii = std::array::from_fn(|b| {
            let b = b as u8;
            let b = if o.ignore_case {
                b.to_ascii_lowercase()
            } else {
                b
            };
            let class = if (o.ignore_punctuation && b.is_ascii_punctuation())
                || (o.ignore_numbers && b.is_ascii_digit())
            {
                AsciiClass::Drop
            } else if b.is_ascii_alphanumeric() || b == b'_' {
                AsciiClass::Word
            } else if o.collapse_whitespace && is_ascii_python_space(b) {
                AsciiClass::Space
            } else {
                AsciiClass::Other
            };
            (b, class)
        });
        Ok(Self {
            regexes,
            unicode_punctuation,
            options: options.clone(),
            ascii,
        })
    }

    /// Whether any normalisation is on (if not, strings are compared as they are).
    pub fn is_identity(&self) -> bool {
        let o = &self.options;
        !(o.strip
            || o.ignore_case
            || o.ignore_punctuation
            || o.ignore_numbers
            || o.ignore_articles
            || o.collapse_whitespace)
            && self.regexes.is_empty()
    }

    /// The normalised bytes of `text`, in `out` (reused): an ASCII string without regexes in one
    /// pass over its bytes ([`Self::apply_ascii`]), others by [`Self::apply`].
    pub fn apply_into(&self, text: &str, out: &mut Vec<u8>) {
        self.equals_after(text, out, None);
    }

    /// Whether `text` normalises to `target`, its normalised bytes (or their first bytes) in
    /// `out`: an ASCII text stops as soon as what is written can no longer be `target`'s start.
    pub fn equals(&self, text: &str, out: &mut Vec<u8>, target: &[u8]) -> bool {
        self.equals_after(text, out, Some(target)) && out.as_slice() == target
    }

    /// [`Self::apply_into`], stopped early (false) when `target` is given and cannot be reached.
    fn equals_after(&self, text: &str, out: &mut Vec<u8>, target: Option<&[u8]>) -> bool {
        out.clear();
        if self.regexes.is_empty() && text.is_ascii() {
            self.apply_ascii(text.as_bytes(), out, target)
        } else {
            out.extend_from_slice(self.apply(text).as_bytes());
            true
        }
    }

    /// [`Self::apply`] on ASCII text, fused into one pass: every step reads ASCII classes only
    /// (for ASCII, Unicode punctuation and symbols are exactly `string.punctuation`), a word run
    /// is decided when it ends, and collapsed whitespace is written only before the next word.
    ///
    /// With a `target`, returns false as soon as the bytes already final (all of `out` at a
    /// space, outside a word run) are not the start of `target`. Final, because an article only
    /// takes back its own run. Spaces are a class of their own only when whitespace is
    /// collapsed, so only then is there a check (and then `strip` has nothing left to trim).
    fn apply_ascii(&self, text: &[u8], out: &mut Vec<u8>, target: Option<&[u8]>) -> bool {
        let o = &self.options;
        // out[..checked] is known to start `target`
        let mut checked = 0;
        // where the current run of word characters began in `out` (before its separator)
        let mut run: Option<usize> = None;
        // collapse: a space is owed before the next non-space
        let mut owed = false;
        let close_run = |out: &mut Vec<u8>, run: &mut Option<usize>, owed: &mut bool| {
            let Some(start) = run.take() else { return };
            if o.ignore_articles {
                let word = &out[start..];
                let word = if o.collapse_whitespace && word.first() == Some(&b' ') {
                    &word[1..]
                } else {
                    word
                };
                if matches!(word, b"a" | b"an" | b"the") {
                    // re.sub(..., " ", ...): the article becomes a space
                    out.truncate(start);
                    if o.collapse_whitespace {
                        *owed = true;
                    } else {
                        out.push(b' ');
                    }
                }
            }
        };
        out.reserve(text.len());
        let mut at = 0;
        while at < text.len() {
            // `text` is ASCII: every byte indexes the table
            let (b, class) = self.ascii[usize::from(text[at])];
            match class {
                AsciiClass::Drop => at += 1,
                AsciiClass::Word => {
                    if run.is_none() {
                        run = Some(out.len());
                        if owed && !out.is_empty() {
                            out.push(b' ');
                        }
                        owed = false;
                    }
                    // the run goes on over word characters and deleted ones
                    while at < text.len() {
                        let (b, class) = self.ascii[usize::from(text[at])];
                        match class {
                            AsciiClass::Word => out.push(b),
                            AsciiClass::Drop => {}
                            AsciiClass::Space | AsciiClass::Other => break,
                        }
                        at += 1;
                    }
                }
                AsciiClass::Space => {
                    close_run(out, &mut run, &mut owed);
                    owed = true;
                    at += 1;
                    if let Some(target) = target {
                        if target.get(checked..out.len()) != Some(&out[checked..]) {
                            return false;
                        }
                        checked = out.len();
                    }
                }
                AsciiClass::Other => {
                    close_run(out, &mut run, &mut owed);
                    if owed && !out.is_empty() {
                        out.push(b' ');
                    }
                    owed = false;
                    out.push(b);
                    at += 1;
                }
            }
        }
        close_run(out, &mut run, &mut owed);
        if o.strip && !o.collapse_whitespace {
            let end = out
                .iter()
                .rposition(|&b| !is_ascii_python_space(b))
                .map_or(0, |i| i + 1);
            out.truncate(end);
            let start = out
                .iter()
                .position(|&b| !is_ascii_python_space(b))
                .unwrap_or(out.len());
            out.drain(..start);
        }
        true
    }

    /// Apply the normalisation to one string.
    pub fn apply<'s>(&self, text: &'s str) -> Cow<'s, str> {
        let mut s = Cow::Borrowed(text);
        for re in &self.regexes {
            if let Cow::Owned(replaced) = re.replace_all(&s, "") {
                s = Cow::Owned(replaced);
            }
        }
        let o = &self.options;
        if o.ignore_case && s.chars().any(|c| c.to_lowercase().ne(std::iter::once(c))) {
            s = Cow::Owned(s.to_lowercase());
        }
        if o.ignore_punctuation {
            s = match &self.unicode_punctuation {
                Some(re) => match re.replace_all(&s, "") {
                    Cow::Owned(t) => Cow::Owned(t),
                    Cow::Borrowed(_) => s,
                },
                None if s.chars().any(|c| c.is_ascii_punctuation()) => {
                    Cow::Owned(s.chars().filter(|c| !c.is_ascii_punctuation()).collect())
                }
                None => s,
            };
        }
        if o.ignore_numbers && s.bytes().any(|b| b.is_ascii_digit()) {
            s = Cow::Owned(s.chars().filter(|c| !c.is_ascii_digit()).collect());
        }
        if o.ignore_articles {
            if let Cow::Owned(t) = replace_articles(&s) {
                s = Cow::Owned(t);
            }
        }
        if o.collapse_whitespace {
            s = Cow::Owned(collapse_whitespace(&s));
        }
        if o.strip {
            s = match s {
                Cow::Borrowed(b) => Cow::Borrowed(python_strip(b)),
                Cow::Owned(o) => Cow::Owned(python_strip(&o).to_owned()),
            };
        }
        s
    }
}

/// Exact match per row: strings after normalisation, or token-id lists element by element (where
/// no normalisation applies). With a list of references per row, true if any matches.
pub fn exact_match(
    predictions: &[ArrayRef],
    references: &[ArrayRef],
    options: &ExactMatchOptions,
) -> RescoreResult<ArrayRef> {
    let normalizer = Normalizer::new(options)?;
    let scores = over_sequence_pairs(predictions, references, |pairs| {
        score_piece(pairs, &normalizer)
    })?;
    Ok(boolean_array(scores))
}

fn score_piece(
    pairs: &SequencePairs<'_>,
    normalizer: &Normalizer,
) -> RescoreResult<RowScores<bool>> {
    let (workers, on_error) = (normalizer.options.workers, normalizer.options.on_error);
    match pairs.columns() {
        PairColumns::Text {
            predictions,
            references,
        } => map_rows(pairs.len(), workers, on_error, |s: &mut Buffers, row| {
            Ok(text_row(pairs, predictions, references, row, normalizer, s))
        }),
        PairColumns::Tokens {
            predictions,
            references,
        } => {
            if !normalizer.is_identity() {
                return Err(RescoreError::InvalidOption {
                    option: "normalisation",
                    message: "text normalisations do not apply to token-id lists; compare ids as they are".into(),
                });
            }
            map_rows(
                pairs.len(),
                workers,
                on_error,
                |(pred, reference): &mut (Vec<i64>, Vec<i64>), row| {
                    let Some(positions) = pairs.references(row) else {
                        return Ok(None);
                    };
                    predictions.read(row, row, pred)?;
                    let mut any_reference = false;
                    for j in positions {
                        any_reference = true;
                        references.read(j, row, reference)?;
                        if pred == reference {
                            return Ok(Some(true));
                        }
                    }
                    Ok(any_reference.then_some(false))
                },
            )
        }
    }
}

/// Normalised prediction and reference, reused per row.
type Buffers = (Vec<u8>, Vec<u8>);

fn text_row(
    pairs: &SequencePairs<'_>,
    predictions: StrColumn<'_>,
    references: StrColumn<'_>,
    row: usize,
    n: &Normalizer,
    (pred, reference): &mut Buffers,
) -> Option<bool> {
    let positions = pairs.references(row)?;
    let raw = predictions.value(row);
    if n.options.empty_prediction_fails && raw.is_empty() {
        let mut positions = positions;
        return positions.next().map(|_| false);
    }
    let identity = n.is_identity();
    if !identity {
        n.apply_into(raw, pred);
    }
    let mut any_reference = false;
    for j in positions {
        any_reference = true;
        let equal = if identity {
            references.value(j) == raw
        } else {
            n.equals(references.value(j), reference, pred)
        };
        if equal {
            return Some(true);
        }
    }
    any_reference.then_some(false)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::cast::AsArray;
    use arrow_array::StringArray;

    use super::*;

    fn run(p: &[&str], r: &[&str], o: &ExactMatchOptions) -> Vec<bool> {
        let p: ArrayRef = Arc::new(StringArray::from(p.to_vec()));
        let r: ArrayRef = Arc::new(StringArray::from(r.to_vec()));
        let out = exact_match(&[p], &[r], o).unwrap();
        out.as_boolean().iter().map(|v| v.unwrap()).collect()
    }

    #[test]
    fn lm_eval_order() {
        let o = ExactMatchOptions {
            ignore_case: true,
            ignore_punctuation: true,
            ignore_numbers: true,
            regexes_to_ignore: vec![r"^Answer:\s*".into(), "answer:".into()],
            ..Default::default()
        };
        // The regexes run before lower-casing: "Answer:" goes, "ANSWER:" survives as "answer".
        assert_eq!(
            run(
                &["Answer: Paris1.", "ANSWER: Paris"],
                &["paris", "paris"],
                &o
            ),
            vec![true, false]
        );
        assert_eq!(run(&["a b"], &["ab"], &o), vec![false]);
    }

    proptest::proptest! {
        /// The one-pass ASCII normalisation equals the step-by-step one, whatever the options.
        #[test]
        fn ascii_pass_equals_steps(
            text in "([aA]|[tT]he|an| |\\t|\\x1c|\\x01|[.,_$-]|[0-9]|x|[a-z]{1,4}){0,16}",
            other in "([aA]|[tT]he|an| |\\t|\\x01|[.,_-]|x|[a-z]{1,4}){0,16}",
            flags in 0u32..256,
        ) {
            let on = |bit: u32| flags & (1 << bit) != 0;
            let o = ExactMatchOptions {
                strip: on(0),
                ignore_case: on(1),
                ignore_punctuation: on(2),
                ignore_numbers: on(3),
                ignore_articles: on(4),
                collapse_whitespace: on(5),
                punctuation: if on(6) { Punctuation::Unicode } else { Punctuation::Ascii },
                ..Default::default()
            };
            let n = Normalizer::new(&o).unwrap();
            let mut out = Vec::new();
            n.apply_into(&text, &mut out);
            proptest::prop_assert_eq!(
                String::from_utf8(out).unwrap(),
                n.apply(&text).into_owned(),
                "{:?} {:?}",
                text,
                o
            );
            // the early-stopping comparison agrees with comparing whole normalised strings,
            // against another text's normal form, this text's own, and one that starts alike
            let mut out = Vec::new();
            let longer = format!("{text} {other}");
            let targets = [&other, &text, &longer].map(|t| n.apply(t).into_owned());
            for target in targets {
                proptest::prop_assert_eq!(
                    n.equals(&text, &mut out, target.as_bytes()),
                    n.apply(&text) == target,
                    "{:?} {:?} {:?}",
                    text,
                    target,
                    o
                );
            }
        }
    }

    #[test]
    fn strip_is_off_by_default() {
        let d = ExactMatchOptions::default();
        assert_eq!(run(&[" yes"], &["yes"], &d), vec![false]);
        let s = ExactMatchOptions {
            strip: true,
            ..Default::default()
        };
        assert_eq!(run(&[" yes\n"], &["yes"], &s), vec![true]);
    }

    #[test]
    fn unicode_punctuation_is_a_superset() {
        let ascii = ExactMatchOptions {
            ignore_punctuation: true,
            ..Default::default()
        };
        let uni = ExactMatchOptions {
            punctuation: Punctuation::Unicode,
            ..ascii.clone()
        };
        assert_eq!(
            run(&["«oui»", "a$b"], &["oui", "ab"], &ascii),
            vec![false, true]
        );
        assert_eq!(
            run(&["«oui»", "a$b"], &["oui", "ab"], &uni),
            vec![true, true]
        );
    }

    #[test]
    fn token_lists_nulls_and_several_references() {
        use arrow_array::builder::{Int64Builder, ListBuilder};
        let ids = |rows: &[Option<&[Option<i64>]>]| -> ArrayRef {
            let mut b = ListBuilder::new(Int64Builder::new());
            for row in rows {
                match row {
                    Some(r) => b.append_value(r.iter().copied()),
                    None => b.append_null(),
                }
            }
            Arc::new(b.finish())
        };
        let p = ids(&[Some(&[Some(1), Some(2)]), None, Some(&[])]);
        let r = ids(&[
            Some(&[Some(1), Some(2)]),
            Some(&[Some(1)]),
            Some(&[Some(3)]),
        ]);
        // Chunks cut differently on each side, one of them sliced at a non-zero offset.
        let out = exact_match(
            &[p.slice(0, 1), p.slice(1, 2)],
            &[r.slice(0, 2), r.slice(2, 1)],
            &ExactMatchOptions::default(),
        )
        .unwrap();
        let v: Vec<Option<bool>> = out.as_boolean().iter().collect();
        assert_eq!(v, vec![Some(true), None, Some(false)]);
        // A null id is an error naming the row (it used to compare as whatever the buffer held).
        let bad = ids(&[Some(&[Some(1)]), Some(&[Some(1), None])]);
        let zero = ids(&[Some(&[Some(1)]), Some(&[Some(1), Some(0)])]);
        let e = exact_match(&[bad], &[zero], &ExactMatchOptions::default()).unwrap_err();
        assert_eq!(
            e,
            RescoreError::NullElement {
                argument: "predictions",
                row: 1,
                position: 1
            }
        );
    }

    #[test]
    fn helm_quasi_exact_match() {
        let o = ExactMatchOptions {
            ignore_case: true,
            ignore_punctuation: true,
            ignore_articles: true,
            collapse_whitespace: true,
            empty_prediction_fails: true,
            ..Default::default()
        };
        assert_eq!(
            run(
                &["The  Eiffel tower!", "an", "", "the-end", "the\u{2014}end"],
                &["eiffel Tower", "", "", "end", "\u{2014}end"],
                &o
            ),
            vec![true, true, false, false, true]
        );
        let keep_articles = ExactMatchOptions {
            ignore_articles: false,
            ..o.clone()
        };
        assert_eq!(run(&["a cat"], &["cat"], &keep_articles), vec![false]);
        // Without collapsing, the article leaves its space behind.
        let articles_only = ExactMatchOptions {
            ignore_articles: true,
            ..Default::default()
        };
        assert_eq!(
            run(&["a cat", "a cat"], &["  cat", "cat"], &articles_only),
            vec![true, false]
        );
    }

    #[test]
    fn invalid_regex_names_it() {
        let o = ExactMatchOptions {
            regexes_to_ignore: vec!["ok".into(), "(".into()],
            ..Default::default()
        };
        assert!(matches!(
            Normalizer::new(&o),
            Err(RescoreError::InvalidRegex { index: 1, .. })
        ));
    }
}
