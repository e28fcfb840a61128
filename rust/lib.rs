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
pub use metrics::bleu::{
    bleu, bleu_from_statistics, bleu_statistics, BleuOptions, BleuTokenizer, Smoothing, BLEU_FIELDS,
};
pub use metrics::brier_score::{brier_score, BrierConvention, BrierOptions};
pub use metrics::chrf::{chrf, chrf_fields, chrf_from_statistics, chrf_statistics, ChrfOptions};
pub use metrics::edit_distance::{
    char_edit_distance, token_edit_distance, EditDistanceOptions, Normalize, Tokenizer,
};
pub use metrics::exact_match::{exact_match, ExactMatchOptions, Punctuation};
pub use metrics::gold_probability::{choice_probability, gold_probability, Which};
pub use metrics::multiple_choice_grade::{
    multiple_choice_grade, multiple_choice_grade_normalized, LengthNormalize,
};
pub use metrics::rouge::{rouge, RougeOptions, RougeVariant};
pub use metrics::sampling::{
    majority_vote, pass_at_k_estimate, rolling_statistics, sample_estimate,
    sample_estimate_from_text, CountUnit, SampleEstimate,
};
pub use metrics::token_f1::{token_f1, TokenF1Options};
pub use parallel::{OnError, Workers};
