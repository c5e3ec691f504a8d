//! `Labels<N, C>`: one class index per row, each checked `< C` when built.

use std::ops::Index;

use crate::Error;

/// `N` class labels, each a class index in `0..C`.
///
/// Every label is checked when the value is built, so [`Mat::pick`](crate::Mat::pick) and the
/// generated backward passes can index with them without further checks.
///
/// ```
/// use gradgen::Labels;
///
/// let y = Labels::<3, 4>::new(vec![0, 3, 1])?;
/// assert_eq!(y[1], 3);
/// let err = Labels::<3, 4>::new(vec![0, 4, 1]).unwrap_err();
/// assert_eq!(err.to_string(), "label out of range: label 1 is 4, but there are 4 classes (0..4)");
/// # Ok::<(), gradgen::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Labels<const N: usize, const C: usize> {
    // Invariant: `classes.len() == N` and every entry is `< C`.
    classes: Vec<usize>,
}

impl<const N: usize, const C: usize> Labels<N, C> {
    /// Number of classes.
    pub const CLASSES: usize = C;

    /// Checks that there are `N` labels, each `< C`.
    ///
    /// # Errors
    /// [`Error::LabelCount`] for a wrong number of labels, [`Error::LabelRange`] (naming the
    /// first bad position and its value) for a label `>= C`.
    pub fn new(classes: Vec<usize>) -> Result<Self, Error> {
        if classes.len() != N {
            return Err(Error::LabelCount {
                expected: N,
                found: classes.len(),
            });
        }
        if let Some((position, &value)) = classes.iter().enumerate().find(|(_, &c)| c >= C) {
            return Err(Error::LabelRange {
                position,
                value,
                classes: C,
            });
        }
        Ok(Labels { classes })
    }

    /// Like [`new`](Labels::new), from a slice.
    ///
    /// # Errors
    /// As [`new`](Labels::new).
    pub fn from_slice(classes: &[usize]) -> Result<Self, Error> {
        Self::new(classes.to_vec())
    }

    /// The labels, in row order.
    #[must_use]
    pub fn as_slice(&self) -> &[usize] {
        &self.classes
    }

    /// An iterator over the labels, in row order.
    pub fn iter(&self) -> std::iter::Copied<std::slice::Iter<'_, usize>> {
        self.classes.iter().copied()
    }
}

impl<const N: usize, const C: usize> Index<usize> for Labels<N, C> {
    type Output = usize;
    fn index(&self, row: usize) -> &usize {
        &self.classes[row]
    }
}

impl<'a, const N: usize, const C: usize> IntoIterator for &'a Labels<N, C> {
    type Item = usize;
    type IntoIter = std::iter::Copied<std::slice::Iter<'a, usize>>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_count_is_an_error() {
        let err = Labels::<3, 2>::new(vec![0, 1]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "label count mismatch: expected 3 labels, found 2"
        );
    }

    #[test]
    fn first_out_of_range_label_is_named() {
        let err = Labels::<4, 3>::from_slice(&[0, 2, 7, 9]).unwrap_err();
        assert_eq!(
            err,
            Error::LabelRange {
                position: 2,
                value: 7,
                classes: 3
            }
        );
    }
}
