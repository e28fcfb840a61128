//! The Python binding: this file and its `arrow_ffi` module (the Arrow PyCapsule interface) are
//! the only ones naming pyo3. Each function extracts Arrow columns through the PyCapsule interface,
//! releases the GIL while the kernel runs, and maps `RescoreError` to a Python exception.

mod arrow_ffi;

use std::panic::{self, AssertUnwindSafe};

use arrow_array::ArrayRef;
use pyo3::create_exception;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use self::arrow_ffi::ArrowArray;
use crate::error::RescoreError;
use crate::metrics::bleu::{BleuOptions, BleuTokenizer, Smoothing};
use crate::metrics::brier_score::{BrierConvention, BrierOptions};
use crate::metrics::chrf::ChrfOptions;
use crate::metrics::edit_distance::{EditDistanceOptions, Normalize, Tokenizer};
use crate::metrics::exact_match::{ExactMatchOptions, Punctuation};
use crate::metrics::gold_probability::Which;
use crate::metrics::multiple_choice_grade::LengthNormalize;
use crate::metrics::rouge::{RougeOptions, RougeVariant};
use crate::metrics::sampling::{CountUnit, SampleEstimate};
use crate::metrics::token_f1::TokenF1Options;
use crate::parallel::{OnError, Workers};

create_exception!(
    rescore.exceptions,
    InvalidInputError,
    PyValueError,
    "A row's values cannot be scored (the message names the argument and row)."
);
create_exception!(
    rescore.exceptions,
    LengthMismatchError,
    InvalidInputError,
    "Two per-row arguments have different numbers of rows."
);
create_exception!(
    rescore.exceptions,
    InvalidOptionError,
    PyValueError,
    "A keyword option has a value outside its documented set."
);
create_exception!(
    rescore.exceptions,
    UnsupportedTypeError,
    PyTypeError,
    "An argument's Arrow type is not one the metric reads."
);

impl From<RescoreError> for PyErr {
    fn from(e: RescoreError) -> Self {
        let msg = e.to_string();
        match e {
            RescoreError::UnsupportedType { .. } => UnsupportedTypeError::new_err(msg),
            RescoreError::LengthMismatch { .. } => LengthMismatchError::new_err(msg),
            RescoreError::InvalidOption { .. } | RescoreError::InvalidRegex { .. } => {
                InvalidOptionError::new_err(msg)
            }
            _ => InvalidInputError::new_err(msg),
        }
    }
}

/// All chunks of an Arrow array or stream (pyarrow ChunkedArray, polars Series, ...).
///
/// Whatever goes wrong importing the data is an `UnsupportedTypeError` naming the argument:
/// arrow-rs returns an error for some invalid data and asserts (panics) on other shapes, such
/// as a sliced struct of structs; neither may reach Python as an undocumented exception.
fn chunks(argument: &str, column: &Bound<'_, PyAny>) -> PyResult<Vec<ArrayRef>> {
    let import = || arrow_ffi::import_chunks(column);
    let failure = match panic::catch_unwind(AssertUnwindSafe(import)) {
        Ok(Ok(chunks)) => return Ok(chunks),
        Ok(Err(e)) => e.value(column.py()).to_string(),
        Err(payload) => payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("the Arrow reader panicked")
            .to_owned(),
    };
    Err(UnsupportedTypeError::new_err(format!(
        "`{argument}`: cannot import this Arrow data: {failure}"
    )))
}

fn common(workers: i64, on_error: &str) -> PyResult<(Workers, OnError)> {
    Ok((Workers::from_count(workers)?, OnError::parse(on_error)?))
}

#[pyfunction]
#[pyo3(signature = (predictions, references, *, normalize=None, tokenizer="whitespace", workers=-1, on_error="raise"))]
fn token_edit_distance(
    py: Python<'_>,
    predictions: &Bound<'_, PyAny>,
    references: &Bound<'_, PyAny>,
    normalize: Option<&str>,
    tokenizer: &str,
    workers: i64,
    on_error: &str,
) -> PyResult<ArrowArray> {
    let (workers, on_error) = common(workers, on_error)?;
    let options = EditDistanceOptions {
        normalize: Normalize::parse(normalize)?,
        tokenizer: Tokenizer::parse(tokenizer)?,
        workers,
        on_error,
    };
    let (p, r) = (
        chunks("predictions", predictions)?,
        chunks("references", references)?,
    );
    let out = py.detach(|| crate::token_edit_distance(&p, &r, options))?;
    Ok(ArrowArray::from(out))
}

