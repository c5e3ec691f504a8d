//! Datasets whose row count is known only at run time, served as batches of a const size.
//!
//! Every dimension of a [`Mat`] is a compile-time constant, so a file of unknown length cannot
//! become a `Mat<n, D>` (`Mat::<n, 8>::from_vec(xs)` with a run-time `n` is rustc's error
//! E0435). A [`Dataset<D, C>`](Dataset) holds any number of rows of `D` features with a label
//! in `0..C`, and [`batches::<B>()`](Dataset::batches) cuts it into `Mat<B, D>` batches with
//! their `Labels<B, C>`. Every row is used: the last batch is padded with zero rows whose labels
//! are ignored ([`Labels::with_ignored`]), and `cross_entropy`,
//! [`labelled_mean`](Mat::labelled_mean) and [`accuracy`] count only labelled rows, so the
//! padded batch has exactly the loss and the gradient of its real rows.
//!
//! ```
//! use gradgen::data::Dataset;
//! use gradgen::prelude::*;
//!
//! #[differentiable]
//! fn loss<const N: usize>(x: &Mat<N, 2>, w: &Mat<2, 3>, y: &Labels<N, 3>) -> f64 {
//!     x.matmul(w).cross_entropy(y)
//! }
//!
//! # fn main() -> Result<(), gradgen::Error> {
//! let csv = "height,weight,kind\n1.0,2.0,cat\n1.5,0.5,dog\n0.2,0.1,mouse\n1.1,2.2,cat\n0.1,0.3,mouse\n";
//! let data = Dataset::<2, 3>::read_csv(csv.as_bytes(), "kind")?;
//! assert_eq!(data.len(), 5);
//! assert_eq!(data.class_names(), ["cat", "dog", "mouse"]); // class names, sorted
//!
//! let (mut train, mut test) = data.split(0.4, 7)?; // seeded shuffle, then 3 + 2 rows
//! let scaler = train.standardize()?; // fitted on the training rows only
//! scaler.apply(&mut test);
//!
//! let mut w = Mat::<2, 3>::zeros();
//! for (x, y) in train.batches::<2>() { // two batches: 2 rows, then 1 row and 1 padding row
//!     let grads = loss_backward(&x, &w, &y, 1.0);
//!     w -= grads.w * 0.1;
//! }
//! let accuracy = test.accuracy::<2>(|x| x.matmul(&w)); // every test row, any count
//! assert_eq!(accuracy.total, 2);
//! # Ok(())
//! # }
//! ```
//!
//! A dataset is built from a CSV file ([`Dataset::load_csv`], [`CsvOptions`]), from `Vec`s
//! ([`Dataset::from_vec`], [`Dataset::from_rows`]) or from ndarray arrays
//! ([`Dataset::from_array`]). Every bad input is an [`Error`] that says what was expected and
//! what was found, and where; nothing is half-built.

mod batches;
mod csv;
mod standardize;

use std::fmt;
use std::ops::{Add, AddAssign};

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rand::seq::SliceRandom;

use crate::{Error, Labels, Mat, Scalar};

pub use self::batches::Batches;
pub use self::csv::CsvOptions;
pub use self::standardize::Standardizer;

/// Rows of `D` features, each with a class label in `0..C`; the number of rows is known at run
/// time only.
///
/// Rows keep their order until [`shuffle`](Dataset::shuffle) or [`split`](Dataset::split)
/// reorders them.
#[derive(Clone, PartialEq)]
pub struct Dataset<const D: usize, const C: usize, T: Scalar = f64> {
    // Invariant: `features` is `labels.len() × D` in standard (row-major) layout, every label
    // is `< C`, `class_names.len() == C` and `feature_names.len() == D`.
    features: Array2<T>,
    labels: Vec<usize>,
    class_names: Vec<String>,
    feature_names: Vec<String>,
}

