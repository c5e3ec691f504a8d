//! Saving and loading weights in the [safetensors](https://huggingface.co/docs/safetensors)
//! format, for any [`Tensors`]: a model's weights, a function's `<Name>Params`, gradients, a
//! [`Standardizer`](crate::data::Standardizer).
//!
//! Each matrix is one tensor, named like its field (or the function's parameter), with its
//! shape `[R, C]` and dtype (`F64` for `f64`, `F32` for `f32`) from its type, stored row-major
//! and little-endian as the format requires. Python's `safetensors` package reads the files
//! (`safetensors.numpy.load_file`), and files it writes with the same names, shapes and dtypes
//! load here.
//!
//! ```
//! use gradgen::prelude::*;
//! use gradgen::weights;
//!
//! #[model]
//! struct Linear<const D: usize, const C: usize> {
//!     w: Mat<D, C>,
//!     b: Mat<1, C>,
//! }
//!
//! # fn main() -> Result<(), gradgen::Error> {
//! let trained = Linear::<3, 2> { w: Mat::from_fn(|i, j| (i + j) as f64 / 7.0), b: Mat::full(0.5) };
//! let path = std::env::temp_dir().join(format!("gradgen-doc-{}.safetensors", std::process::id()));
//! weights::save(&trained, &path)?;
//!
//! let mut fresh = Linear::<3, 2> { w: Mat::zeros(), b: Mat::zeros() };
//! weights::load(&mut fresh, &path)?;
//! assert_eq!((fresh.w, fresh.b), (trained.w, trained.b));
//!
//! let mut wider = Linear::<3, 4> { w: Mat::zeros(), b: Mat::zeros() };
//! let err = weights::load(&mut wider, &path).unwrap_err();
//! assert!(err.to_string().ends_with("tensor `w` has shape [3, 2], expected [3, 4]"));
//! # std::fs::remove_file(&path).ok();
//! # Ok(())
//! # }
//! ```

use std::borrow::Cow;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors, View};

use crate::{Error, Scalar, Tensors};

/// One matrix, ready for the safetensors writer.
struct Tensor {
    shape: [usize; 2],
    dtype: Dtype,
    bytes: Vec<u8>,
}

impl View for &Tensor {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

/// The safetensors dtype of `T`: `F64` or `F32`.
fn dtype<T: Scalar>() -> Dtype {
    if T::NAME == "f32" {
        Dtype::F32
    } else {
        Dtype::F64
    }
}

/// `v` as the little-endian bytes of its own type.
#[allow(clippy::cast_possible_truncation)]
fn push_bytes<T: Scalar>(out: &mut Vec<u8>, v: T) {
    match dtype::<T>() {
        Dtype::F32 => out.extend_from_slice(&(v.to_f64() as f32).to_le_bytes()),
        _ => out.extend_from_slice(&v.to_f64().to_le_bytes()),
    }
}

/// The value of `T` whose little-endian bytes are `chunk` (4 bytes for `f32`, 8 for `f64`).
fn from_bytes_le<T: Scalar>(chunk: &[u8]) -> T {
    match chunk.len() {
        4 => T::from_f64(f64::from(f32::from_le_bytes(
            chunk.try_into().unwrap_or([0; 4]),
        ))),
        _ => T::from_f64(f64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]))),
    }
}

/// The whole set in the safetensors format, as bytes.
///
/// # Errors
/// [`Error::Safetensors`] when the writer refuses the set (two matrices with one name).
pub fn to_bytes<S: Tensors + ?Sized>(tensors: &S) -> Result<Vec<u8>, Error> {
    let mut named: Vec<(String, Tensor)> = Vec::new();
    tensors.for_each(&mut |name, view| {
        let mut bytes = Vec::with_capacity(view.len() * std::mem::size_of::<S::Elem>());
        for &v in view.rows().into_iter().flatten() {
            push_bytes(&mut bytes, v);
        }
        let shape = [view.nrows(), view.ncols()];
        named.push((
            name.to_owned(),
            Tensor {
                shape,
                dtype: dtype::<S::Elem>(),
                bytes,
            },
        ));
    });
    let views = named.iter().map(|(name, t)| (name.as_str(), t));
    safetensors::serialize(views, None).map_err(|e| Error::Safetensors {
        path: "the weights to save".to_owned(),
        message: e.to_string(),
    })
}