#[pyfunction]
#[pyo3(signature = (predictions, references, *, normalize=None, workers=-1, on_error="raise"))]
fn char_edit_distance(
    py: Python<'_>,
    predictions: &Bound<'_, PyAny>,
    references: &Bound<'_, PyAny>,
    normalize: Option<&str>,
    workers: i64,
    on_error: &str,
) -> PyResult<ArrowArray> {
    let (workers, on_error) = common(workers, on_error)?;
    let options = EditDistanceOptions {
        normalize: Normalize::parse(normalize)?,
        tokenizer: Tokenizer::Characters,
        workers,
        on_error,
    };
    let (p, r) = (
        chunks("predictions", predictions)?,
        chunks("references", references)?,
    );
    let out = py.detach(|| crate::char_edit_distance(&p, &r, options))?;
    Ok(ArrowArray::from(out))
}

#[pyfunction]
#[pyo3(signature = (
    predictions, references, *, strip=false, ignore_case=false, ignore_punctuation=false,
    ignore_numbers=false, ignore_articles=false, collapse_whitespace=false,
    regexes_to_ignore=Vec::new(), punctuation="ascii", workers=-1, on_error="raise",
))]
#[allow(clippy::too_many_arguments, clippy::fn_params_excessive_bools)] // mirrors lm-eval's keywords
fn exact_match(
    py: Python<'_>,
    predictions: &Bound<'_, PyAny>,
    references: &Bound<'_, PyAny>,
    strip: bool,
    ignore_case: bool,
    ignore_punctuation: bool,
    ignore_numbers: bool,
    ignore_articles: bool,
    collapse_whitespace: bool,
    regexes_to_ignore: Vec<String>,
    punctuation: &str,
    workers: i64,
    on_error: &str,
) -> PyResult<ArrowArray> {
    let (workers, on_error) = common(workers, on_error)?;
    let options = ExactMatchOptions {
        strip,
        ignore_case,
        ignore_punctuation,
        ignore_numbers,
        ignore_articles,
        collapse_whitespace,
        empty_prediction_fails: false,
        regexes_to_ignore,
        punctuation: Punctuation::parse(punctuation)?,
        workers,
        on_error,
    };
    let (p, r) = (
        chunks("predictions", predictions)?,
        chunks("references", references)?,
    );
    let out = py.detach(|| crate::exact_match(&p, &r, &options))?;
    Ok(ArrowArray::from(out))
}

#[pyfunction]
#[pyo3(signature = (predictions, references, *, workers=-1, on_error="raise"))]
fn quasi_exact_match(
    py: Python<'_>,
    predictions: &Bound<'_, PyAny>,
    references: &Bound<'_, PyAny>,
    workers: i64,
    on_error: &str,
) -> PyResult<ArrowArray> {
    let (workers, on_error) = common(workers, on_error)?;
    let options = ExactMatchOptions {
        ignore_case: true,
        ignore_punctuation: true,
        ignore_articles: true,
        collapse_whitespace: true,
        empty_prediction_fails: true,
        workers,
        on_error,
        ..ExactMatchOptions::default()
    };
    let (p, r) = (
        chunks("predictions", predictions)?,
        chunks("references", references)?,
    );
    let out = py.detach(|| crate::exact_match(&p, &r, &options))?;
    Ok(ArrowArray::from(out))
}

#[pyfunction]
#[pyo3(signature = (
    predictions, references, *, ignore_case=true, ignore_punctuation=true, ignore_articles=true,
    workers=-1, on_error="raise",
))]
#[allow(clippy::too_many_arguments, clippy::fn_params_excessive_bools)] // normalize_answer's steps
fn token_f1(
    py: Python<'_>,
    predictions: &Bound<'_, PyAny>,
    references: &Bound<'_, PyAny>,
    ignore_case: bool,
    ignore_punctuation: bool,
    ignore_articles: bool,
    workers: i64,
    on_error: &str,
) -> PyResult<ArrowArray> {
    let (workers, on_error) = common(workers, on_error)?;
    let options = TokenF1Options {
        ignore_case,
        ignore_punctuation,
        ignore_articles,
        workers,
        on_error,
    };
    let (p, r) = (
        chunks("predictions", predictions)?,
        chunks("references", references)?,
    );
    let out = py.detach(|| crate::token_f1(&p, &r, options))?;
    Ok(ArrowArray::from(out))
}

