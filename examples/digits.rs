//! A two-layer ReLU network that reads handwritten digits, trained from a CSV file whose row
//! count is known only at run time.
//!
//! ```text
//! cargo run --release --example digits                      # train, then report test accuracy
//! cargo run --release --example digits -- --save digits.safetensors --plot digits.svg
//! cargo run --release --example digits -- --load digits.safetensors   # evaluate, no training
//! ```
//!
//! The data (`examples/data/digits.csv`, 1,797 images of 8 × 8 pixels; see
//! `examples/data/README.md`) is split 80/20 with a seed, its pixels are standardised with the
//! training part's statistics, and the network is trained with Adam on batches of 32 rows that
//! cover every training row each epoch (the last batch is padded, and its padding rows carry no
//! label). The weights start from He initialisation with a seed, so every run is the same.

use std::path::Path;
use std::process::ExitCode;

use gradgen::data::{Accuracy, Dataset};
use gradgen::optim::Adam;
use gradgen::prelude::*;
use gradgen::{init, weights};
use gradgen_suite::cli::Args;
use gradgen_suite::progress::{Progress, Show};

/// A ReLU layer of `H` units between `D` inputs and `C` classes.
#[model]
pub struct Mlp<const D: usize, const H: usize, const C: usize> {
    pub w1: Mat<D, H>,
    pub b1: Mat<1, H>,
    pub w2: Mat<H, C>,
    pub b2: Mat<1, C>,
}

#[differentiable]
impl<const D: usize, const H: usize, const C: usize> Mlp<D, H, C> {
    /// Mean cross-entropy over the labelled rows of a batch.
    #[differentiable]
    pub fn loss<const N: usize>(&self, x: &Mat<N, D>, y: &Labels<N, C>) -> f64 {
        let hidden = x.matmul(&self.w1).add_row(&self.b1).relu();
        hidden.matmul(&self.w2).add_row(&self.b2).cross_entropy(y)
    }

    /// The class scores of a batch.
    pub fn scores<const N: usize>(&self, x: &Mat<N, D>) -> Mat<N, C> {
        let hidden = x.matmul(&self.w1).add_row(&self.b1).relu();
        hidden.matmul(&self.w2).add_row(&self.b2)
    }
}

pub const PIXELS: usize = 64;
pub const DIGITS: usize = 10;
pub const HIDDEN: usize = 64;
pub const BATCH: usize = 32;
pub const EPOCHS: usize = 40;
const SEED: u64 = 2024;
const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/digits.csv");

pub type Net = Mlp<PIXELS, HIDDEN, DIGITS>;

/// The training and test parts of the data, standardised with the training part's statistics.
///
/// # Errors
/// When the CSV file cannot be read or does not hold 64 pixels and a digit 0–9 per row.
pub fn load_data() -> Result<(Dataset<PIXELS, DIGITS>, Dataset<PIXELS, DIGITS>), gradgen::Error> {
    let all = Dataset::<PIXELS, DIGITS>::load_csv(DATA, "digit")?;
    let (mut train, mut test) = all.split(0.2, SEED)?;
    train.standardize()?.apply(&mut test);
    Ok((train, test))
}

/// He-initialised weights for the ReLU layer, Xavier for the output layer, zero biases.
#[must_use]
pub fn initial_net(seed: u64) -> Net {
    let mut rng = init::rng(seed);
    Mlp {
        w1: init::he_normal(&mut rng),
        b1: Mat::zeros(),
        w2: init::xavier_normal(&mut rng),
        b2: Mat::zeros(),
    }
}

/// What a training run reports.
pub struct Outcome {
    pub net: Net,
    pub progress: Progress,
    pub train_rows: usize,
    pub test_accuracy: Accuracy,
}

/// Trains for `EPOCHS` epochs, each over every training row in a new seeded order.
///
/// # Errors
/// When the data cannot be loaded, or an optimizer step is given other tensors (it is not).
pub fn train(show: Show) -> Result<Outcome, gradgen::Error> {
    let (mut train, test) = load_data()?;
    let mut net = initial_net(SEED);
    let mut adam = Adam::new(1e-3);
    let mut progress = Progress::new(show, EPOCHS, 10, "test accuracy");
    let loss = train.mean_loss::<BATCH>(|x, y| net.loss(x, y));
    progress.record(
        0,
        loss,
        test.accuracy::<BATCH>(|x| net.scores(x)).fraction(),
        false,
    );
    for epoch in 1..=EPOCHS {
        train.shuffle(SEED + epoch as u64);
        let mut total = 0.0;
        for (x, y) in train.batches::<BATCH>() {
            let (loss, grads) = net.loss_backward(&x, &y, 1.0);
            adam.step(&mut net, &grads)?;
            total += loss * y.labelled() as f64;
        }
        let accuracy = test.accuracy::<BATCH>(|x| net.scores(x));
        progress.record(
            epoch,
            total / train.len() as f64,
            accuracy.fraction(),
            epoch == EPOCHS,
        );
    }
    progress.finish();
    Ok(Outcome {
        test_accuracy: test.accuracy::<BATCH>(|x| net.scores(x)),
        train_rows: train.len(),
        net,
        progress,
    })
}

/// The test accuracy of the weights saved in `path`.
///
/// # Errors
/// When the data cannot be loaded or the file does not hold this network's weights.
pub fn evaluate(path: &Path) -> Result<Accuracy, gradgen::Error> {
    let (_, test) = load_data()?;
    let mut net = initial_net(0);
    weights::load(&mut net, path)?;
    Ok(test.accuracy::<BATCH>(|x| net.scores(x)))
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse(&["--save", "--load", "--plot"], &[])?;
    if let Some(path) = &args.load {
        let accuracy = evaluate(path)?;
        println!("weights from {}: test accuracy {accuracy}", path.display());
        return Ok(());
    }
    println!(
        "MLP {PIXELS} → {HIDDEN} (ReLU) → {DIGITS} on handwritten digits: Adam, batches of {BATCH}, {EPOCHS} epochs"
    );
    let outcome = train(Show::Live)?;
    println!(
        "{} training images, every one in each epoch; test accuracy {}",
        outcome.train_rows, outcome.test_accuracy
    );
    if let Some(path) = &args.save {
        weights::save(&outcome.net, path)?;
        println!("weights saved to {}", path.display());
    }
    if let Some(path) = &args.plot {
        outcome.progress.plot(path, "MLP on handwritten digits")?;
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
