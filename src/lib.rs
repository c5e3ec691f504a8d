//! The workspace's root package: it owns the integration tests (`tests/`) and the runnable
//! models (`examples/`) of gradgen, and publishes nothing. The library is the `gradgen` crate;
//! this one only holds what several examples share: the spiral data set, the command-line
//! options, and the training progress (a bar or plain lines, and a plot). The progress bar
//! (`indicatif`) and the plot (`plotters`) are dependencies of this package, not of `gradgen`,
//! whose users need neither.

pub mod cli;
pub mod progress;

use gradgen::{Labels, Mat};

/// `C` spiral arms of `N / C` points each in the plane, with a little angular noise drawn from
/// `seed`: a classic that no linear classifier separates.
///
/// # Errors
/// When `C` does not divide `N` (the points do not fill the matrix).
#[allow(clippy::cast_precision_loss)]
pub fn spiral<const N: usize, const C: usize>(
    seed: u64,
) -> Result<(Mat<N, 2>, Labels<N, C>), gradgen::Error> {
    let noise: Mat<N, 1> = gradgen::init::normal(&mut gradgen::init::rng(seed), 0.0, 0.2)?;
    let per_class = N / C;
    let mut points = Vec::with_capacity(2 * N);
    let mut labels = Vec::with_capacity(N);
    for class in 0..C {
        for i in 0..per_class {
            let r = i as f64 / (per_class.max(2) - 1) as f64;
            let t = 4.0 * (class as f64 + r) + noise[(labels.len(), 0)];
            points.extend([r * t.sin(), r * t.cos()]);
            labels.push(class);
        }
    }
    Ok((Mat::from_vec(points)?, Labels::new(labels)?))
}
