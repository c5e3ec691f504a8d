//! Initial weights from a seed: He (Kaiming), Xavier (Glorot), normal and uniform.
//!
//! Every function draws from a random generator that you pass, so one seed can initialise a
//! whole model and reproduce it exactly: [`rng`] makes the generator from a `u64` seed
//! (xoshiro256++, whose output the `rand` crate guarantees to be the same on every platform and
//! in every version). Any other generator of the `rand` crate, re-exported as
//! [`gradgen::rand`](crate::rand), works too.
//!
//! A weight `w: Mat<R, C>` is taken to be used as `x.matmul(&w)`, with `x` of shape `[N × R]`:
//! its fan-in is `R` and its fan-out `C`. (PyTorch stores a linear layer's weight transposed,
//! `[out × in]`; the formulas are the same.) Values are drawn in `f64` and rounded to `T`, so an
//! `f32` matrix from a seed is the `f64` one rounded.
//!
//! ```
//! use gradgen::{init, Mat};
//!
//! let mut rng = init::rng(42);
//! let w1: Mat<64, 128> = init::he_normal(&mut rng); // before a ReLU
//! let w2: Mat<128, 10> = init::xavier_uniform(&mut rng); // before a softmax
//! let b: Mat<1, 128> = Mat::zeros(); // biases usually start at zero
//! let noise: Mat<4, 3> = init::normal(&mut rng, 0.0, 0.01)?;
//! assert_eq!(init::he_normal::<64, 128, f64, _>(&mut init::rng(42)), w1); // the same seed, the same weights
//! # let _ = (w2, b, noise);
//! # Ok::<(), gradgen::Error>(())
//! ```

use rand::distr::{Distribution, Uniform};
use rand::SeedableRng;
use rand_distr::Normal;

use crate::{Error, Mat, Scalar};

/// The seeded generator [`rng`] returns: xoshiro256++, reproducible across platforms and
/// versions of `rand`.
pub type SeededRng = rand::rngs::Xoshiro256PlusPlus;

/// A generator seeded with `seed`: the same seed gives the same draws, everywhere.
#[must_use]
pub fn rng(seed: u64) -> SeededRng {
    SeededRng::seed_from_u64(seed)
}

fn sample<const R: usize, const C: usize, T: Scalar, G, D>(rng: &mut G, dist: &D) -> Mat<R, C, T>
where
    G: rand::Rng + ?Sized,
    D: Distribution<f64>,
{
    Mat::from_fn(|_, _| T::from_f64(dist.sample(rng)))
}

/// Each entry drawn from the normal distribution of this mean and standard deviation.
///
/// # Errors
/// [`Error::InvalidArgument`] when `std` is negative or either is not finite.
pub fn normal<const R: usize, const C: usize, T: Scalar, G: rand::Rng + ?Sized>(
    rng: &mut G,
    mean: f64,
    std: f64,
) -> Result<Mat<R, C, T>, Error> {
    if !(mean.is_finite() && std.is_finite() && std >= 0.0) {
        return Err(Error::InvalidArgument {
            what: "normal distribution".to_owned(),
            expected: "a finite mean and a finite standard deviation ≥ 0",
            found: format!("mean {mean}, standard deviation {std}"),
        });
    }
    let dist = Normal::new(mean, std).map_err(|e| Error::InvalidArgument {
        what: "normal distribution".to_owned(),
        expected: "a finite mean and a finite standard deviation ≥ 0",
        found: e.to_string(),
    })?;
    Ok(sample(rng, &dist))
}

/// Each entry drawn uniformly from `[low, high)`.
///
/// # Errors
/// [`Error::InvalidArgument`] unless `low < high`, both finite.
pub fn uniform<const R: usize, const C: usize, T: Scalar, G: rand::Rng + ?Sized>(
    rng: &mut G,
    low: f64,
    high: f64,
) -> Result<Mat<R, C, T>, Error> {
    let dist = Uniform::new(low, high).map_err(|_| Error::InvalidArgument {
        what: "uniform range".to_owned(),
        expected: "finite bounds with low < high",
        found: format!("[{low}, {high})"),
    })?;
    Ok(sample(rng, &dist))
}

#[allow(clippy::cast_precision_loss)]
fn normal_with_std<const R: usize, const C: usize, T: Scalar, G: rand::Rng + ?Sized>(
    rng: &mut G,
    variance_numerator: f64,
    fan: usize,
) -> Mat<R, C, T> {
    if fan == 0 {
        return Mat::zeros();
    }
    let std = (variance_numerator / fan as f64).sqrt();
    sample(
        rng,
        &Normal::new(0.0, std).expect("a positive finite standard deviation"),
    )
}

#[allow(clippy::cast_precision_loss)]
fn uniform_with_bound<const R: usize, const C: usize, T: Scalar, G: rand::Rng + ?Sized>(
    rng: &mut G,
    numerator: f64,
    fan: usize,
) -> Mat<R, C, T> {
    if fan == 0 {
        return Mat::zeros();
    }
    let bound = (numerator / fan as f64).sqrt();
    sample(
        rng,
        &Uniform::new(-bound, bound).expect("a positive finite bound"),
    )
}

/// He (Kaiming) normal initialisation, for a weight followed by a ReLU: each entry from
/// `N(0, 2 / fan_in)`, with `fan_in = R`. PyTorch's `kaiming_normal_` with its defaults.
#[must_use]
pub fn he_normal<const R: usize, const C: usize, T: Scalar, G: rand::Rng + ?Sized>(
    rng: &mut G,
) -> Mat<R, C, T> {
    normal_with_std(rng, 2.0, R)
}

/// He (Kaiming) uniform initialisation: each entry from `U(−b, b)` with `b = √(6 / fan_in)`,
/// `fan_in = R` (the same variance as [`he_normal`]).
#[must_use]
pub fn he_uniform<const R: usize, const C: usize, T: Scalar, G: rand::Rng + ?Sized>(
    rng: &mut G,
) -> Mat<R, C, T> {
    uniform_with_bound(rng, 6.0, R)
}

/// Xavier (Glorot) normal initialisation, for a weight followed by tanh, sigmoid or softmax:
/// each entry from `N(0, 2 / (fan_in + fan_out))`, with `fan_in = R`, `fan_out = C`.
#[must_use]
pub fn xavier_normal<const R: usize, const C: usize, T: Scalar, G: rand::Rng + ?Sized>(
    rng: &mut G,
) -> Mat<R, C, T> {
    normal_with_std(rng, 2.0, R + C)
}

/// Xavier (Glorot) uniform initialisation: each entry from `U(−b, b)` with
/// `b = √(6 / (fan_in + fan_out))`, `fan_in = R`, `fan_out = C`.
#[must_use]
pub fn xavier_uniform<const R: usize, const C: usize, T: Scalar, G: rand::Rng + ?Sized>(
    rng: &mut G,
) -> Mat<R, C, T> {
    uniform_with_bound(rng, 6.0, R + C)
}
