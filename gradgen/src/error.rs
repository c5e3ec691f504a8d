//! Errors from runtime data: a shape that does not match the type, a label out of range.

use std::fmt;

/// What went wrong when building a [`Mat`](crate::Mat) or [`Labels`](crate::Labels) from
/// runtime data. Every message names what was expected and what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
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
        /// The `N` of `Labels<N, C>`.
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
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::Shape { expected, found } => write!(
                f,
                "shape mismatch: expected a {} × {} matrix, found {} × {}",
                expected.0, expected.1, found.0, found.1
            ),
            Error::Len { expected, found } => write!(
                f,
                "length mismatch: a {} × {} matrix needs {} values, found {}",
                expected.0,
                expected.1,
                expected.0 * expected.1,
                found
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
        }
    }
}

impl std::error::Error for Error {}
