//! A softmax classifier on Fisher's Iris data, trained with the backward pass that
//! `#[differentiable]` generates from the loss below.
//!
//! ```text
//! cargo run --release --example softmax_classifier
//! cargo run --release --example softmax_classifier -- --plot iris.svg   # and draw the curves
//! ```
//!
//! The data (150 flowers, 4 measurements, 3 species; `examples/data/iris.csv`) is embedded in
//! the binary and read with `gradgen::data`. A seeded 80/20 split holds out 30 flowers for
//! testing; the features are standardised with the training part's mean and standard
//! deviation; the weights start at zero and follow full-batch gradient descent. Before
//! training, the generated gradients are checked against finite differences.
//!
//! `cargo run --release --example softmax_classifier -- --derivation` prints the derivation of
//! the generated backward pass instead.

use std::error::Error;
use std::process::ExitCode;

use gradgen::check::GradCheck;
use gradgen::data::{Accuracy, Dataset};
use gradgen::prelude::*;
use gradgen_suite::cli::Args;
use gradgen_suite::progress::{Progress, Show};

/// Mean cross-entropy of a linear classifier: the loss whose backward gradgen generates.
#[differentiable]
pub fn softmax_loss<const N: usize, const D: usize, const C: usize>(
    x: &Mat<N, D>,
    w: &Mat<D, C>,
    b: &Mat<1, C>,
    y: &Labels<N, C>,
) -> f64 {
    let h = x.matmul(w); // [N x C]
    let score = h.add_row(b); // [N x C], b broadcast over rows
    let correct = score.pick(y); // [N x 1], score[i, y_i]
    let rowsum = score.exp().row_sums(); // [N x 1]
    (rowsum.ln() - correct).mean() // scalar
}

const IRIS: &str = include_str!("data/iris.csv");
const FEATURES: usize = 4;
const CLASSES: usize = 3;
/// 80% of the 150 flowers; `to_mats` checks it at run time.
const TRAIN: usize = 120;
const SEED: u64 = 42;

const EPOCHS: usize = 300;
const LEARNING_RATE: f64 = 0.5;

/// What training reports: the gradient check at the start, the progress (one line per 50
/// epochs), and the final accuracies.
pub struct Outcome {
    pub check: GradCheck,
    pub progress: Progress,
    pub train_accuracy: Accuracy,
    pub test_accuracy: Accuracy,
}

/// Reads the embedded data, trains for `EPOCHS` epochs and evaluates on the held-out flowers.
pub fn train(show: Show) -> Result<Outcome, Box<dyn Error>> {
    let iris = Dataset::<FEATURES, CLASSES>::read_csv(IRIS.as_bytes(), "species")?;
    let (mut train, mut test) = iris.split(0.2, SEED)?;
    train.standardize()?.apply(&mut test);
    // 120 training flowers: one full batch, whose size the type knows.
    let (x, y) = train.to_mats::<TRAIN>()?;

    let mut w = Mat::<FEATURES, CLASSES>::zeros();
    let mut b = Mat::<1, CLASSES>::zeros();
    let check = softmax_loss_gradcheck(&x, &w, &b, &y);
    if !check.passes(1e-6) {
        return Err(
            format!("the generated gradients disagree with finite differences: {check}").into(),
        );
    }
    let mut progress = Progress::new(show, EPOCHS, 50, "test accuracy");
    for epoch in 0..=EPOCHS {
        let grads = softmax_loss_backward(&x, &w, &b, &y, 1.0);
        let accuracy = test.accuracy::<32>(|x| x.matmul(&w).add_row(&b));
        progress.record(epoch, grads.value, accuracy.fraction(), epoch == EPOCHS);
        if epoch < EPOCHS {
            w -= grads.w * LEARNING_RATE;
            b -= grads.b * LEARNING_RATE;
        }
    }
    progress.finish();
    let scores = |x: &Mat<32, FEATURES>| x.matmul(&w).add_row(&b);
    Ok(Outcome {
        check,
        train_accuracy: train.accuracy::<32>(scores),
        test_accuracy: test.accuracy::<32>(scores),
        progress,
    })
}

fn run() -> Result<(), Box<dyn Error>> {
    let args = Args::parse(&["--plot"], &["--derivation"])?;
    if args.has("--derivation") {
        print!(
            "{}",
            SoftmaxLossGrads::<TRAIN, FEATURES, CLASSES>::DERIVATION
        );
        return Ok(());
    }
    println!(
        "softmax classifier on Iris: {TRAIN} training and {} test flowers, {FEATURES} features, {CLASSES} classes",
        150 - TRAIN
    );
    let outcome = train(Show::Live)?;
    println!("{}", outcome.check);
    println!(
        "train accuracy {}, test accuracy {}",
        outcome.train_accuracy, outcome.test_accuracy
    );
    if let Some(path) = &args.plot {
        outcome.progress.plot(path, "softmax classifier on Iris")?;
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
