//! The Arrow PyCapsule interface in both directions, on arrow-array's C data interface (`ffi`,
//! `ffi_stream`) and pyo3's `PyCapsule`.
//!
//! In: any object with `__arrow_c_stream__` (every chunk) or `__arrow_c_array__` (one array).
//! Out: [`ArrowArray`], a result column with `__arrow_c_array__` and `__arrow_c_schema__`, which
//! pyarrow and polars import without copying.
//!
//! STYLE.md names pyo3-arrow for this. We do without it for build time: rescore used two of its
//! items (`AnyArray`, `PyArray`), and it pulled arrow-select, arrow-cast, arrow-ord, numpy,
//! ndarray, chrono-tz and comfy-table into every source install, 45% and more of a from-scratch
//! build's CPU (benches/RESULTS.md, "Where a source build's time goes"). The price is the
//! `unsafe` below, which the crate otherwise denies: each block is one call across the C
//! interface, moving a struct out of a capsule or calling a stream's callback.
#![warn(clippy::undocumented_unsafe_blocks)]

use std::ffi::CStr;

use arrow_array::ffi::{from_ffi, from_ffi_and_data_type, to_ffi, FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{make_array, Array, ArrayRef};
use arrow_schema::{ArrowError, DataType};
use pyo3::exceptions::PyTypeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

const SCHEMA: &CStr = c"arrow_schema";
const ARRAY: &CStr = c"arrow_array";
const STREAM: &CStr = c"arrow_array_stream";

fn arrow_error(e: &ArrowError) -> PyErr {
    PyTypeError::new_err(e.to_string())
}

/// The capsule `object` must be: a `PyCapsule` named `name` (the names the interface fixes).
fn checked<'a, 'py>(
    object: &'a Bound<'py, PyAny>,
    name: &CStr,
    method: &str,
) -> PyResult<&'a Bound<'py, PyCapsule>> {
    let wrong = || {
        let got = object
            .repr()
            .map_or_else(|_| "something else".to_owned(), |r| r.to_string());
        PyTypeError::new_err(format!(
            "{method} should give a PyCapsule named {name:?}, got {got}"
        ))
    };
    let capsule = object.cast::<PyCapsule>().map_err(|_| wrong())?;
    if capsule.is_valid_checked(Some(name)) {
        Ok(capsule)
    } else {
        Err(wrong())
    }
}

fn released(what: &str) -> PyErr {
    PyTypeError::new_err(format!(
        "the {what} in the capsule was already released (a capsule can be imported only once)"
    ))
}

/// Moves the stream out of an `arrow_array_stream` capsule, leaving a released one behind.
#[allow(unsafe_code)]
fn take_stream(object: &Bound<'_, PyAny>) -> PyResult<FFI_ArrowArrayStream> {
    let pointer = checked(object, STREAM, "__arrow_c_stream__")?.pointer_checked(Some(STREAM))?;
    // SAFETY: a capsule named "arrow_array_stream" points to an ArrowArrayStream struct (the
    // PyCapsule interface's contract), alive while `object` is; `from_raw` moves it out and
    // leaves a released struct, which the capsule's destructor then skips.
    let stream = unsafe { FFI_ArrowArrayStream::from_raw(pointer.cast().as_ptr()) };
    if stream.release.is_none() {
        return Err(released("stream"));
    }
    Ok(stream)
}

/// Moves the schema and the array out of `__arrow_c_array__`'s two capsules.
#[allow(unsafe_code)]
fn take_array(
    schema: &Bound<'_, PyAny>,
    array: &Bound<'_, PyAny>,
) -> PyResult<(FFI_ArrowSchema, FFI_ArrowArray)> {
    let method = "__arrow_c_array__";
    let schema = checked(schema, SCHEMA, method)?.pointer_checked(Some(SCHEMA))?;
    let array = checked(array, ARRAY, method)?.pointer_checked(Some(ARRAY))?;
    // SAFETY: capsules named "arrow_schema" and "arrow_array" point to an ArrowSchema and an
    // ArrowArray struct, alive while the capsules are; `from_raw` moves each out and leaves a
    // released struct behind.
    let (schema, array) = unsafe {
        (
            FFI_ArrowSchema::from_raw(schema.cast().as_ptr()),
            FFI_ArrowArray::from_raw(array.cast().as_ptr()),
        )
    };
    if schema.release.is_none() {
        return Err(released("schema"));
    }
    if array.is_released() {
        return Err(released("array"));
    }
    Ok((schema, array))
}

/// The producer's message for a failed stream call, if it gives one.
#[allow(unsafe_code)]
fn stream_error(stream: &mut FFI_ArrowArrayStream, code: i32) -> PyErr {
    let get_last_error = stream.get_last_error;
    // SAFETY: `get_last_error` of a live stream returns null or a C string valid until the next
    // call on the stream; it is copied at once.
    let message = get_last_error.and_then(|get| unsafe {
        let text = get(stream);
        (!text.is_null()).then(|| CStr::from_ptr(text).to_string_lossy().into_owned())
    });
    PyTypeError::new_err(match message {
        Some(message) => format!("the Arrow stream failed: {message}"),
        None => format!("the Arrow stream failed (error code {code})"),
    })
}

/// Every array of a C stream, in order.
#[allow(unsafe_code)]
fn read_stream(mut stream: FFI_ArrowArrayStream) -> PyResult<Vec<ArrayRef>> {
    let (Some(get_schema), Some(get_next)) = (stream.get_schema, stream.get_next) else {
        return Err(PyTypeError::new_err("the Arrow stream has no callbacks"));
    };
    let mut schema = FFI_ArrowSchema::empty();
    // SAFETY: the stream is live (not released); `get_schema` fills the empty out-struct.
    let code = unsafe { get_schema(&raw mut stream, &raw mut schema) };
    if code != 0 {
        return Err(stream_error(&mut stream, code));
    }
    let data_type = DataType::try_from(&schema).map_err(|e| arrow_error(&e))?;
    let mut chunks = Vec::new();
    loop {
        let mut array = FFI_ArrowArray::empty();
        // SAFETY: as for `get_schema`; a released out-struct marks the end of the stream.
        let code = unsafe { get_next(&raw mut stream, &raw mut array) };
        if code != 0 {
            return Err(stream_error(&mut stream, code));
        }
        if array.is_released() {
            return Ok(chunks);
        }
        // SAFETY: the producer filled `array` as an array of the stream's schema.
        let data = unsafe { from_ffi_and_data_type(array, data_type.clone()) }
            .map_err(|e| arrow_error(&e))?;
        chunks.push(make_array(data));
    }
}

/// Every chunk of `object`: all of its `__arrow_c_stream__`, else its one `__arrow_c_array__`.
/// The caller turns any error (and any arrow-rs panic) into an error naming the argument.
#[allow(unsafe_code)]
pub(super) fn import_chunks(object: &Bound<'_, PyAny>) -> PyResult<Vec<ArrayRef>> {
    let py = object.py();
    if object.hasattr(intern!(py, "__arrow_c_stream__"))? {
        let capsule = object.call_method0(intern!(py, "__arrow_c_stream__"))?;
        return read_stream(take_stream(&capsule)?);
    }
    if !object.hasattr(intern!(py, "__arrow_c_array__"))? {
        return Err(PyTypeError::new_err(
            "expected an object with __arrow_c_stream__ or __arrow_c_array__",
        ));
    }
    let pair = object.call_method0(intern!(py, "__arrow_c_array__"))?;
    let (schema, array) = pair
        .extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>()
        .map_err(|_| PyTypeError::new_err("__arrow_c_array__ should give a pair of capsules"))?;
    let (schema, array) = take_array(&schema, &array)?;
    // SAFETY: `array` and `schema` are a live ArrowArray and its ArrowSchema from the producer.
    let data = unsafe { from_ffi(array, &schema) }.map_err(|e| arrow_error(&e))?;
    Ok(vec![make_array(data)])
}

/// A result column. Read it through the Arrow PyCapsule interface: `pyarrow.array(result)`,
/// `polars.Series(result)`; each import shares the buffers, nothing is copied.
#[pyclass(frozen, module = "rescore._rescore")]
pub struct ArrowArray(ArrayRef);

impl From<ArrayRef> for ArrowArray {
    fn from(array: ArrayRef) -> Self {
        Self(array)
    }
}

#[pymethods]
impl ArrowArray {
    /// The array as `(schema capsule, array capsule)`; `requested_schema` is ignored (the
    /// interface lets a producer keep its own type).
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_array__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<(Bound<'py, PyCapsule>, Bound<'py, PyCapsule>)> {
        let _ = requested_schema;
        let (array, schema) = to_ffi(&self.0.to_data()).map_err(|e| arrow_error(&e))?;
        Ok((
            PyCapsule::new_with_value(py, schema, SCHEMA)?,
            PyCapsule::new_with_value(py, array, ARRAY)?,
        ))
    }

    /// The array's type as a schema capsule.
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        let schema = FFI_ArrowSchema::try_from(self.0.data_type()).map_err(|e| arrow_error(&e))?;
        PyCapsule::new_with_value(py, schema, SCHEMA)
    }

    fn __len__(&self) -> usize {
        self.0.len()
    }

    fn __repr__(&self) -> String {
        format!("ArrowArray({}, {} rows)", self.0.data_type(), self.0.len())
    }
}