fn bleu_options(
    tokenize: &str,
    smooth_method: &str,
    lowercase: bool,
    workers: i64,
    on_error: &str,
) -> PyResult<BleuOptions> {
    let (workers, on_error) = common(workers, on_error)?;
    Ok(BleuOptions {
        tokenize: BleuTokenizer::parse(tokenize)?,
        smooth: Smoothing::parse(smooth_method)?,
        lowercase,
        workers,
        on_error,
    })
}

#[pyfunction]
#[pyo3(signature = (
    predictions, references, *, tokenize="13a", smooth_method="exp", lowercase=false, workers=-1,
    on_error="raise",
))]
#[allow(clippy::too_many_arguments)]
fn bleu(
    py: Python<'_>,
    predictions: &Bound<'_, PyAny>,
    references: &Bound<'_, PyAny>,
    tokenize: &str,
    smooth_method: &str,
    lowercase: bool,
    workers: i64,
    on_error: &str,
) -> PyResult<ArrowArray> {
    let options = bleu_options(tokenize, smooth_method, lowercase, workers, on_error)?;
    let (p, r) = (
        chunks("predictions", predictions)?,
        chunks("references", references)?,
    );
    let out = py.detach(|| crate::bleu(&p, &r, &options))?;
    Ok(ArrowArray::from(out))
}

#[pyfunction]
#[pyo3(signature = (
    predictions, references, *, tokenize="13a", smooth_method="exp", lowercase=false, workers=-1,
    on_error="raise",
))]
#[allow(clippy::too_many_arguments)]
fn bleu_statistics(
    py: Python<'_>,
    predictions: &Bound<'_, PyAny>,
    references: &Bound<'_, PyAny>,
    tokenize: &str,
    smooth_method: &str,
    lowercase: bool,
    workers: i64,
    on_error: &str,
) -> PyResult<ArrowArray> {
    let options = bleu_options(tokenize, smooth_method, lowercase, workers, on_error)?;
    let (p, r) = (
        chunks("predictions", predictions)?,
        chunks("references", references)?,
    );
    let out = py.detach(|| crate::bleu_statistics(&p, &r, &options))?;
    Ok(ArrowArray::from(out))
}

#[allow(clippy::too_many_arguments, clippy::fn_params_excessive_bools)]
fn chrf_options(
    char_order: i64,
    word_order: i64,
    beta: i64,
    lowercase: bool,
    whitespace: bool,
    workers: i64,
    on_error: &str,
) -> PyResult<ChrfOptions> {
    let (workers, on_error) = common(workers, on_error)?;
    Ok(ChrfOptions {
        lowercase,
        whitespace,
        workers,
        on_error,
        ..ChrfOptions::new(char_order, word_order, beta)?
    })
}

#[pyfunction]
#[pyo3(signature = (
    predictions, references, *, char_order=6, word_order=0, beta=2, lowercase=false,
    whitespace=false, workers=-1, on_error="raise",
))]
#[allow(clippy::too_many_arguments, clippy::fn_params_excessive_bools)]
fn chrf(
    py: Python<'_>,
    predictions: &Bound<'_, PyAny>,
    references: &Bound<'_, PyAny>,
    char_order: i64,
    word_order: i64,
    beta: i64,
    lowercase: bool,
    whitespace: bool,
    workers: i64,
    on_error: &str,
) -> PyResult<ArrowArray> {
    let options = chrf_options(
        char_order, word_order, beta, lowercase, whitespace, workers, on_error,
    )?;
    let (p, r) = (
        chunks("predictions", predictions)?,
        chunks("references", references)?,
    );
    let out = py.detach(|| crate::chrf(&p, &r, &options))?;
    Ok(ArrowArray::from(out))
}

