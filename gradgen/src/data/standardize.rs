//! Standardising features: fitted on the training rows, applied to any rows.

use ndarray::{ArrayView2, ArrayViewMut2, Axis};

use super::Dataset;
use crate::{Error, Mat, Scalar, Tensors};

/// The mean and standard deviation of each feature, fitted on a training set: applying it maps
/// each feature `x` to `(x − mean) / std`, so that the training features have mean 0 and
/// variance 1 (the population variance, as scikit-learn's `StandardScaler`). A feature that is
/// constant on the training set keeps `std = 1`: it is only centred.
///
/// Fit it on the training part only and apply the same one to the test part and to new inputs,
/// so that nothing about the test rows leaks into training. It is a [`Tensors`] (`mean`,
/// `std`), so [`weights::save`](crate::weights::save) can keep it next to the weights.
///
/// ```
/// use gradgen::data::{Dataset, Standardizer};
/// use gradgen::Mat;
/// let mut train = Dataset::<2, 2>::from_rows(&[[1.0, 5.0], [3.0, 5.0]], vec![0, 1])?;
/// let mut test = Dataset::<2, 2>::from_rows(&[[5.0, 6.0]], vec![1])?;
/// let scaler = train.standardize()?;
/// scaler.apply(&mut test);
/// assert_eq!(train.features().row(0).to_vec(), [-1.0, 0.0]);
/// assert_eq!(test.features().row(0).to_vec(), [3.0, 1.0]); // (5 − 2) / 1, (6 − 5) / 1
/// assert_eq!(scaler.transform(&Mat::from_rows([[2.0, 7.0]])), Mat::from_rows([[0.0, 2.0]]));
/// # Ok::<(), gradgen::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Standardizer<const D: usize, T: Scalar = f64> {
    /// The mean of each feature on the rows it was fitted on.
    pub mean: Mat<1, D, T>,
    /// The standard deviation of each feature (1 where it was 0).
    pub std: Mat<1, D, T>,
}

impl<const D: usize, T: Scalar> Standardizer<D, T> {
    /// Fits the mean and standard deviation of each feature of `data`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `data` has no rows.
    pub fn fit<const C: usize>(data: &Dataset<D, C, T>) -> Result<Self, Error> {
        if data.is_empty() {
            return Err(Error::InvalidArgument {
                what: "dataset to fit a standardizer on".to_owned(),
                expected: "at least one row",
                found: "no rows".to_owned(),
            });
        }
        let n = T::from_usize(data.len());
        let mean = data.features.sum_axis(Axis(0)) / n;
        let mut var = ndarray::Array1::<T>::zeros(D);
        for row in data.features.rows() {
            for j in 0..D {
                let d = row[j] - mean[j];
                var[j] += d * d;
            }
        }
        Ok(Standardizer {
            mean: Mat::from_fn(|_, j| mean[j]),
            std: Mat::from_fn(|_, j| {
                let std = (var[j] / n).sqrt();
                if std > T::zero() {
                    std
                } else {
                    T::one()
                }
            }),
        })
    }

    /// Standardises every row of `data` in place.
    pub fn apply<const C: usize>(&self, data: &mut Dataset<D, C, T>) {
        self.apply_to(data.features.view_mut());
    }

    /// A standardised copy of `x`: for new inputs at prediction time.
    #[must_use]
    pub fn transform<const N: usize>(&self, x: &Mat<N, D, T>) -> Mat<N, D, T> {
        let mut out = x.clone();
        self.apply_to(out.view_mut());
        out
    }

    fn apply_to(&self, mut rows: ArrayViewMut2<'_, T>) {
        for mut row in rows.rows_mut() {
            for j in 0..D {
                row[j] = (row[j] - self.mean[(0, j)]) / self.std[(0, j)];
            }
        }
    }
}

impl<const D: usize, const C: usize, T: Scalar> Dataset<D, C, T> {
    /// Fits a [`Standardizer`] on these rows, applies it to them, and returns it to apply to
    /// the test rows.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when there are no rows.
    pub fn standardize(&mut self) -> Result<Standardizer<D, T>, Error> {
        let scaler = Standardizer::fit(self)?;
        scaler.apply(self);
        Ok(scaler)
    }
}

impl<const D: usize, T: Scalar> Tensors for Standardizer<D, T> {
    type Elem = T;

    fn for_each(&self, f: &mut dyn FnMut(&str, ArrayView2<'_, T>)) {
        f("mean", self.mean.view());
        f("std", self.std.view());
    }

    fn for_each_mut(&mut self, f: &mut dyn FnMut(&str, ArrayViewMut2<'_, T>)) {
        f("mean", self.mean.view_mut());
        f("std", self.std.view_mut());
    }
}