/// Writes the set to `path` in the safetensors format.
///
/// The bytes go to a temporary file in the same directory, which is then renamed to `path`:
/// a failed save never leaves a half-written file at `path`, and an existing file there is
/// replaced only by a complete one.
///
/// # Errors
/// [`Error::Io`] when the file cannot be written or renamed.
pub fn save<S: Tensors + ?Sized>(tensors: &S, path: impl AsRef<Path>) -> Result<(), Error> {
    let path = path.as_ref();
    let bytes = to_bytes(tensors)?;
    let temp = temporary_path(path);
    let written = write_synced(&temp, &bytes).map_err(|e| io_error("write", &temp, &e));
    let renamed = written.and_then(|()| {
        fs::rename(&temp, path).map_err(|e| io_error("rename a temporary file to", path, &e))
    });
    if renamed.is_err() {
        // Best effort: the error that matters is the one returned.
        let _ = fs::remove_file(&temp);
    }
    renamed
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// `dir/.name.<pid>.tmp` next to `path`.
fn temporary_path(path: &Path) -> PathBuf {
    let name = path.file_name().map_or_else(
        || "weights".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    );
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

fn io_error(action: &'static str, path: &Path, e: &std::io::Error) -> Error {
    Error::Io {
        action,
        path: path.display().to_string(),
        kind: e.kind(),
        message: e.to_string(),
    }
}

/// Reads the weights in the safetensors file at `path` into `tensors`.
///
/// The file must hold exactly the tensors of the set: every name, with the shape and dtype of
/// its matrix, and no other. Everything is checked before anything is copied, so on an error
/// `tensors` is unchanged.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read; [`Error::Safetensors`] when it is truncated or
/// not valid safetensors; [`Error::MissingTensor`], [`Error::UnexpectedTensor`],
/// [`Error::TensorShape`] and [`Error::TensorDtype`] naming the tensor and what was expected
/// and found.
pub fn load<S: Tensors + ?Sized>(tensors: &mut S, path: impl AsRef<Path>) -> Result<(), Error> {
    let path = path.as_ref();
    let bytes = fs::read(path).map_err(|e| io_error("read", path, &e))?;
    read_into(tensors, &bytes, &path.display().to_string())
}

/// [`load`] from bytes in memory; messages call them "the safetensors data".
///
/// # Errors
/// As [`load`], except for [`Error::Io`].
pub fn from_bytes<S: Tensors + ?Sized>(tensors: &mut S, bytes: &[u8]) -> Result<(), Error> {
    read_into(tensors, bytes, "the safetensors data")
}

fn read_into<S: Tensors + ?Sized>(
    tensors: &mut S,
    bytes: &[u8],
    source: &str,
) -> Result<(), Error> {
    let file = SafeTensors::deserialize(bytes).map_err(|e| Error::Safetensors {
        path: source.to_owned(),
        message: e.to_string(),
    })?;
    check_layout(tensors, &file, source)?;
    tensors.for_each_mut(&mut |name, mut view| {
        if let Ok(tensor) = file.tensor(name) {
            let size = tensor.dtype().bitsize() / 8;
            for (dst, chunk) in view.iter_mut().zip(tensor.data().chunks_exact(size)) {
                *dst = from_bytes_le(chunk);
            }
        }
    });
    Ok(())
}

/// Every tensor of the set is in the file with its shape and dtype, and the file has no other.
fn check_layout<S: Tensors + ?Sized>(
    tensors: &S,
    file: &SafeTensors<'_>,
    source: &str,
) -> Result<(), Error> {
    let layout = tensors.layout();
    let mut in_file: Vec<String> = file.names().into_iter().map(str::to_owned).collect();
    in_file.sort();
    for (name, (rows, cols)) in &layout {
        let (name, rows, cols) = (name.as_str(), *rows, *cols);
        let tensor = file.tensor(name).map_err(|_| Error::MissingTensor {
            path: source.to_owned(),
            name: name.to_owned(),
            found: in_file.clone(),
        })?;
        let expected = dtype::<S::Elem>();
        if tensor.dtype() != expected {
            return Err(Error::TensorDtype {
                path: source.to_owned(),
                name: name.to_owned(),
                expected: if expected == Dtype::F32 { "F32" } else { "F64" },
                found: format!("{:?}", tensor.dtype()),
            });
        }
        if tensor.shape() != [rows, cols] {
            return Err(Error::TensorShape {
                path: source.to_owned(),
                name: name.to_owned(),
                expected: (rows, cols),
                found: tensor.shape().to_vec(),
            });
        }
    }
    if let Some(extra) = in_file
        .iter()
        .find(|n| layout.iter().all(|(name, _)| name != *n))
    {
        return Err(Error::UnexpectedTensor {
            path: source.to_owned(),
            name: extra.clone(),
            expected: layout.iter().map(|(n, _)| n.clone()).collect(),
        });
    }
    Ok(())
}