impl<const D: usize, const C: usize, T: Scalar> Dataset<D, C, T> {
    /// The one constructor: checks the labels and names the classes and features by number.
    fn checked(features: Array2<T>, labels: Vec<usize>) -> Result<Self, Error> {
        debug_assert_eq!(features.ncols(), D);
        if features.nrows() != labels.len() {
            return Err(Error::LabelCount {
                expected: features.nrows(),
                found: labels.len(),
            });
        }
        if let Some((position, &value)) = labels.iter().enumerate().find(|(_, &c)| c >= C) {
            return Err(Error::LabelRange {
                position,
                value,
                classes: C,
            });
        }
        Ok(Dataset {
            features: features.as_standard_layout().into_owned(),
            labels,
            class_names: (0..C).map(|c| c.to_string()).collect(),
            feature_names: (0..D).map(|j| format!("x{j}")).collect(),
        })
    }

    /// A dataset from the features of every row, one row after the other (`labels.len() · D`
    /// values), and one label per row.
    ///
    /// ```
    /// use gradgen::data::Dataset;
    /// let data = Dataset::<2, 2>::from_vec(vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0], vec![0, 1, 1])?;
    /// assert_eq!(data.len(), 3);
    /// let err = Dataset::<2, 2>::from_vec(vec![0.0; 5], vec![0, 1, 1]).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "feature count mismatch: 3 rows of D = 2 features need 6 values, found 5"
    /// );
    /// # Ok::<(), gradgen::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::FeatureLen`] when there are not `labels.len() · D` values,
    /// [`Error::LabelRange`] for a label `>= C`.
    pub fn from_vec(values: Vec<T>, labels: Vec<usize>) -> Result<Self, Error> {
        let rows = labels.len();
        if values.len() != rows * D {
            return Err(Error::FeatureLen {
                expected: D,
                rows,
                found: values.len(),
                flat: true,
            });
        }
        let features =
            Array2::from_shape_vec((rows, D), values).map_err(|_| Error::FeatureLen {
                expected: D,
                rows,
                found: rows * D,
                flat: true,
            })?;
        Self::checked(features, labels)
    }

    /// A dataset from rows of features (arrays `[T; D]`, `Vec<T>`s or slices) and one label per
    /// row.
    ///
    /// ```
    /// use gradgen::data::Dataset;
    /// let data = Dataset::<2, 3>::from_rows(&[[0.5, 1.0], [2.0, -1.0]], vec![2, 0])?;
    /// assert_eq!(data.labels(), [2, 0]);
    /// let err = Dataset::<2, 3>::from_rows(&[vec![0.5, 1.0], vec![2.0]], vec![2, 0]).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "row length mismatch: row 1 has 1 values, expected 2"
    /// );
    /// # Ok::<(), gradgen::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::RowLen`] for a row that does not have `D` values, [`Error::LabelCount`] when
    /// the number of labels is not the number of rows, [`Error::LabelRange`] for a label
    /// `>= C`.
    pub fn from_rows<Row: AsRef<[T]>>(rows: &[Row], labels: Vec<usize>) -> Result<Self, Error> {
        if let Some((row, values)) = rows.iter().enumerate().find(|(_, r)| r.as_ref().len() != D) {
            return Err(Error::RowLen {
                row,
                expected: D,
                found: values.as_ref().len(),
            });
        }
        let features = Array2::from_shape_fn((rows.len(), D), |(i, j)| rows[i].as_ref()[j]);
        Self::checked(features, labels)
    }

    /// A dataset from an ndarray array of features (one row per sample, `D` columns) and an
    /// array of labels.
    ///
    /// # Errors
    /// [`Error::FeatureLen`] when the array does not have `D` columns, [`Error::LabelCount`]
    /// when the number of labels is not its number of rows, [`Error::LabelRange`] for a label
    /// `>= C`.
    pub fn from_array(features: Array2<T>, labels: Array1<usize>) -> Result<Self, Error> {
        if features.ncols() != D {
            return Err(Error::FeatureLen {
                expected: D,
                rows: features.nrows(),
                found: features.ncols(),
                flat: false,
            });
        }
        Self::checked(features, labels.to_vec())
    }

