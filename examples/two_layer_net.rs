//! A two-layer ReLU network with a softmax loss and L2 regularisation, trained with plain
//! full-batch gradient descent on a three-armed spiral that the example generates.
//!
//! ```text
//! cargo run --release --example two_layer_net
//! ```
//!
//! The backward pass is the one `#[differentiable]` generates from `mlp_loss`. A linear
//! classifier cannot separate the spiral's arms (about 50% accuracy); the hidden layer can.

use gradgen::prelude::*;
use gradgen_suite::data::{spiral, Rng};

/// Mean cross-entropy of a ReLU network with one hidden layer, plus `reg · (‖W1‖² + ‖W2‖²)`.
///
/// Generic over the element type: the example trains in f64, the tests also check f32.
#[differentiable(wrt(w1, b1, w2, b2))]
pub fn mlp_loss<T: Scalar, const N: usize, const D: usize, const H: usize, const C: usize>(
    x: &Mat<N, D, T>,
    w1: &Mat<D, H, T>,
    b1: &Mat<1, H, T>,
    w2: &Mat<H, C, T>,
    b2: &Mat<1, C, T>,
    y: &Labels<N, C>,
    reg: T,
) -> T {
    let hidden = x.matmul(w1).add_row(b1).relu(); // [N x H]
    let scores = hidden.matmul(w2).add_row(b2); // [N x C]
    let data_loss = scores.cross_entropy(y); // scalar
    let l2 = w1.square().sum() + w2.square().sum();
    data_loss + reg * l2
}

pub const PER_CLASS: usize = 100;
pub const CLASSES: usize = 3;
pub const N: usize = PER_CLASS * CLASSES;
pub const HIDDEN: usize = 100;
const EPOCHS: usize = 10_000;
const LEARNING_RATE: f64 = 1.0;
const REG: f64 = 1e-3;

/// The fraction of points whose highest score is at their label.
pub fn accuracy(
    x: &Mat<N, 2>,
    w1: &Mat<2, HIDDEN>,
    b1: &Mat<1, HIDDEN>,
    w2: &Mat<HIDDEN, CLASSES>,
    b2: &Mat<1, CLASSES>,
    y: &Labels<N, CLASSES>,
) -> f64 {
    let scores = x.matmul(w1).add_row(b1).relu().matmul(w2).add_row(b2);
    let correct = (0..N)
        .filter(|&i| {
            let best = (0..CLASSES)
                .max_by(|&p, &q| scores[(i, p)].total_cmp(&scores[(i, q)]))
                .unwrap_or(0);
            best == y[i]
        })
        .count();
    correct as f64 / N as f64
}

/// What training reports.
pub struct Outcome {
    pub check: gradgen::check::GradCheck,
    pub progress: Vec<String>,
    pub train_accuracy: f64,
}

/// The generated gradients against finite differences, on every tenth point and at random
/// weights of unit scale. Finite differences are wrong where a step crosses a ReLU kink; at the
/// small initial weights many hidden units sit within a step of theirs, at unit scale on 30
/// points almost none do.
pub fn gradient_check(
    x: &Mat<N, 2>,
    y: &Labels<N, CLASSES>,
    rng: &mut Rng,
) -> Result<gradgen::check::GradCheck, gradgen::Error> {
    const M: usize = N / 10;
    let xs = Mat::<M, 2>::from_fn(|i, j| x[(10 * i, j)]);
    let ys = Labels::<M, CLASSES>::new((0..M).map(|i| y[10 * i]).collect())?;
    let w1 = Mat::<2, HIDDEN>::from_fn(|_, _| rng.normal());
    let b1 = Mat::<1, HIDDEN>::from_fn(|_, _| rng.normal());
    let w2 = Mat::<HIDDEN, CLASSES>::from_fn(|_, _| rng.normal());
    let b2 = Mat::<1, CLASSES>::from_fn(|_, _| rng.normal());
    Ok(mlp_loss_gradcheck(&xs, &w1, &b1, &w2, &b2, &ys, REG))
}

pub fn train() -> Result<Outcome, gradgen::Error> {
    let mut rng = Rng::new(7);
    let (x, y) = spiral::<N, CLASSES>(&mut rng)?;
    let mut w1 = Mat::<2, HIDDEN>::from_fn(|_, _| 0.01 * rng.normal());
    let mut b1 = Mat::<1, HIDDEN>::zeros();
    let mut w2 = Mat::<HIDDEN, CLASSES>::from_fn(|_, _| 0.01 * rng.normal());
    let mut b2 = Mat::<1, CLASSES>::zeros();
    let check = gradient_check(&x, &y, &mut rng)?;
    let mut progress = Vec::new();
    for epoch in 0..=EPOCHS {
        let grads = mlp_loss_backward(&x, &w1, &b1, &w2, &b2, &y, REG, 1.0);
        if epoch % 2000 == 0 {
            progress.push(format!(
                "epoch {epoch:>4}  loss {:.4}  train accuracy {:>5.1}%",
                grads.value,
                100.0 * accuracy(&x, &w1, &b1, &w2, &b2, &y)
            ));
        }
        if epoch < EPOCHS {
            w1 -= grads.w1 * LEARNING_RATE;
            b1 -= grads.b1 * LEARNING_RATE;
            w2 -= grads.w2 * LEARNING_RATE;
            b2 -= grads.b2 * LEARNING_RATE;
        }
    }
    Ok(Outcome {
        check,
        progress,
        train_accuracy: accuracy(&x, &w1, &b1, &w2, &b2, &y),
    })
}

fn main() -> Result<(), gradgen::Error> {
    println!(
        "two-layer ReLU net on a {CLASSES}-arm spiral: {N} points, {HIDDEN} hidden units, L2 {REG}, step {LEARNING_RATE}"
    );
    let outcome = train()?;
    println!("{}", outcome.check);
    for line in &outcome.progress {
        println!("{line}");
    }
    println!("training accuracy {:.1}%", 100.0 * outcome.train_accuracy);
    Ok(())
}
