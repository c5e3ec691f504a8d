//! Batches of a const size that cover every row of a dataset, the last one padded.

use std::iter::FusedIterator;

use ndarray::{s, Array2};

use super::Dataset;
use crate::{Labels, Mat, Scalar};

impl<const D: usize, const C: usize, T: Scalar> Dataset<D, C, T> {
    /// The rows in order, as batches of `B`: a `Mat<B, D, T>` of features and its
    /// `Labels<B, C>`. There are `⌈len / B⌉` batches and every row is in exactly one. The last
    /// batch, when `B` does not divide the number of rows, is padded with rows of zeros whose
    /// labels are ignored ([`Labels::with_ignored`]): they add nothing to `cross_entropy`,
    /// [`labelled_mean`](Mat::labelled_mean) or [`accuracy`](super::accuracy), nor to their
    /// gradients.
    ///
    /// `B = 0` does not compile.
    ///
    /// ```
    /// use gradgen::data::Dataset;
    /// let data = Dataset::<1, 2>::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0], vec![0, 1, 0, 1, 1])?;
    /// let batches: Vec<_> = data.batches::<2>().collect();
    /// assert_eq!(batches.len(), 3);
    /// let (x, y) = &batches[2];
    /// assert_eq!(x.to_vec(), [5.0, 0.0]);
    /// assert_eq!(y.as_slice(), [Some(1), None]);
    /// # Ok::<(), gradgen::Error>(())
    /// ```
    #[must_use]
    pub fn batches<const B: usize>(&self) -> Batches<'_, B, D, C, T> {
        const { assert!(B > 0, "a batch holds at least one row") };
        Batches {
            data: self,
            next: 0,
        }
    }
}

/// The iterator of [`Dataset::batches`]: `(Mat<B, D, T>, Labels<B, C>)` for each batch.
#[derive(Clone, Debug)]
pub struct Batches<'a, const B: usize, const D: usize, const C: usize, T: Scalar> {
    data: &'a Dataset<D, C, T>,
    next: usize,
}

impl<const B: usize, const D: usize, const C: usize, T: Scalar> Iterator
    for Batches<'_, B, D, C, T>
{
    type Item = (Mat<B, D, T>, Labels<B, C>);

    fn next(&mut self) -> Option<Self::Item> {
        let start = self.next;
        if start >= self.data.len() {
            return None;
        }
        let end = (start + B).min(self.data.len());
        self.next = end;
        let real = end - start;
        let mut x = Array2::zeros((B, D));
        x.slice_mut(s![..real, ..])
            .assign(&self.data.features.slice(s![start..end, ..]));
        let labels = (0..B)
            .map(|i| (i < real).then(|| self.data.labels[start + i]))
            .collect();
        Some((Mat::from_array_unchecked(x), Labels::from_checked(labels)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.data.len().saturating_sub(self.next).div_ceil(B);
        (left, Some(left))
    }
}

impl<const B: usize, const D: usize, const C: usize, T: Scalar> ExactSizeIterator
    for Batches<'_, B, D, C, T>
{
}

impl<const B: usize, const D: usize, const C: usize, T: Scalar> FusedIterator
    for Batches<'_, B, D, C, T>
{
}