    /// The number of rows.
    #[must_use]
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no rows.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The features, one row per sample.
    #[must_use]
    pub fn features(&self) -> ArrayView2<'_, T> {
        self.features.view()
    }

    /// The label of every row.
    #[must_use]
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// The features and label of row `i`, or `None` past the end.
    #[must_use]
    pub fn row(&self, i: usize) -> Option<(ArrayView1<'_, T>, usize)> {
        Some((self.features.row(i), *self.labels.get(i)?))
    }

    /// The name of each class, in index order: the names of a CSV label column of names, and
    /// `"0"`, `"1"`, … otherwise.
    #[must_use]
    pub fn class_names(&self) -> &[String] {
        &self.class_names
    }

    /// The name of each feature column: from a CSV header, and `"x0"`, `"x1"`, … otherwise.
    #[must_use]
    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }

    /// How many rows each class has, in index order.
    #[must_use]
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; C];
        for &c in &self.labels {
            counts[c] += 1;
        }
        counts
    }

    /// Reorders the rows at random, reproducibly: the same seed gives the same order.
    pub fn shuffle(&mut self, seed: u64) {
        self.shuffle_with(&mut crate::init::rng(seed));
    }

    /// Reorders the rows with the permutation drawn from `rng`.
    pub fn shuffle_with<G: rand::Rng + ?Sized>(&mut self, rng: &mut G) {
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.shuffle(rng);
        self.reorder(&order);
    }

    /// Keeps the rows at `order`, in that order.
    fn reorder(&mut self, order: &[usize]) {
        self.features = self.features.select(Axis(0), order);
        self.labels = order.iter().map(|&i| self.labels[i]).collect();
    }

    /// Shuffles the rows with `seed`, then splits them into a training part and a test part of
    /// `⌈test_fraction · len⌉` rows (scikit-learn's `train_test_split` count).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] unless `0 ≤ test_fraction ≤ 1`.
    pub fn split(&self, test_fraction: f64, seed: u64) -> Result<(Self, Self), Error> {
        if !(0.0..=1.0).contains(&test_fraction) {
            return Err(Error::InvalidArgument {
                what: "test fraction".to_owned(),
                expected: "a number from 0 to 1",
                found: test_fraction.to_string(),
            });
        }
        let mut shuffled = self.clone();
        shuffled.shuffle(seed);
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let test_len = ((test_fraction * self.len() as f64) - 1e-9).ceil().max(0.0) as usize;
        let train_len = self.len() - test_len.min(self.len());
        let mut test = shuffled.clone();
        test.reorder(&(train_len..self.len()).collect::<Vec<_>>());
        shuffled.reorder(&(0..train_len).collect::<Vec<_>>());
        Ok((shuffled, test))
    }

    /// The whole dataset as one matrix and its labels, when it has exactly `N` rows: for data
    /// whose size you know when you compile.
    ///
    /// # Errors
    /// [`Error::Shape`] naming `N × D` and the dataset's size when it has another number of
    /// rows.
    pub fn to_mats<const N: usize>(&self) -> Result<(Mat<N, D, T>, Labels<N, C>), Error> {
        let x = Mat::from_array(self.features.clone()).map_err(|_| Error::Shape {
            expected: (N, D),
            found: (self.len(), D),
        })?;
        let y = Labels::from_checked(self.labels.iter().copied().map(Some).collect());
        Ok((x, y))
    }
}

