//! rescore: metric kernels for re-scoring stored language-model generations.
//!
//! Kernels take Arrow columns (`&[ArrayRef]`, one array per chunk) and return one Arrow array
//! with a value per row. They run in parallel over rows with rayon and return the same result
//! whatever the thread count or chunking. They know nothing of Python: the `python` feature adds
//! the one binding module.

pub mod columns;
pub mod error;
pub mod metrics;
pub mod parallel;
pub mod text;

#[cfg(feature = "python")]
mod python;

pub use error::{RescoreError, RescoreResult};
pub use metrics::brier_score::{brier_score, BrierConvention, BrierOptions};
pub use metrics::edit_distance::{
    char_edit_distance, token_edit_distance, EditDistanceOptions, Normalize, Tokenizer,
};
pub use metrics::exact_match::{exact_match, ExactMatchOptions, Punctuation};
pub use metrics::multiple_choice_grade::multiple_choice_grade;
pub use metrics::token_f1::{token_f1, TokenF1Options};
pub use parallel::{OnError, Workers};
