//! The Porter stemmer as NLTK's `PorterStemmer()` runs it by default (`mode=NLTK_EXTENSIONS`),
//! the stemmer `rouge-score` calls with `use_stemmer=True`.
//!
//! That mode is Porter's 1980 algorithm with the changes Martin Porter later endorsed and a few
//! more from NLTK's contributors: a table of irregular forms ("skies" -> "sky", "dying" ->
//! "die"), "ies"/"ied" on four-letter words ("dies" -> "die"), "y" -> "i" only after a consonant
//! that is not the whole stem ("says" -> "say"), "alli" -> "al" tried first and the result
//! stemmed again, "fulli" -> "ful", "logi" -> "log" measured with the "l", and a two-letter
//! vowel-consonant stem counting as *o. Written from the published algorithm and NLTK's
//! description of its deviations; `tests/test_rouge.py` compares it with NLTK word by word.
//!
//! Words are lower-case ASCII bytes (what `rouge-score`'s tokenizer produces); any byte other
//! than a, e, i, o, u and y counts as a consonant, as in NLTK.

/// Irregular forms NLTK maps directly, before any rule.
const IRREGULAR: [(&[u8], &[u8]); 16] = [
    (b"sky", b"sky"),
    (b"skies", b"sky"),
    (b"dying", b"die"),
    (b"lying", b"lie"),
    (b"tying", b"tie"),
    (b"news", b"news"),
    (b"innings", b"inning"),
    (b"inning", b"inning"),
    (b"outings", b"outing"),
    (b"outing", b"outing"),
    (b"cannings", b"canning"),
    (b"canning", b"canning"),
    (b"howe", b"howe"),
    (b"proceed", b"proceed"),
    (b"exceed", b"exceed"),
    (b"succeed", b"succeed"),
];

/// Stem `word` (lower-case ASCII) in place.
pub fn stem(word: &mut Vec<u8>) {
    if let Some((_, base)) = IRREGULAR.iter().find(|(form, _)| *form == word.as_slice()) {
        word.clear();
        word.extend_from_slice(base);
        return;
    }
    if word.len() <= 2 {
        return;
    }
    step1a(word);
    step1b(word);
    step1c(word);
    step2(word);
    step3(word);
    step4(word);
    step5a(word);
    step5b(word);
}

fn is_vowel(b: u8) -> bool {
    matches!(b, b'a' | b'e' | b'i' | b'o' | b'u')
}

/// Porter's consonant: not a vowel, and a `y` only when the letter before it is not a
/// consonant (or it starts the word). A run of `y`s alternates.
fn is_consonant(word: &[u8], i: usize) -> bool {
    if is_vowel(word[i]) {
        return false;
    }
    if word[i] != b'y' {
        return true;
    }
    let mut run = 0;
    let mut at = i;
    while at > 0 && word[at] == b'y' {
        run += 1;
        at -= 1;
    }
    // `word[at]` is the first letter before the run of y's, or the first letter of the word
    let base = !is_vowel(word[at]);
    base != (run % 2 == 1)
}

/// m: the number of vowel-run-then-consonant transitions (`[C](VC){m}[V]`).
fn measure(stem: &[u8]) -> usize {
    let mut m = 0;
    let mut previous_consonant = true;
    let mut previous_vowel = false;
    for (i, &b) in stem.iter().enumerate() {
        let consonant = if is_vowel(b) {
            false
        } else if b == b'y' {
            i == 0 || !previous_consonant
        } else {
            true
        };
        if consonant && previous_vowel {
            m += 1;
        }
        previous_vowel = !consonant;
        previous_consonant = consonant;
    }
    m
}

fn contains_vowel(stem: &[u8]) -> bool {
    (0..stem.len()).any(|i| !is_consonant(stem, i))
}

/// *d: ends with a double consonant.
fn ends_double_consonant(word: &[u8]) -> bool {
    let n = word.len();
    n >= 2 && word[n - 1] == word[n - 2] && is_consonant(word, n - 1)
}

/// *o: ends consonant-vowel-consonant, the last not w, x or y; NLTK also counts a two-letter
/// vowel-consonant word.
fn ends_cvc(word: &[u8]) -> bool {
    let n = word.len();
    (n >= 3
        && is_consonant(word, n - 3)
        && !is_consonant(word, n - 2)
        && is_consonant(word, n - 1)
        && !matches!(word[n - 1], b'w' | b'x' | b'y'))
        || (n == 2 && !is_consonant(word, 0) && is_consonant(word, 1))
}

fn replace_suffix(word: &mut Vec<u8>, suffix_len: usize, replacement: &[u8]) {
    word.truncate(word.len() - suffix_len);
    word.extend_from_slice(replacement);
}

/// The first rule whose suffix ends the word decides: the suffix is replaced when
/// `condition(word, suffix)` holds, else the word is left as it is and no later rule is tried.
fn first_rule(
    word: &mut Vec<u8>,
    rules: &[(&[u8], &[u8])],
    condition: impl Fn(&[u8], &[u8]) -> bool,
) {
    for (suffix, replacement) in rules {
        if word.ends_with(suffix) {
            if condition(word, suffix) {
                replace_suffix(word, suffix.len(), replacement);
            }
            return;
        }
    }
}

fn step1a(word: &mut Vec<u8>) {
    if word.len() == 4 && word.ends_with(b"ies") {
        replace_suffix(word, 3, b"ie");
        return;
    }
    first_rule(
        word,
        &[
            (b"sses", b"ss"),
            (b"ies", b"i"),
            (b"ss", b"ss"),
            (b"s", b""),
        ],
        |_, _| true,
    );
}