impl<const D: usize, const C: usize, T: Scalar> Dataset<D, C, T> {
    /// The class with the highest score for every row, in row order: `forward` is called on
    /// batches of `B` rows (the last one padded with zero rows, whose predictions are dropped).
    pub fn predict<const B: usize>(
        &self,
        mut forward: impl FnMut(&Mat<B, D, T>) -> Mat<B, C, T>,
    ) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.len());
        for (x, y) in self.batches::<B>() {
            let best = forward(&x).argmax_rows();
            out.extend(best.into_iter().take(y.labelled()));
        }
        out
    }

    /// The fraction of rows whose highest score, from `forward` on batches of `B` rows, is at
    /// their label: every row counts once, padding rows not at all.
    pub fn accuracy<const B: usize>(
        &self,
        mut forward: impl FnMut(&Mat<B, D, T>) -> Mat<B, C, T>,
    ) -> Accuracy {
        self.batches::<B>()
            .map(|(x, y)| accuracy(&forward(&x), &y))
            .sum()
    }

    /// The mean of a per-batch loss over every row: `loss` is called on batches of `B` rows and
    /// each batch's value is weighted by its number of labelled rows. This is the mean over the
    /// dataset when `loss` is itself a mean over labelled rows (as `cross_entropy` and
    /// [`labelled_mean`](Mat::labelled_mean) are). 0 for an empty dataset.
    pub fn mean_loss<const B: usize>(
        &self,
        mut loss: impl FnMut(&Mat<B, D, T>, &Labels<B, C>) -> T,
    ) -> T {
        let mut total = T::zero();
        for (x, y) in self.batches::<B>() {
            total += loss(&x, &y) * T::from_usize(y.labelled());
        }
        if self.is_empty() {
            T::zero()
        } else {
            total / T::from_usize(self.len())
        }
    }
}

impl<const D: usize, const C: usize, T: Scalar> fmt::Debug for Dataset<D, C, T> {
    /// `Dataset<4 features, 3 classes, f64> of 150 rows`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Dataset<{D} features, {C} classes, {}> of {} rows",
            T::NAME,
            self.len()
        )
    }
}

/// How many labelled rows a classifier got right.
///
/// Accuracies of batches add up (`+`, `+=`, `sum()`) to the accuracy of the whole.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Accuracy {
    /// Rows whose highest score is at their label.
    pub correct: usize,
    /// Labelled rows counted.
    pub total: usize,
}

impl Accuracy {
    /// `correct / total`, and 0 when no row was counted.
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn fraction(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.correct as f64 / self.total as f64
        }
    }

    /// The [`fraction`](Accuracy::fraction) in percent.
    #[must_use]
    pub fn percent(&self) -> f64 {
        100.0 * self.fraction()
    }
}

impl fmt::Display for Accuracy {
    /// `97.5% (351 of 360)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:.1}% ({} of {})",
            self.percent(),
            self.correct,
            self.total
        )
    }
}

impl Add for Accuracy {
    type Output = Accuracy;
    fn add(self, other: Accuracy) -> Accuracy {
        Accuracy {
            correct: self.correct + other.correct,
            total: self.total + other.total,
        }
    }
}

impl AddAssign for Accuracy {
    fn add_assign(&mut self, other: Accuracy) {
        *self = *self + other;
    }
}

impl std::iter::Sum for Accuracy {
    fn sum<I: Iterator<Item = Accuracy>>(iter: I) -> Accuracy {
        iter.fold(Accuracy::default(), Add::add)
    }
}

/// How many labelled rows of `scores` have their highest score at their label (the first
/// highest on a tie); ignored rows are not counted.
///
/// ```
/// use gradgen::data::accuracy;
/// use gradgen::{Labels, Mat};
/// let scores = Mat::from_rows([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]);
/// let y = Labels::<3, 2>::with_ignored(vec![Some(1), Some(1), None])?;
/// let acc = accuracy(&scores, &y);
/// assert_eq!((acc.correct, acc.total), (1, 2));
/// assert_eq!(acc.to_string(), "50.0% (1 of 2)");
/// # Ok::<(), gradgen::Error>(())
/// ```
#[must_use]
pub fn accuracy<const R: usize, const C: usize, T: Scalar>(
    scores: &Mat<R, C, T>,
    labels: &Labels<R, C>,
) -> Accuracy {
    let best = scores.argmax_rows();
    Accuracy {
        correct: labels
            .labelled_rows()
            .filter(|&(i, class)| best[i] == class)
            .count(),
        total: labels.labelled(),
    }
}
