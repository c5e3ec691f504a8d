//! A two-layer ReLU network with a softmax loss and L2 regularisation, trained with plain
//! full-batch gradient descent on a three-armed spiral that the example generates.
//!
//! ```text
//! cargo run --release --example two_layer_net
//! cargo run --release --example two_layer_net -- --plot spiral.svg   # and draw the curves
//! ```
//!
//! The backward pass is the one `#[differentiable]` generates from `mlp_loss`; `gradgen::optim`'s
//! SGD applies it to the weights, gathered in the generated `MlpLossParams`. A linear classifier
//! cannot separate the spiral's arms (about 50% accuracy); the hidden layer can.

use std::process::ExitCode;

use gradgen::check::GradCheck;
use gradgen::data::accuracy;
use gradgen::init::{self, SeededRng};
use gradgen::optim::Sgd;
use gradgen::prelude::*;
use gradgen_suite::cli::Args;
use gradgen_suite::progress::{Progress, Show};
use gradgen_suite::spiral;

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
pub const SEED: u64 = 7;
const EPOCHS: usize = 10_000;
const LEARNING_RATE: f64 = 1.0;
const REG: f64 = 1e-3;

/// The weights of `mlp_loss` on the spiral: the generated struct of its differentiable inputs.
pub type Weights = MlpLossParams<f64, 2, HIDDEN, CLASSES>;

/// The class scores of every point.
pub fn scores(x: &Mat<N, 2>, p: &Weights) -> Mat<N, CLASSES> {
    x.matmul(&p.w1)
        .add_row(&p.b1)
        .relu()
        .matmul(&p.w2)
        .add_row(&p.b2)
}

/// Small random weights (`N(0, 0.01²)`) and zero biases, from the generator.
///
/// # Errors
/// Never: the standard deviation is valid.
pub fn initial_weights(rng: &mut SeededRng) -> Result<Weights, gradgen::Error> {
    Ok(MlpLossParams {
        w1: init::normal(rng, 0.0, 0.01)?,
        b1: Mat::zeros(),
        w2: init::normal(rng, 0.0, 0.01)?,
        b2: Mat::zeros(),
    })
}

/// What training reports.
pub struct Outcome {
    pub check: GradCheck,
    pub progress: Progress,
    pub train_accuracy: f64,
}

/// The generated gradients against finite differences, on every tenth point and at random
/// weights of unit scale. Finite differences are wrong where a step crosses a ReLU kink; at the
/// small initial weights many hidden units sit within a step of theirs, at unit scale on 30
/// points almost none do.
///
/// # Errors
/// Never: the labels come from a valid set.
pub fn gradient_check(
    x: &Mat<N, 2>,
    y: &Labels<N, CLASSES>,
    rng: &mut SeededRng,
) -> Result<GradCheck, gradgen::Error> {
    const M: usize = N / 10;
    let xs = Mat::<M, 2>::from_fn(|i, j| x[(10 * i, j)]);
    let ys = Labels::<M, CLASSES>::new((0..M).map(|i| y[10 * i]).collect())?;
    let w1: Mat<2, HIDDEN> = init::normal(rng, 0.0, 1.0)?;
    let b1: Mat<1, HIDDEN> = init::normal(rng, 0.0, 1.0)?;
    let w2: Mat<HIDDEN, CLASSES> = init::normal(rng, 0.0, 1.0)?;
    let b2: Mat<1, CLASSES> = init::normal(rng, 0.0, 1.0)?;
    Ok(mlp_loss_gradcheck(&xs, &w1, &b1, &w2, &b2, &ys, REG))
}

/// Trains on the spiral for `EPOCHS` full-batch steps.
///
/// # Errors
/// Never: the generated data is well-formed and the optimizer sees one set of weights.
pub fn train(show: Show) -> Result<Outcome, gradgen::Error> {
    let (x, y) = spiral::<N, CLASSES>(SEED)?;
    let mut rng = init::rng(SEED);
    let mut weights = initial_weights(&mut rng)?;
    let check = gradient_check(&x, &y, &mut rng)?;
    let mut sgd = Sgd::new(LEARNING_RATE);
    let mut progress = Progress::new(show, EPOCHS, 2000, "train accuracy");
    for epoch in 0..=EPOCHS {
        let p = &weights;
        let grads = mlp_loss_backward(&x, &p.w1, &p.b1, &p.w2, &p.b2, &y, REG, 1.0);
        if epoch.is_multiple_of(50) {
            let train_accuracy = accuracy(&scores(&x, p), &y).fraction();
            progress.record(epoch, grads.value, train_accuracy, epoch == EPOCHS);
        }
        if epoch < EPOCHS {
            sgd.step(&mut weights, &grads)?;
        }
    }
    progress.finish();
    Ok(Outcome {
        check,
        train_accuracy: accuracy(&scores(&x, &weights), &y).fraction(),
        progress,
    })
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse(&["--plot"], &[])?;
    println!(
        "two-layer ReLU net on a {CLASSES}-arm spiral: {N} points, {HIDDEN} hidden units, L2 {REG}, step {LEARNING_RATE}"
    );
    let outcome = train(Show::Live)?;
    println!("{}", outcome.check);
    println!("training accuracy {:.1}%", 100.0 * outcome.train_accuracy);
    if let Some(path) = &args.plot {
        outcome
            .progress
            .plot(path, "two-layer ReLU net on a spiral")?;
        println!("curves drawn to {}", path.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