fn step1b(word: &mut Vec<u8>) {
    if word.ends_with(b"ied") {
        let replacement: &[u8] = if word.len() == 4 { b"ie" } else { b"i" };
        replace_suffix(word, 3, replacement);
        return;
    }
    if word.ends_with(b"eed") {
        if measure(&word[..word.len() - 3]) > 0 {
            word.pop();
        }
        return;
    }
    let removed = [b"ed".as_slice(), b"ing"].into_iter().find(|suffix| {
        word.ends_with(suffix) && contains_vowel(&word[..word.len() - suffix.len()])
    });
    let Some(suffix) = removed else {
        return;
    };
    word.truncate(word.len() - suffix.len());
    if word.ends_with(b"at") || word.ends_with(b"bl") || word.ends_with(b"iz") {
        word.push(b'e');
    } else if ends_double_consonant(word) {
        // the stem is not empty: it ends with a double consonant
        if !matches!(word[word.len() - 1], b'l' | b's' | b'z') {
            word.pop();
        }
    } else if measure(word) == 1 && ends_cvc(word) {
        word.push(b'e');
    }
}

fn step1c(word: &mut [u8]) {
    if word.ends_with(b"y") {
        let n = word.len() - 1;
        if n > 1 && is_consonant(word, n - 1) {
            word[n] = b'i';
        }
    }
}

fn step2(word: &mut Vec<u8>) {
    if word.ends_with(b"alli") && measure(&word[..word.len() - 4]) > 0 {
        replace_suffix(word, 4, b"al");
        step2(word);
        return;
    }
    let rules: [(&[u8], &[u8]); 22] = [
        (b"ational", b"ate"),
        (b"tional", b"tion"),
        (b"enci", b"ence"),
        (b"anci", b"ance"),
        (b"izer", b"ize"),
        (b"bli", b"ble"),
        (b"alli", b"al"),
        (b"entli", b"ent"),
        (b"eli", b"e"),
        (b"ousli", b"ous"),
        (b"ization", b"ize"),
        (b"ation", b"ate"),
        (b"ator", b"ate"),
        (b"alism", b"al"),
        (b"iveness", b"ive"),
        (b"fulness", b"ful"),
        (b"ousness", b"ous"),
        (b"aliti", b"al"),
        (b"iviti", b"ive"),
        (b"biliti", b"ble"),
        (b"fulli", b"ful"),
        (b"logi", b"log"),
    ];
    first_rule(word, &rules, |word, suffix| {
        // "logi" is measured with its "l": the word without its last three letters
        let cut = if suffix == b"logi" { 3 } else { suffix.len() };
        measure(&word[..word.len() - cut]) > 0
    });
}

/// The word without `suffix` (which ends it).
fn stem_of<'w>(word: &'w [u8], suffix: &[u8]) -> &'w [u8] {
    &word[..word.len() - suffix.len()]
}

fn step3(word: &mut Vec<u8>) {
    first_rule(
        word,
        &[
            (b"icate", b"ic"),
            (b"ative", b""),
            (b"alize", b"al"),
            (b"iciti", b"ic"),
            (b"ical", b"ic"),
            (b"ful", b""),
            (b"ness", b""),
        ],
        |word, suffix| measure(stem_of(word, suffix)) > 0,
    );
}

fn step4(word: &mut Vec<u8>) {
    let rules: [(&[u8], &[u8]); 19] = [
        (b"al", b""),
        (b"ance", b""),
        (b"ence", b""),
        (b"er", b""),
        (b"ic", b""),
        (b"able", b""),
        (b"ible", b""),
        (b"ant", b""),
        (b"ement", b""),
        (b"ment", b""),
        (b"ent", b""),
        (b"ion", b""),
        (b"ou", b""),
        (b"ism", b""),
        (b"ate", b""),
        (b"iti", b""),
        (b"ous", b""),
        (b"ive", b""),
        (b"ize", b""),
    ];
    first_rule(word, &rules, |word, suffix| {
        let stem = stem_of(word, suffix);
        measure(stem) > 1 && (suffix != b"ion" || matches!(stem.last(), Some(b's' | b't')))
    });
}

fn step5a(word: &mut Vec<u8>) {
    if word.ends_with(b"e") {
        let stem = &word[..word.len() - 1];
        let m = measure(stem);
        if m > 1 || (m == 1 && !ends_cvc(stem)) {
            word.pop();
        }
    }
}

fn step5b(word: &mut Vec<u8>) {
    if word.ends_with(b"ll") && measure(&word[..word.len() - 1]) > 1 {
        word.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stemmed(word: &str) -> String {
        let mut w = word.as_bytes().to_vec();
        stem(&mut w);
        String::from_utf8(w).unwrap()
    }

    #[test]
    fn porter_paper_examples() {
        for (word, expected) in [
            ("caresses", "caress"),
            ("ponies", "poni"),
            ("cats", "cat"),
            ("agreed", "agre"),
            ("plastered", "plaster"),
            ("motoring", "motor"),
            ("hopping", "hop"),
            ("falling", "fall"),
            ("filing", "file"),
            ("happy", "happi"),
            ("relational", "relat"),
            ("generalization", "gener"),
            ("controlling", "control"),
        ] {
            assert_eq!(stemmed(word), expected, "{word}");
        }
    }

    #[test]
    fn nltk_extensions() {
        // NLTK's own deviations from the 1980 algorithm (the examples first).
        for (word, expected) in [
            ("skies", "sky"),
            ("says", "say"),
            ("dying", "die"),
            ("dies", "die"),
            ("died", "die"),
            ("spied", "spi"),
            ("enjoy", "enjoy"),
            ("fly", "fli"),
            ("archaeology", "archaeolog"),
            ("geology", "geolog"),
            ("news", "news"),
            ("yyyy", "yyyi"),
        ] {
            assert_eq!(stemmed(word), expected, "{word}");
        }
    }
}