#[pyfunction]
#[pyo3(signature = (
    predictions, references, *, char_order=6, word_order=0, beta=2, lowercase=false,
    whitespace=false, workers=-1, on_error="raise",
))]
#[allow(clippy::too_many_arguments, clippy::fn_params_excessive_bools)]
fn chrf_statistics(
    py: Python<'_>,
    predictions: &Bound<'_, PyAny>,
    references: &Bound<'_, PyAny>,
    char_order: i64,
    word_order: i64,
    beta: i64,
    lowercase: bool,
    whitespace: bool,
    workers: i64,
    on_error: &str,
) -> PyResult<ArrowArray> {
    let options = chrf_options(
        char_order, word_order, beta, lowercase, whitespace, workers, on_error,
    )?;
    let (p, r) = (
        chunks("predictions", predictions)?,
        chunks("references", references)?,
    );
    let out = py.detach(|| crate::chrf_statistics(&p, &r, &options))?;
    Ok(ArrowArray::from(out))
}

#[pyfunction]
#[pyo3(signature = (
    predictions, references, *, variant="rougeL", use_stemmer=false, workers=-1, on_error="raise",
))]
fn rouge(
    py: Python<'_>,
    predictions: &Bound<'_, PyAny>,
    references: &Bound<'_, PyAny>,
    variant: &str,
    use_stemmer: bool,
    workers: i64,
    on_error: &str,
) -> PyResult<ArrowArray> {
    let (workers, on_error) = common(workers, on_error)?;
    let options = RougeOptions {
        variant: RougeVariant::parse(variant)?,
        use_stemmer,
        workers,
        on_error,
    };
    let (p, r) = (
        chunks("predictions", predictions)?,
        chunks("references", references)?,
    );
    let out = py.detach(|| crate::rouge(&p, &r, options))?;
    Ok(ArrowArray::from(out))
}

/// NLTK's `PorterStemmer().stem` on each word, as `rouge` stems tokens (for the differential
/// tests against NLTK: words of lower-case ASCII letters and digits, what its tokenizer makes).
#[pyfunction]
fn porter_stem(words: Vec<String>) -> PyResult<Vec<String>> {
    words
        .into_iter()
        .enumerate()
        .map(|(row, word)| {
            if !word
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            {
                return Err(InvalidInputError::new_err(format!(
                    "`words` row {row}: {word:?} is not lower-case ASCII letters and digits"
                )));
            }
            let mut bytes = word.into_bytes();
            crate::metrics::porter::stem(&mut bytes);
            // the stemmer only removes and appends ASCII letters
            Ok(String::from_utf8(bytes).expect("ASCII in, ASCII out"))
        })
        .collect()
}

#[pyfunction]
#[pyo3(signature = (probabilities, labels, *, convention="sum", from_logprobs=false, tolerance=crate::metrics::brier_score::DEFAULT_SUM_TOLERANCE, workers=-1, on_error="raise"))]
#[allow(clippy::too_many_arguments)]
fn brier_score(
    py: Python<'_>,
    probabilities: &Bound<'_, PyAny>,
    labels: &Bound<'_, PyAny>,
    convention: &str,
    from_logprobs: bool,
    tolerance: f64,
    workers: i64,
    on_error: &str,
) -> PyResult<ArrowArray> {
    let (workers, on_error) = common(workers, on_error)?;
    let options = BrierOptions {
        convention: BrierConvention::parse(convention)?,
        from_logprobs,
        tolerance,
        workers,
        on_error,
    };
    let (p, l) = (
        chunks("probabilities", probabilities)?,
        chunks("labels", labels)?,
    );
    let out = py.detach(|| crate::brier_score(&p, &l, options))?;
    Ok(ArrowArray::from(out))
}

#[pyfunction]
#[pyo3(signature = (scores, labels, *, choices=None, length_normalize=None, workers=-1, on_error="raise"))]
fn multiple_choice_grade(
    py: Python<'_>,
    scores: &Bound<'_, PyAny>,
    labels: &Bound<'_, PyAny>,
    choices: Option<&Bound<'_, PyAny>>,
    length_normalize: Option<&str>,
    workers: i64,
    on_error: &str,
) -> PyResult<ArrowArray> {
    let (workers, on_error) = common(workers, on_error)?;
    let normalize = LengthNormalize::parse(length_normalize)?;
    let (s, l) = (chunks("scores", scores)?, chunks("labels", labels)?);
    let out = match (normalize, choices) {
        (None, _) => py.detach(|| crate::multiple_choice_grade(&s, &l, workers, on_error))?,
        (Some(normalize), Some(choices)) => {
            let c = chunks("choices", choices)?;
            py.detach(|| {
                crate::multiple_choice_grade_normalized(&s, &l, &c, normalize, workers, on_error)
            })?
        }
        (Some(_), None) => {
            return Err(RescoreError::InvalidOption {
                option: "choices",
                message: "length_normalize needs the choice texts: pass choices=".to_owned(),
            }
            .into())
        }
    };
    Ok(ArrowArray::from(out))
}

