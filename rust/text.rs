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

/// Words as Python's `str.split()` (no argument) returns them.
pub fn python_split(text: &str) -> impl Iterator<Item = &str> {
    text.split(is_python_space).filter(|w| !w.is_empty())
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
