//! `Labels<N, C>`: one class index per row, each checked `< C` when built, or no label at all for
//! a row that must not count (the padding rows of a dataset's last batch).

use std::ops::Index;

use crate::Error;

/// `N` class labels, each a class index in `0..C` or, for a row that carries no label, ignored.
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
///
/// # Ignored rows
///
/// A row built as `None` by [`with_ignored`](Labels::with_ignored) carries no label, like
/// PyTorch's `ignore_index`: [`data`](crate::data) pads the last batch of a dataset with such
/// rows, so that a batch of the const size `N` can hold fewer real rows. Every operation that
/// takes labels honours them:
///
/// - [`cross_entropy`](crate::Mat::cross_entropy) and its backward average over the labelled
///   rows only and give ignored rows a zero gradient;
/// - [`pick`](crate::Mat::pick) gives 0 at an ignored row, and `scatter`
///   and `scatter_add` skip it;
/// - [`labelled_mean`](crate::Mat::labelled_mean) is the mean over labelled rows, the mean to
///   use after `pick` when a batch may be padded;
/// - [`data::accuracy`](crate::data::accuracy) counts labelled rows only.
///
/// When no row is labelled, those means are over nothing: they are defined as 0, with a zero
/// gradient, rather than NaN, so that an empty batch leaves the weights unchanged.
///
/// ```
/// use gradgen::Labels;
///
/// let y = Labels::<4, 3>::with_ignored(vec![Some(2), Some(0), None, None])?;
/// assert_eq!(y.get(0), Some(2));
/// assert_eq!(y.get(3), None);
/// assert_eq!(y.labelled(), 2);
/// assert_eq!(y.iter().collect::<Vec<_>>(), [Some(2), Some(0), None, None]);
/// # Ok::<(), gradgen::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Labels<const N: usize, const C: usize> {
    // Invariant: `classes.len() == N`, every `Some` entry is `< C`, and `labelled` counts them.
    classes: Vec<Option<usize>>,
    labelled: usize,
}

impl<const N: usize, const C: usize> Labels<N, C> {
    /// Number of classes.
    pub const CLASSES: usize = C;

    /// Checks that there are `N` labels, each `< C`. Every row is labelled.
    ///
    /// # Errors
    /// [`Error::LabelCount`] for a wrong number of labels, [`Error::LabelRange`] (naming the
    /// first bad position and its value) for a label `>= C`.
    pub fn new(classes: Vec<usize>) -> Result<Self, Error> {
        Self::with_ignored(classes.into_iter().map(Some).collect())
    }

    /// Like [`new`](Labels::new), but a `None` entry marks a row without a label: it does not
    /// count in any mean, loss or accuracy (see [Ignored rows](Labels#ignored-rows)).
    ///
    /// # Errors
    /// As [`new`](Labels::new), for the `Some` entries.
    pub fn with_ignored(classes: Vec<Option<usize>>) -> Result<Self, Error> {
        if classes.len() != N {
            return Err(Error::LabelCount {
                expected: N,
                found: classes.len(),
            });
        }
        let out_of_range = classes
            .iter()
            .enumerate()
            .find_map(|(i, c)| c.filter(|&c| c >= C).map(|c| (i, c)));
        if let Some((position, value)) = out_of_range {
            return Err(Error::LabelRange {
                position,
                value,
                classes: C,
            });
        }
        let labelled = classes.iter().flatten().count();
        Ok(Labels { classes, labelled })
    }

    /// Labels already checked by the caller (every `Some` below `C`, `N` entries).
    pub(crate) fn from_checked(classes: Vec<Option<usize>>) -> Self {
        debug_assert_eq!(classes.len(), N);
        debug_assert!(classes.iter().flatten().all(|&c| c < C));
        let labelled = classes.iter().flatten().count();
        Labels { classes, labelled }
    }

    /// Like [`new`](Labels::new), from a slice.
    ///
    /// # Errors
    /// As [`new`](Labels::new).
    pub fn from_slice(classes: &[usize]) -> Result<Self, Error> {
        Self::new(classes.to_vec())
    }

    /// The label of `row`, or `None` when that row is ignored.
    ///
    /// # Panics
    /// When `row >= N`, like indexing a slice.
    #[must_use]
    pub fn get(&self, row: usize) -> Option<usize> {
        self.classes[row]
    }

    /// How many rows carry a label (`N` minus the ignored rows).
    #[must_use]
    pub fn labelled(&self) -> usize {
        self.labelled
    }

    /// Whether every row carries a label.
    #[must_use]
    pub fn is_fully_labelled(&self) -> bool {
        self.labelled == N
    }

    /// The labels in row order, `None` for an ignored row.
    #[must_use]
    pub fn as_slice(&self) -> &[Option<usize>] {
        &self.classes
    }

    /// The labels as plain class indices, when every row is labelled; `None` otherwise.
    #[must_use]
    pub fn to_classes(&self) -> Option<Vec<usize>> {
        self.classes.iter().copied().collect()
    }

    /// An iterator over the labels, in row order, `None` for an ignored row.
    pub fn iter(&self) -> std::iter::Copied<std::slice::Iter<'_, Option<usize>>> {
        self.classes.iter().copied()
    }

    /// The labelled rows as `(row, class)` pairs, in row order: what a loop over the labels
    /// of a possibly padded batch wants.
    pub fn labelled_rows(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.classes
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.map(|c| (i, c)))
    }
}

impl<const N: usize, const C: usize> Index<usize> for Labels<N, C> {
    type Output = usize;
    /// The class of `row`.
    ///
    /// # Panics
    /// When `row >= N`, or when `row` is ignored (use [`get`](Labels::get) for rows that may
    /// be).
    fn index(&self, row: usize) -> &usize {
        match &self.classes[row] {
            Some(class) => class,
            None => panic!("row {row} carries no label (it is ignored); use `Labels::get`"),
        }
    }
}

impl<'a, const N: usize, const C: usize> IntoIterator for &'a Labels<N, C> {
    type Item = Option<usize>;
    type IntoIter = std::iter::Copied<std::slice::Iter<'a, Option<usize>>>;
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
        let err = Labels::<3, 2>::with_ignored(vec![None; 4]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "label count mismatch: expected 3 labels, found 4"
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
        let err = Labels::<4, 3>::with_ignored(vec![None, Some(1), None, Some(3)]).unwrap_err();
        assert_eq!(
            err,
            Error::LabelRange {
                position: 3,
                value: 3,
                classes: 3
            }
        );
    }

    #[test]
    fn ignored_rows_are_counted_and_listed() {
        let y = Labels::<4, 3>::with_ignored(vec![None, Some(1), None, Some(2)]).unwrap();
        assert_eq!(y.labelled(), 2);
        assert!(!y.is_fully_labelled());
        assert_eq!(y.to_classes(), None);
        assert_eq!(y.labelled_rows().collect::<Vec<_>>(), [(1, 1), (3, 2)]);
        let full = Labels::<2, 3>::new(vec![2, 0]).unwrap();
        assert!(full.is_fully_labelled());
        assert_eq!(full.to_classes(), Some(vec![2, 0]));
    }

    #[test]
    #[should_panic(expected = "row 0 carries no label")]
    fn indexing_an_ignored_row_panics_with_the_row() {
        let y = Labels::<1, 3>::with_ignored(vec![None]).unwrap();
        let _ = y[0];
    }
}
