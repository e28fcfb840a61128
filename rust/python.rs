//! The Python binding: the only file that names pyo3. Each function extracts Arrow columns through
//! the PyCapsule interface, releases the GIL while the kernel runs, and maps `RescoreError` to a
//! Python exception.

use std::panic::{self, AssertUnwindSafe};

use arrow_array::ArrayRef;
use pyo3::create_exception;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3_arrow::input::AnyArray;
use pyo3_arrow::PyArray;

use crate::error::RescoreError;
use crate::metrics::brier_score::{BrierConvention, BrierOptions};
use crate::metrics::edit_distance::{EditDistanceOptions, Normalize, Tokenizer};
use crate::metrics::exact_match::{ExactMatchOptions, Punctuation};
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
    let import = || -> PyResult<Vec<ArrayRef>> {
        let any: AnyArray = column.extract()?;
        Ok(any.into_chunked_array()?.into_inner().0)
    };
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
) -> PyResult<PyArray> {
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
    Ok(PyArray::from_array_ref(out))
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
) -> PyResult<PyArray> {
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
    Ok(PyArray::from_array_ref(out))
}

#[pyfunction]
#[pyo3(signature = (
    predictions, references, *, strip=false, ignore_case=false, ignore_punctuation=false,
    ignore_numbers=false, regexes_to_ignore=Vec::new(), punctuation="ascii", workers=-1, on_error="raise",
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
    regexes_to_ignore: Vec<String>,
    punctuation: &str,
    workers: i64,
    on_error: &str,
) -> PyResult<PyArray> {
    let (workers, on_error) = common(workers, on_error)?;
    let options = ExactMatchOptions {
        strip,
        ignore_case,
        ignore_punctuation,
        ignore_numbers,
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
    Ok(PyArray::from_array_ref(out))
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
) -> PyResult<PyArray> {
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
    Ok(PyArray::from_array_ref(out))
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
) -> PyResult<PyArray> {
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
    Ok(PyArray::from_array_ref(out))
}

#[pyfunction]
#[pyo3(signature = (scores, labels, *, workers=-1, on_error="raise"))]
fn multiple_choice_grade(
    py: Python<'_>,
    scores: &Bound<'_, PyAny>,
    labels: &Bound<'_, PyAny>,
    workers: i64,
    on_error: &str,
) -> PyResult<PyArray> {
    let (workers, on_error) = common(workers, on_error)?;
    let (s, l) = (chunks("scores", scores)?, chunks("labels", labels)?);
    let out = py.detach(|| crate::multiple_choice_grade(&s, &l, workers, on_error))?;
    Ok(PyArray::from_array_ref(out))
}

/// Native core of rescore (see the `rescore` package for the documented API).
#[pymodule(gil_used = false)]
fn _rescore(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("DEBUG_BUILD", cfg!(debug_assertions))?;
    m.add("InvalidInputError", py.get_type::<InvalidInputError>())?;
    m.add("LengthMismatchError", py.get_type::<LengthMismatchError>())?;
    m.add("InvalidOptionError", py.get_type::<InvalidOptionError>())?;
    m.add(
        "UnsupportedTypeError",
        py.get_type::<UnsupportedTypeError>(),
    )?;
    m.add_function(wrap_pyfunction!(token_edit_distance, m)?)?;
    m.add_function(wrap_pyfunction!(char_edit_distance, m)?)?;
    m.add_function(wrap_pyfunction!(exact_match, m)?)?;
    m.add_function(wrap_pyfunction!(token_f1, m)?)?;
    m.add_function(wrap_pyfunction!(brier_score, m)?)?;
    m.add_function(wrap_pyfunction!(multiple_choice_grade, m)?)?;
    Ok(())
}
