//! Data-parallel minibatches, for models too small for threaded matrix products: a batch split
//! into shards of equal size, each shard's generated backward on a core of its own, and the
//! gradients averaged.
//!
//! The products of a small model (an RNN's 64 × 128 state, say) are below the size where
//! gradgen shares them among threads, so they run on one core. Splitting the batch
//! instead keeps every core busy: [`shard_rows`] and [`shard_labels`] cut a batch into shards,
//! and [`mean_over_shards`] runs a backward on each shard (on rayon's thread pool) and returns
//! the mean of the values and of the gradients.
//!
//! For a loss that is a mean over the rows (`mean`, `cross_entropy`, `mse`, …) and shards of
//! equal size, that mean is the value and the gradient of one backward over the whole batch,
//! within rounding. The gradients averaged are those of what every shard shares, the weights: a
//! model's `<Model>Grads`, or a function's gradients with `wrt` naming only its weights. (The
//! gradient of an input split between the shards is not an average; differentiate it over the
//! whole batch.) With ignored labels, the mean over each shard's labelled rows is only the
//! batch's mean when every shard has as many labelled rows.
//!
//! The result does not depend on the number of threads: the shards' results are added in shard
//! order, whichever thread computed them. `RAYON_NUM_THREADS=1` runs the shards one after the
//! other.
//!
//! ```
//! use gradgen::parallel::{mean_over_shards, shard_labels, shard_rows};
//! use gradgen::prelude::*;
//!
//! #[differentiable(wrt(w))]
//! fn loss<const N: usize>(x: &Mat<N, 3>, w: &Mat<3, 2>, y: &Labels<N, 2>) -> f64 {
//!     x.matmul(w).cross_entropy(y)
//! }
//!
//! let x = Mat::<8, 3>::from_fn(|i, j| (i as f64 - 3.5) * (j as f64 + 1.0) / 10.0);
//! let y = Labels::<8, 2>::new(vec![0, 1, 1, 0, 1, 0, 0, 1])?;
//! let w = Mat::<3, 2>::from_fn(|i, j| 0.1 * (i + 2 * j) as f64);
//!
//! // Two shards of 4 rows, each on a core of its own.
//! let xs: Vec<Mat<4, 3>> = shard_rows(&x)?;
//! let ys: Vec<Labels<4, 2>> = shard_labels(&y)?;
//! let shards: Vec<_> = xs.iter().zip(&ys).collect();
//! let (value, grads) = mean_over_shards(&shards, |&(x, y)| {
//!     let g = loss_backward(x, &w, y, 1.0);
//!     (g.value, g)
//! })?;
//!
//! let whole = loss_backward(&x, &w, &y, 1.0);
//! assert!((value - whole.value).abs() < 1e-12);
//! assert!((&grads.w - &whole.w).as_array().iter().all(|d| d.abs() < 1e-12));
//! # Ok::<(), gradgen::Error>(())
//! ```

use rayon::prelude::*;

use crate::{Error, Labels, Mat, Scalar, Tensors};

/// The rows of `x` in shards of `M` rows, in order: `N / M` shards.
///
/// # Errors
/// [`Error::InvalidArgument`] when `M` is 0 or does not divide `N`.
pub fn shard_rows<const N: usize, const M: usize, const D: usize, T: Scalar>(
    x: &Mat<N, D, T>,
) -> Result<Vec<Mat<M, D, T>>, Error> {
    shard_count(N, M)?;
    Ok((0..N / M)
        .map(|s| Mat::from_fn(|i, j| x[(s * M + i, j)]))
        .collect())
}

/// The labels of `y` in shards of `M` rows, in order, each keeping its ignored rows.
///
/// # Errors
/// [`Error::InvalidArgument`] when `M` is 0 or does not divide `N`.
pub fn shard_labels<const N: usize, const M: usize, const C: usize>(
    y: &Labels<N, C>,
) -> Result<Vec<Labels<M, C>>, Error> {
    shard_count(N, M)?;
    y.as_slice()
        .chunks(M)
        .map(|rows| Labels::with_ignored(rows.to_vec()))
        .collect()
}

fn shard_count(n: usize, m: usize) -> Result<usize, Error> {
    if m == 0 || !n.is_multiple_of(m) {
        return Err(Error::InvalidArgument {
            what: format!("a shard of {m} rows, for a batch of {n} rows"),
            expected:
                "a shard size that divides the batch size, so that every shard has as many rows",
            found: format!("{m}"),
        });
    }
    Ok(n / m)
}

/// Runs `backward` on every shard, the shards spread over rayon's threads, and returns the mean
/// of the values and of the gradients it returned. See the [module documentation](self) for
/// when that is the whole batch's gradient.
///
/// # Errors
/// [`Error::InvalidArgument`] when `shards` is empty.
pub fn mean_over_shards<S, G>(
    shards: &[S],
    backward: impl Fn(&S) -> (G::Elem, G) + Sync,
) -> Result<(G::Elem, G), Error>
where
    S: Sync,
    G: Tensors + Send,
{
    // In shard order, whichever thread ran each: the sums do not depend on the thread count.
    let results: Vec<(G::Elem, G)> = shards.par_iter().map(&backward).collect();
    let mut results = results.into_iter();
    let Some((mut value, mut grads)) = results.next() else {
        return Err(Error::InvalidArgument {
            what: "the shards given to mean_over_shards".to_owned(),
            expected: "at least one shard",
            found: "none".to_owned(),
        });
    };
    for (v, g) in results {
        value += v;
        grads.accumulate(&g);
    }
    let n = <G::Elem as Scalar>::from_usize(shards.len());
    grads.scale(<G::Elem as num_traits::One>::one() / n);
    Ok((value / n, grads))
}
