//! Errors from runtime data: a shape that does not match the type, a label out of range, a data
//! file that does not hold what the dataset type says, a weights file that does not fit the
//! model, an optimizer given other tensors than it was created for.

use std::fmt;

/// What went wrong with runtime data. Every message names what was expected and what was found,
/// and where (file, line and column, tensor name) when there is a where.
///
/// New variants may be added: match with a wildcard arm.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// An ndarray array whose shape differs from the matrix type's.
    Shape {
        /// `(rows, cols)` of the matrix type.
        expected: (usize, usize),
        /// `(rows, cols)` of the data.
        found: (usize, usize),
    },
    /// A flat buffer whose length is not `rows × cols`.
    Len {
        /// `(rows, cols)` of the matrix type.
        expected: (usize, usize),
        /// The buffer's length.
        found: usize,
    },
    /// A row of nested data whose length differs from the number of columns.
    RowLen {
        /// Which row.
        row: usize,
        /// The number of columns of the matrix type.
        expected: usize,
        /// The row's length.
        found: usize,
    },
    /// A number of labels that differs from the number of rows.
    LabelCount {
        /// The `N` of `Labels<N, C>`, or the number of rows of a dataset.
        expected: usize,
        /// How many labels were given.
        found: usize,
    },
    /// A label that is not a class index `< C`.
    LabelRange {
        /// The label's position.
        position: usize,
        /// Its value.
        value: usize,
        /// The number of classes `C`.
        classes: usize,
    },
    /// A file that could not be read, written or renamed.
    Io {
        /// What was being done: `"read"`, `"write"`, `"rename"`.
        action: &'static str,
        /// The file.
        path: String,
        /// The kind of I/O error.
        kind: std::io::ErrorKind,
        /// The operating system's message.
        message: String,
    },
    /// A CSV file without a header line, or without any row after it.
    NoRows {
        /// The file (or `"the CSV input"`).
        source: String,
        /// Whether there was a header line.
        header: bool,
    },
    /// A CSV row with another number of fields than the header.
    FieldCount {
        /// The file.
        source: String,
        /// The line (1-based, the header is line 1).
        line: u64,
        /// The header's number of fields.
        expected: usize,
        /// The row's.
        found: usize,
    },
    /// A feature field that is not a finite number.
    NotANumber {
        /// The file.
        source: String,
        /// The line (1-based).
        line: u64,
        /// The column (1-based).
        column: usize,
        /// The column's name in the header.
        name: String,
        /// The field as found.
        value: String,
    },
    /// A CSV file that cannot be parsed as CSV (invalid UTF-8, an empty label field).
    CsvSyntax {
        /// The file.
        source: String,
        /// The line (1-based), when known.
        line: Option<u64>,
        /// What is wrong.
        message: String,
    },
    /// A CSV header without the label column that was asked for.
    NoLabelColumn {
        /// The file.
        source: String,
        /// The label column asked for.
        label: String,
        /// The header's column names.
        header: Vec<String>,
    },
    /// A CSV file whose number of feature columns is not the dataset type's `D`.
    FeatureColumns {
        /// The file.
        source: String,
        /// The label column (the features are every other column).
        label: String,
        /// The `D` of the dataset type.
        expected: usize,
        /// The file's number of feature columns.
        found: usize,
    },
    /// Feature rows (from a `Vec` or an ndarray array) whose length is not the dataset's `D`.
    FeatureLen {
        /// The `D` of the dataset type.
        expected: usize,
        /// The number of rows (labels) the features were given for.
        rows: usize,
        /// The number of feature values found (per row for rows, in total for a flat buffer).
        found: usize,
        /// Whether `found` is the total of a flat buffer rather than one row's length.
        flat: bool,
    },
    /// A numeric label in a CSV file that is not a class index `0..C`.
    LabelOutOfRange {
        /// The file.
        source: String,
        /// The line (1-based).
        line: u64,
        /// The label as found.
        value: String,
        /// The `C` of the dataset type.
        classes: usize,
    },
    /// A class name in a CSV file that is not one of the names given.
    UnknownClass {
        /// The file.
        source: String,
        /// The line (1-based).
        line: u64,
        /// The label as found.
        value: String,
        /// The class names, in index order.
        classes: Vec<String>,
    },
    /// A label column of class names with another number of distinct names than `C`.
    ClassCount {
        /// The file.
        source: String,
        /// The label column.
        label: String,
        /// The `C` of the dataset type.
        expected: usize,
        /// The distinct names found, sorted.
        found: Vec<String>,
    },
    /// An argument outside its valid range: a split fraction, a standard deviation, a learning
    /// rate.
    InvalidArgument {
        /// What the argument is.
        what: String,
        /// What it must be.
        expected: &'static str,
        /// What it was.
        found: String,
    },
    /// An optimizer given other tensors (names or shapes) than the ones its state was built for.
    TensorMismatch {
        /// The optimizer.
        optimizer: &'static str,
        /// The tensors of the first step, as `name [R × C]`.
        expected: String,
        /// The tensors of this step.
        found: String,
    },
    /// A file that is not valid safetensors: truncated, corrupt, or not safetensors at all.
    Safetensors {
        /// The file (or `"the safetensors data"`).
        path: String,
        /// What the safetensors reader found wrong.
        message: String,
    },
    /// A weight that a safetensors file does not hold.
    MissingTensor {
        /// The file.
        path: String,
        /// The weight's name.
        name: String,
        /// The tensors the file holds.
        found: Vec<String>,
    },
    /// A tensor in a safetensors file that the weights do not have.
    UnexpectedTensor {
        /// The file.
        path: String,
        /// The tensor's name.
        name: String,
        /// The weights' names.
        expected: Vec<String>,
    },
    /// A tensor in a safetensors file whose shape is not the weight's.
    TensorShape {
        /// The file.
        path: String,
        /// The tensor's name.
        name: String,
        /// The weight's `(rows, cols)`.
        expected: (usize, usize),
        /// The tensor's shape in the file.
        found: Vec<usize>,
    },
    /// A tensor in a safetensors file whose element type is not the weight's.
    TensorDtype {
        /// The file.
        path: String,
        /// The tensor's name.
        name: String,
        /// The weight's dtype: `"F64"` or `"F32"`.
        expected: &'static str,
        /// The tensor's dtype in the file.
        found: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Shape { .. }
            | Error::Len { .. }
            | Error::RowLen { .. }
            | Error::LabelCount { .. }
            | Error::LabelRange { .. } => self.fmt_matrix(f),
            Error::Io { .. }
            | Error::NoRows { .. }
            | Error::FieldCount { .. }
            | Error::NotANumber { .. }
            | Error::CsvSyntax { .. }
            | Error::NoLabelColumn { .. }
            | Error::FeatureColumns { .. } => self.fmt_file(f),
            Error::FeatureLen { .. }
            | Error::LabelOutOfRange { .. }
            | Error::UnknownClass { .. }
            | Error::ClassCount { .. } => self.fmt_values(f),
            Error::InvalidArgument { .. } | Error::TensorMismatch { .. } => self.fmt_usage(f),
            Error::Safetensors { .. }
            | Error::MissingTensor { .. }
            | Error::UnexpectedTensor { .. }
            | Error::TensorShape { .. }
            | Error::TensorDtype { .. } => self.fmt_weights(f),
        }
    }
}