#[pyfunction]
#[pyo3(signature = (scores, labels, *, which="gold", from_logprobs=true, workers=-1, on_error="raise"))]
fn choice_probability(
    py: Python<'_>,
    scores: &Bound<'_, PyAny>,
    labels: &Bound<'_, PyAny>,
    which: &str,
    from_logprobs: bool,
    workers: i64,
    on_error: &str,
) -> PyResult<ArrowArray> {
    let (workers, on_error) = common(workers, on_error)?;
    let which = match which {
        "gold" => Which::Gold,
        "top" => Which::Top,
        other => {
            return Err(RescoreError::InvalidOption {
                option: "which",
                message: format!("got {other:?}, expected \"gold\" or \"top\""),
            }
            .into())
        }
    };
    let (s, l) = (chunks("scores", scores)?, chunks("labels", labels)?);
    let out =
        py.detach(|| crate::choice_probability(&s, &l, which, from_logprobs, workers, on_error))?;
    Ok(ArrowArray::from(out))
}

/// The exact-match options of the sampling metrics, as the Python keywords give them.
#[allow(clippy::too_many_arguments, clippy::fn_params_excessive_bools)] // lm-eval's keywords
fn exact_match_options(
    strip: bool,
    ignore_case: bool,
    ignore_punctuation: bool,
    ignore_numbers: bool,
    ignore_articles: bool,
    collapse_whitespace: bool,
    regexes_to_ignore: Vec<String>,
    punctuation: &str,
    workers: i64,
    on_error: &str,
) -> PyResult<ExactMatchOptions> {
    let (workers, on_error) = common(workers, on_error)?;
    Ok(ExactMatchOptions {
        strip,
        ignore_case,
        ignore_punctuation,
        ignore_numbers,
        // off by default: lm-eval's exact match has no article or whitespace steps
        ignore_articles,
        collapse_whitespace,
        empty_prediction_fails: false,
        regexes_to_ignore,
        punctuation: Punctuation::parse(punctuation)?,
        workers,
        on_error,
    })
}

/// pass@k (`k` given) or sample accuracy (`k=None`) per row: from `list<bool>` correctness when
/// `references` is `None`, else from `list<string>` samples by exact match.
#[pyfunction]
#[pyo3(signature = (
    samples, references=None, *, k=None, strip=false, ignore_case=false, ignore_punctuation=false,
    ignore_numbers=false, ignore_articles=false, collapse_whitespace=false, regexes_to_ignore=Vec::new(),
    punctuation="ascii", workers=-1, on_error="raise",
))]
#[allow(clippy::too_many_arguments, clippy::fn_params_excessive_bools)] // mirrors lm-eval's keywords
fn sample_estimate(
    py: Python<'_>,
    samples: &Bound<'_, PyAny>,
    references: Option<&Bound<'_, PyAny>>,
    k: Option<i64>,
    strip: bool,
    ignore_case: bool,
    ignore_punctuation: bool,
    ignore_numbers: bool,
    ignore_articles: bool,
    collapse_whitespace: bool,
    regexes_to_ignore: Vec<String>,
    punctuation: &str,
    workers: i64,
    on_error: &str,
) -> PyResult<ArrowArray> {
    let estimate = match k {
        Some(k) => SampleEstimate::pass_at(k)?,
        None => SampleEstimate::Accuracy,
    };
    let options = exact_match_options(
        strip,
        ignore_case,
        ignore_punctuation,
        ignore_numbers,
        ignore_articles,
        collapse_whitespace,
        regexes_to_ignore,
        punctuation,
        workers,
        on_error,
    )?;
    let out = match references {
        None => {
            let c = chunks("correct", samples)?;
            py.detach(|| crate::sample_estimate(&c, estimate, options.workers, options.on_error))?
        }
        Some(references) => {
            let (s, r) = (
                chunks("samples", samples)?,
                chunks("references", references)?,
            );
            py.detach(|| crate::sample_estimate_from_text(&s, &r, estimate, &options))?
        }
    };
    Ok(ArrowArray::from(out))
}

