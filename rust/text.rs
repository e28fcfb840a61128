//! Text conventions shared with Python, so a user's `str.split()` and `str.strip()` agree with us.

use std::sync::LazyLock;

use regex::Regex;

/// Python's `str.isspace`: Unicode White_Space plus the four ASCII information separators
/// U+001C..U+001F, which Python also treats as whitespace (and Rust's `char::is_whitespace` not).
pub fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Letters and numbers by Unicode general category (L*, N*) and `_`: the `\w` of Python's `re`
/// on `str` (`str.isalnum()`), unlike Rust's `char::is_alphanumeric`, which also takes some
/// marks.
pub fn is_python_word(c: char) -> bool {
    static LETTER_OR_NUMBER: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^[\p{L}\p{N}]$").expect("static pattern compiles"));
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    let mut buf = [0u8; 4];
    LETTER_OR_NUMBER.is_match(c.encode_utf8(&mut buf))
}

/// Python's `str.isspace` on one ASCII byte (tab, newline, vertical tab, form feed, carriage
/// return, U+001C..U+001F, space).
pub const fn is_ascii_python_space(b: u8) -> bool {
    matches!(b, b'\t'..=b'\r' | 0x1c..=b' ')
}

/// Whether the character starting at byte `at` of `text` is a Python space, and its width in
/// bytes: ASCII by a test on the byte, other characters decoded.
fn space_at(text: &str, at: usize) -> (bool, usize) {
    let b = text.as_bytes()[at];
    if b.is_ascii() {
        return (is_ascii_python_space(b), 1);
    }
    // callers step over whole characters, so `at` is on a character boundary
    text[at..]
        .chars()
        .next()
        .map_or((false, 1), |c| (is_python_space(c), c.len_utf8()))
}

/// Words as Python's `str.split()` (no argument) returns them.
pub fn python_split(text: &str) -> PythonWords<'_> {
    PythonWords { text, at: 0 }
}

/// The iterator of [`python_split`]: steps over ASCII bytes without decoding them.
pub struct PythonWords<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Iterator for PythonWords<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let len = self.text.len();
        let mut at = self.at;
        let start = loop {
            if at >= len {
                self.at = len;
                return None;
            }
            let (space, width) = space_at(self.text, at);
            if !space {
                break at;
            }
            at += width;
        };
        while at < len {
            let (space, width) = space_at(self.text, at);
            if space {
                break;
            }
            at += width;
        }
        self.at = at;
        Some(&self.text[start..at])
    }
}

/// Python's `str.lower()` of `text`, in `out` (reused): ASCII text without allocating.
pub fn python_lower_into<'o>(text: &str, out: &'o mut String) -> &'o str {
    if text.is_ascii() {
        out.clear();
        out.push_str(text);
        out.make_ascii_lowercase();
    } else {
        // str::to_lowercase, as Python's str.lower, lowers a final sigma to ς
        *out = text.to_lowercase();
    }
    out.as_str()
}

/// Python's `re.sub(r"\b(a|an|the)\b", " ", text)` (the SQuAD and HELM normalisation): each
/// maximal run of word characters ([`is_python_word`]) that is an article becomes one space.
/// Borrowed when there is no article.
pub fn replace_articles(text: &str) -> std::borrow::Cow<'_, str> {
    let mut out = String::new();
    let mut copied = 0; // text[..copied] is already in `out`
    let mut run = None;
    for (at, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        if at < text.len() && is_python_word(c) {
            run.get_or_insert(at);
            continue;
        }
        if let Some(start) = run.take() {
            if matches!(&text[start..at], "a" | "an" | "the") {
                out.push_str(&text[copied..start]);
                out.push(' ');
                copied = at;
            }
        }
    }
    if copied == 0 {
        return std::borrow::Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    std::borrow::Cow::Owned(out)
}

/// `" ".join(text.split())`: words separated by one space, no space at either end.
pub fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in python_split(text) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// `str.strip()` with no argument.
pub fn python_strip(text: &str) -> &str {
    text.trim_matches(is_python_space)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_python_split() {
        // Python: "a\x1fb  c\u3000d\n".split() == ["a", "b", "c", "d"]
        assert_eq!(
            python_split("a\u{1f}b  c\u{3000}d\n").collect::<Vec<_>>(),
            ["a", "b", "c", "d"]
        );
        assert_eq!(python_strip("\u{1c} x \u{85}"), "x");
        assert_eq!(python_split("").count(), 0);
    }

    #[test]
    fn split_and_lower_as_python() {
        // Python: "\u00a0a\u2003b\u200bc \u0085d\x1c".split() == ["a", "b\u200bc", "d"]
        assert_eq!(
            python_split("\u{a0}a\u{2003}b\u{200b}c \u{85}d\u{1c}").collect::<Vec<_>>(),
            ["a", "b\u{200b}c", "d"]
        );
        assert_eq!(python_split("é  ü").collect::<Vec<_>>(), ["é", "ü"]);
        assert_eq!(python_split(" \t\n").next(), None);
        for b in 0..128u8 {
            assert_eq!(
                is_ascii_python_space(b),
                is_python_space(char::from(b)),
                "{b}"
            );
        }
        let mut out = String::new();
        assert_eq!(python_lower_into("AbC", &mut out), "abc");
        assert_eq!(python_lower_into("ΣΑΣ", &mut out), "σας");
    }

    #[test]
    fn articles_and_whitespace_as_python() {
        // Python: re.sub(r"\b(a|an|the)\b", " ", s)
        assert_eq!(
            replace_articles("the cat-a anthem_the é the"),
            "  cat-  anthem_the é  "
        );
        assert_eq!(replace_articles("théa a\u{301}"), "théa  \u{301}");
        assert!(matches!(
            replace_articles("cat"),
            std::borrow::Cow::Borrowed("cat")
        ));
        assert_eq!(collapse_whitespace("  a \u{3000} b\n"), "a b");
        assert_eq!(collapse_whitespace(" \t"), "");
    }
}