impl Error {
    fn fmt_matrix(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Shape { expected, found } => write!(
                f,
                "shape mismatch: expected a {} × {} matrix, found {} × {}",
                expected.0, expected.1, found.0, found.1
            ),
            Error::Len { expected, found } => write!(
                f,
                "length mismatch: a {} × {} matrix needs {} values, found {found}",
                expected.0,
                expected.1,
                expected.0 * expected.1,
            ),
            Error::RowLen {
                row,
                expected,
                found,
            } => write!(
                f,
                "row length mismatch: row {row} has {found} values, expected {expected}"
            ),
            Error::LabelCount { expected, found } => {
                write!(f, "label count mismatch: expected {expected} labels, found {found}")
            }
            Error::LabelRange {
                position,
                value,
                classes,
            } => write!(
                f,
                "label out of range: label {position} is {value}, but there are {classes} classes (0..{classes})"
            ),
            _ => unreachable!("fmt_matrix is only called for matrix errors"),
        }
    }

    fn fmt_file(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io {
                action,
                path,
                message,
                ..
            } => write!(f, "cannot {action} {path}: {message}"),
            Error::NoRows { source, header } => {
                if *header {
                    write!(f, "{source} has a header line but no rows: expected at least one row of data after it")
                } else {
                    write!(f, "{source} is empty: expected a header line naming the columns, then one row per sample")
                }
            }
            Error::FieldCount {
                source,
                line,
                expected,
                found,
            } => write!(
                f,
                "{source} line {line}: expected {expected} fields, as in the header, found {found}"
            ),
            Error::NotANumber {
                source,
                line,
                column,
                name,
                value,
            } => write!(
                f,
                "{source} line {line}, column {column} (`{name}`): expected a number, found `{value}`"
            ),
            Error::CsvSyntax {
                source,
                line: Some(line),
                message,
            } => write!(f, "{source} line {line}: {message}"),
            Error::CsvSyntax {
                source, message, ..
            } => write!(f, "{source}: {message}"),
            Error::NoLabelColumn {
                source,
                label,
                header,
            } => write!(
                f,
                "{source} has no column named `{label}`: its header has {}",
                list(header)
            ),
            Error::FeatureColumns {
                source,
                label,
                expected,
                found,
            } => write!(
                f,
                "{source} has {found} feature columns (every column but `{label}`), but the dataset type expects D = {expected}"
            ),
            _ => unreachable!("fmt_file is only called for file errors"),
        }
    }

    fn fmt_values(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::FeatureLen {
                expected,
                rows,
                found,
                flat: true,
            } => write!(
                f,
                "feature count mismatch: {rows} rows of D = {expected} features need {} values, found {found}",
                rows * expected
            ),
            Error::FeatureLen {
                expected, found, ..
            } => write!(
                f,
                "feature count mismatch: the features have {found} columns, but the dataset type expects D = {expected}"
            ),
            Error::LabelOutOfRange {
                source,
                line,
                value,
                classes,
            } => write!(
                f,
                "{source} line {line}: label {value} is out of range: the dataset type has C = {classes} classes, numbered 0..{classes}"
            ),
            Error::UnknownClass {
                source,
                line,
                value,
                classes,
            } => write!(
                f,
                "{source} line {line}: unknown class `{value}`: expected one of {}",
                list(classes)
            ),
            Error::ClassCount {
                source,
                label,
                expected,
                found,
            } => {
                write!(
                    f,
                    "the label column `{label}` of {source} has {} distinct classes ({}), but the dataset type expects C = {expected}",
                    found.len(),
                    list(found)
                )?;
                if found.len() < *expected {
                    f.write_str("; name all the classes, in index order, with `CsvOptions::classes`")?;
                }
                Ok(())
            }
            _ => unreachable!("fmt_values is only called for value errors"),
        }
    }

    fn fmt_usage(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidArgument {
                what,
                expected,
                found,
            } => write!(f, "invalid {what}: expected {expected}, found {found}"),
            Error::TensorMismatch {
                optimizer,
                expected,
                found,
            } => write!(
                f,
                "{optimizer} was first stepped with the tensors {expected}, and now with {found}: use one optimizer per set of parameters, or `reset` it"
            ),
            _ => unreachable!("fmt_usage is only called for argument errors"),
        }
    }

    fn fmt_weights(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Safetensors { path, message } => {
                write!(f, "{path} is not a valid safetensors file: {message}")
            }
            Error::MissingTensor { path, name, found } => {
                write!(f, "{path} has no tensor `{name}`: it holds {}", list(found))
            }
            Error::UnexpectedTensor {
                path,
                name,
                expected,
            } => write!(
                f,
                "{path} holds a tensor `{name}` that the weights do not have: expected only {}",
                list(expected)
            ),
            Error::TensorShape {
                path,
                name,
                expected,
                found,
            } => write!(
                f,
                "{path}: tensor `{name}` has shape {found:?}, expected [{}, {}]",
                expected.0, expected.1
            ),
            Error::TensorDtype {
                path,
                name,
                expected,
                found,
            } => write!(
                f,
                "{path}: tensor `{name}` has dtype {found}, expected {expected}"
            ),
            _ => unreachable!("fmt_weights is only called for weight-file errors"),
        }
    }
}

/// `` `a`, `b`, `c` `` — or the first eight and how many more, for a long list; `nothing` when
/// empty.
fn list(names: &[String]) -> String {
    const SHOWN: usize = 8;
    if names.is_empty() {
        return "nothing".to_owned();
    }
    let mut out = names
        .iter()
        .take(SHOWN)
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        out.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    out
}

impl std::error::Error for Error {}
