//! Training-mode batch normalisation written as `let` bindings, and a comparison of the backward
//! pass that `#[differentiable]` generates with the closed-form batch-norm backward.
//!
//! ```text
//! cargo run --release --example batchnorm
//! ```
//!
//! The loss is `Σ out ∘ G` for a fixed random `G`, so the gradient flowing into `out` is `G`,
//! as it would be from any later layer.

use gradgen::init;
use gradgen::prelude::*;

/// Batch norm of `x` over its rows (the batch), scaled by `gamma` and shifted by `beta`,
/// followed by `Σ out ∘ g`.
#[differentiable(wrt(x, gamma, beta))]
pub fn batchnorm_loss<T: Scalar, const N: usize, const D: usize>(
    x: &Mat<N, D, T>,
    gamma: &Mat<1, D, T>,
    beta: &Mat<1, D, T>,
    g: &Mat<N, D, T>,
    eps: T,
) -> T {
    let mu = x.col_means(); // [1 x D] mean of each feature over the batch
    let xc = x.sub_row(&mu); // [N x D] centred
    let var = xc.square().col_means(); // [1 x D] biased variance
    let inv_std = (var + eps).sqrt().powi(-1); // [1 x D]
    let xhat = xc.mul_row(&inv_std); // [N x D] normalised
    let out = xhat.mul_row(gamma).add_row(beta); // [N x D]
    (out * g).sum()
}

/// The closed-form backward of batch norm, as derived by hand:
/// `dx̂ = dout ∘ γ`, `dx = (1/N) · inv_std ∘ (N·dx̂ − Σ dx̂ − x̂ ∘ Σ (dx̂ ∘ x̂))`,
/// `dγ = Σ dout ∘ x̂`, `dβ = Σ dout` (sums over the batch). Written with plain loops.
pub struct ClosedForm<const N: usize, const D: usize> {
    pub x: Mat<N, D>,
    pub gamma: Mat<1, D>,
    pub beta: Mat<1, D>,
}

pub fn closed_form<const N: usize, const D: usize>(
    x: &Mat<N, D>,
    gamma: &Mat<1, D>,
    dout: &Mat<N, D>,
    eps: f64,
) -> ClosedForm<N, D> {
    let n = N as f64;
    let mut dx = Mat::zeros();
    let mut dgamma = Mat::zeros();
    let mut dbeta = Mat::zeros();
    for j in 0..D {
        let mean = (0..N).map(|i| x[(i, j)]).sum::<f64>() / n;
        let var = (0..N).map(|i| (x[(i, j)] - mean).powi(2)).sum::<f64>() / n;
        let inv_std = 1.0 / (var + eps).sqrt();
        let xhat: Vec<f64> = (0..N).map(|i| (x[(i, j)] - mean) * inv_std).collect();
        let dxhat: Vec<f64> = (0..N).map(|i| dout[(i, j)] * gamma[(0, j)]).collect();
        let sum_dxhat: f64 = dxhat.iter().sum();
        let sum_dxhat_xhat: f64 = dxhat.iter().zip(&xhat).map(|(d, h)| d * h).sum();
        for i in 0..N {
            dx[(i, j)] = inv_std / n * (n * dxhat[i] - sum_dxhat - xhat[i] * sum_dxhat_xhat);
            dgamma[(0, j)] += dout[(i, j)] * xhat[i];
            dbeta[(0, j)] += dout[(i, j)];
        }
    }
    ClosedForm {
        x: dx,
        gamma: dgamma,
        beta: dbeta,
    }
}

/// The largest absolute difference between two matrices.
pub fn max_abs_diff<const R: usize, const C: usize>(a: &Mat<R, C>, b: &Mat<R, C>) -> f64 {
    a.to_vec()
        .iter()
        .zip(b.to_vec())
        .map(|(p, q)| (p - q).abs())
        .fold(0.0, f64::max)
}

const N: usize = 64;
const D: usize = 16;
const EPS: f64 = 1e-5;

/// A seeded random matrix with entries uniform in [-1, 1).
fn noise<const R: usize, const C: usize>(rng: &mut init::SeededRng) -> Mat<R, C> {
    init::uniform(rng, -1.0, 1.0).expect("a valid range")
}

/// The example's batch: features with different scales and offsets, as real activations have.
pub fn batch() -> (Mat<N, D>, Mat<1, D>, Mat<1, D>, Mat<N, D>) {
    let mut rng = init::rng(1);
    let base: Mat<N, D> = noise(&mut rng);
    let x = Mat::<N, D>::from_fn(|i, j| 3.0 * base[(i, j)] * (1.0 + j as f64) + j as f64);
    let gamma = noise::<1, D>(&mut rng) * 0.5 + 1.0;
    let beta = noise(&mut rng);
    let g = noise(&mut rng);
    (x, gamma, beta, g)
}

/// The largest difference between the generated and the closed-form gradients, per input.
pub fn compare() -> [(&'static str, f64); 3] {
    let (x, gamma, beta, g) = batch();
    let generated = batchnorm_loss_backward(&x, &gamma, &beta, &g, EPS, 1.0);
    let hand = closed_form(&x, &gamma, &g, EPS);
    [
        ("x", max_abs_diff(&generated.x, &hand.x)),
        ("gamma", max_abs_diff(&generated.gamma, &hand.gamma)),
        ("beta", max_abs_diff(&generated.beta, &hand.beta)),
    ]
}

fn main() {
    let (x, gamma, beta, g) = batch();
    println!("{}", batchnorm_loss_gradcheck(&x, &gamma, &beta, &g, EPS));
    println!("batch norm of a {N} × {D} batch: generated backward vs the closed form");
    let mut agree = true;
    for (input, diff) in compare() {
        println!("  d{input:<6} max |generated − closed form| = {diff:.2e}");
        agree &= diff < 1e-9;
    }
    if agree {
        println!("the generated gradients equal the closed-form batch-norm backward within 1e-9");
    } else {
        println!("the generated gradients DIFFER from the closed form");
        std::process::exit(1);
    }
}