#[pyfunction]
#[pyo3(signature = (
    samples, references, *, k=None, strip=false, ignore_case=false, ignore_punctuation=false,
    ignore_numbers=false, ignore_articles=false, collapse_whitespace=false, regexes_to_ignore=Vec::new(),
    punctuation="ascii", workers=-1, on_error="raise",
))]
#[allow(clippy::too_many_arguments, clippy::fn_params_excessive_bools)] // mirrors lm-eval's keywords
fn majority_vote(
    py: Python<'_>,
    samples: &Bound<'_, PyAny>,
    references: &Bound<'_, PyAny>,
    k: Option<i64>,
    strip: bool,
    ignore_case: bool,
    ignore_punctuation: bool,
    ignore_numbers: bool,
    ignore_articles: bool,
    collapse_whitespace: bool,
    regexes_to_ignore: Vec<String>,
    punctuation: &str,
    workers: i64,
    on_error: &str,
) -> PyResult<ArrowArray> {
    let k = match k {
        None => None,
        Some(k) => match SampleEstimate::pass_at(k)? {
            SampleEstimate::PassAtK(k) => Some(k),
            SampleEstimate::Accuracy => None,
        },
    };
    let options = exact_match_options(
        strip,
        ignore_case,
        ignore_punctuation,
        ignore_numbers,
        ignore_articles,
        collapse_whitespace,
        regexes_to_ignore,
        punctuation,
        workers,
        on_error,
    )?;
    let (s, r) = (
        chunks("samples", samples)?,
        chunks("references", references)?,
    );
    let out = py.detach(|| crate::majority_vote(&s, &r, k, &options))?;
    Ok(ArrowArray::from(out))
}

#[pyfunction]
#[pyo3(signature = (loglikelihoods, documents, *, unit, workers=-1, on_error="raise"))]
fn rolling_statistics(
    py: Python<'_>,
    loglikelihoods: &Bound<'_, PyAny>,
    documents: &Bound<'_, PyAny>,
    unit: &str,
    workers: i64,
    on_error: &str,
) -> PyResult<ArrowArray> {
    let (workers, on_error) = common(workers, on_error)?;
    let unit = CountUnit::parse(unit)?;
    let (l, d) = (
        chunks("loglikelihoods", loglikelihoods)?,
        chunks("documents", documents)?,
    );
    let out = py.detach(|| crate::rolling_statistics(&l, &d, unit, workers, on_error))?;
    Ok(ArrowArray::from(out))
}

/// Native core of rescore (see the `rescore` package for the documented API).
#[pymodule(gil_used = false)]
fn _rescore(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    crate::parallel::name_global_pool();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("DEBUG_BUILD", cfg!(debug_assertions))?;
    m.add("InvalidInputError", py.get_type::<InvalidInputError>())?;
    m.add("LengthMismatchError", py.get_type::<LengthMismatchError>())?;
    m.add("InvalidOptionError", py.get_type::<InvalidOptionError>())?;
    m.add(
        "UnsupportedTypeError",
        py.get_type::<UnsupportedTypeError>(),
    )?;
    m.add_class::<ArrowArray>()?;
    m.add_function(wrap_pyfunction!(token_edit_distance, m)?)?;
    m.add_function(wrap_pyfunction!(char_edit_distance, m)?)?;
    m.add_function(wrap_pyfunction!(exact_match, m)?)?;
    m.add_function(wrap_pyfunction!(quasi_exact_match, m)?)?;
    m.add_function(wrap_pyfunction!(token_f1, m)?)?;
    m.add_function(wrap_pyfunction!(rouge, m)?)?;
    m.add_function(wrap_pyfunction!(porter_stem, m)?)?;
    m.add_function(wrap_pyfunction!(bleu, m)?)?;
    m.add_function(wrap_pyfunction!(bleu_statistics, m)?)?;
    m.add_function(wrap_pyfunction!(chrf, m)?)?;
    m.add_function(wrap_pyfunction!(chrf_statistics, m)?)?;
    m.add_function(wrap_pyfunction!(brier_score, m)?)?;
    m.add_function(wrap_pyfunction!(multiple_choice_grade, m)?)?;
    m.add_function(wrap_pyfunction!(sample_estimate, m)?)?;
    m.add_function(wrap_pyfunction!(majority_vote, m)?)?;
    m.add_function(wrap_pyfunction!(rolling_statistics, m)?)?;
    m.add_function(wrap_pyfunction!(choice_probability, m)?)?;
    Ok(())
}
