//! The one error type of the kernels. Variants carry the facts a user needs to fix their input:
//! which argument, which row, what was expected and what was found.

use thiserror::Error;

/// Result of every fallible kernel.
pub type RescoreResult<T> = Result<T, RescoreError>;

/// Everything that can go wrong when scoring user data. Never a panic: kernels return these.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum RescoreError {
    /// Two per-row arguments have different numbers of rows.
    #[error("length mismatch: `{left}` has {left_len} rows but `{right}` has {right_len}")]
    LengthMismatch {
        /// First argument name.
        left: &'static str,
        /// Its row count.
        left_len: usize,
        /// Second argument name.
        right: &'static str,
        /// Its row count.
        right_len: usize,
    },

    /// An argument has an Arrow type the metric cannot read.
    #[error("unsupported type for `{argument}`: got {dtype}, expected {expected}")]
    UnsupportedType {
        /// Argument name.
        argument: &'static str,
        /// The Arrow type that was handed over.
        dtype: String,
        /// What the metric accepts.
        expected: &'static str,
    },

    /// A keyword option has a value outside its documented set.
    #[error("invalid value for `{option}`: {message}")]
    InvalidOption {
        /// Option name.
        option: &'static str,
        /// What is wrong and what is allowed.
        message: String,
    },

    /// A regular expression in `regexes_to_ignore` does not compile.
    #[error("invalid regular expression in `regexes_to_ignore` at position {index} ({pattern:?}): {message}")]
    InvalidRegex {
        /// Position in the list.
        index: usize,
        /// The pattern as given.
        pattern: String,
        /// The regex engine's explanation.
        message: String,
    },

    /// A probability (or a log-probability) is NaN, infinite, negative or above one.
    #[error("`{argument}` row {row}, choice {choice}: {value} is not a valid {expected}")]
    ProbabilityOutOfRange {
        /// Argument name.
        argument: &'static str,
        /// Row index (0-based, over the whole input).
        row: usize,
        /// Choice index inside the row.
        choice: usize,
        /// The offending value.
        value: f64,
        /// What a valid value is.
        expected: &'static str,
    },

    /// A row of probabilities does not sum to one within the tolerance.
    #[error("`{argument}` row {row}: probabilities sum to {sum}, expected 1 within {tolerance} (pass from_logprobs=True for log-likelihoods)")]
    NotNormalized {
        /// Argument name.
        argument: &'static str,
        /// Row index.
        row: usize,
        /// The row's sum.
        sum: f64,
        /// The tolerance in force.
        tolerance: f64,
    },

    /// A label does not index one of the row's choices.
    #[error("`{argument}` row {row}: label {label} is out of range for {choices} choices")]
    LabelOutOfRange {
        /// Argument name.
        argument: &'static str,
        /// Row index.
        row: usize,
        /// The label.
        label: i64,
        /// Number of choices in that row.
        choices: usize,
    },

    /// Two per-choice lists of one row have different lengths.
    #[error("row {row}: `{left}` has {left_len} choices but `{right}` has {right_len}")]
    ChoiceCountMismatch {
        /// Row index.
        row: usize,
        /// First argument name.
        left: &'static str,
        /// Its choice count.
        left_len: usize,
        /// Second argument name.
        right: &'static str,
        /// Its choice count.
        right_len: usize,
    },

    /// A row has no choices at all.
    #[error("`{argument}` row {row}: empty choice list")]
    EmptyChoices {
        /// Argument name.
        argument: &'static str,
        /// Row index.
        row: usize,
    },

    /// A row has scores but no choice texts to measure them by.
    #[error("`choices` row {row}: the choice texts are missing (null), needed for the length normalisation")]
    MissingChoices {
        /// Row index.
        row: usize,
    },

    /// A null inside a list where every element is needed (a null row is fine: it gives null).
    #[error("`{argument}` row {row}: null element at position {position}")]
    NullElement {
        /// Argument name.
        argument: &'static str,
        /// Row index.
        row: usize,
        /// Position inside the row's list.
        position: usize,
    },

    /// A row holds fewer samples than an estimator over `k` of them needs.
    #[error("`{argument}` row {row}: k={k} needs at least {k} samples, the row has {samples}")]
    TooFewSamples {
        /// Argument name.
        argument: &'static str,
        /// Row index.
        row: usize,
        /// The `k` asked for.
        k: usize,
        /// Samples in that row.
        samples: usize,
    },

    /// A row's list or text is empty where the metric needs at least one element.
    #[error("`{argument}` row {row}: empty, expected {expected}")]
    EmptyRow {
        /// Argument name.
        argument: &'static str,
        /// Row index.
        row: usize,
        /// What a valid row holds.
        expected: &'static str,
    },

    /// A number outside the values the metric accepts (a NaN or positive log-likelihood, ...).
    #[error("`{argument}` row {row}: {value} is not {expected}")]
    InvalidValue {
        /// Argument name.
        argument: &'static str,
        /// Row index.
        row: usize,
        /// The offending value.
        value: f64,
        /// What a valid value is.
        expected: &'static str,
    },

    /// A token id that does not fit the 64-bit signed range.
    #[error("`{argument}` row {row}: token id {value} does not fit in a signed 64-bit integer")]
    TokenOutOfRange {
        /// Argument name.
        argument: &'static str,
        /// Row index.
        row: usize,
        /// The value.
        value: u64,
    },
}

impl RescoreError {
    /// Python-side exception family: `true` for a wrong *type* (maps to `TypeError`), `false` for a
    /// wrong *value* (maps to `ValueError`).
    #[must_use]
    pub fn is_type_error(&self) -> bool {
        matches!(self, Self::UnsupportedType { .. })
    }

    /// Shift the row index of a row-level error by `offset`, so errors from one chunk of a chunked
    /// input name the row of the whole input.
    #[must_use]
    pub fn offset_row(mut self, offset: usize) -> Self {
        match &mut self {
            Self::ProbabilityOutOfRange { row, .. }
            | Self::NotNormalized { row, .. }
            | Self::LabelOutOfRange { row, .. }
            | Self::ChoiceCountMismatch { row, .. }
            | Self::EmptyChoices { row, .. }
            | Self::MissingChoices { row }
            | Self::NullElement { row, .. }
            | Self::TokenOutOfRange { row, .. }
            | Self::TooFewSamples { row, .. }
            | Self::EmptyRow { row, .. }
            | Self::InvalidValue { row, .. } => *row += offset,
            _ => {}
        }
        self
    }
}
