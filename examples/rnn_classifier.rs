//! A recurrent network (an Elman cell) that reads a sequence of noisy numbers one step at a
//! time and tells the sign of the first one, which only its hidden state remembers by the end.
//!
//! ```text
//! cargo run --release --example rnn_classifier
//! cargo run --release --example rnn_classifier -- --plot rnn.svg   # and draw the curves
//! ```
//!
//! Each sequence has `STEPS` = 50 steps of Gaussian noise (standard deviation `NOISE` = 0.35);
//! its first step also carries the class as `-1` or `+1`. The 49 steps after it carry no
//! information about the class, so the network must keep the first step in its state through
//! every later one, and its gradient must flow back through all of them. The noise flips the
//! sign of the first step in about 0.2% of the sequences, so no classifier can do better than
//! about 99.8%.
//!
//! The loss is a method of the model with a `for` loop over the sequence, `xs: &[Mat<N, 1>]`
//! (one matrix per step, a row per sequence of the batch); `#[differentiable]` turns it into a
//! backward pass with a reverse loop. The 2,500 sequences are generated with a seed and split
//! 80/20; the network is trained with Adam on batches of 32, its gradients clipped to norm 1
//! (a recurrent gradient can grow step after step). It reaches 99.6% test accuracy (498 of 500
//! held-out sequences); the seeds 1 to 20 give 98.0–100%.

use std::process::ExitCode;

use gradgen::check::GradCheck;
use gradgen::data::{Accuracy, Dataset};
use gradgen::init;
use gradgen::optim::Adam;
use gradgen::prelude::*;
use gradgen_suite::cli::Args;
use gradgen_suite::progress::{Progress, Show};

/// An Elman cell of `H` units over steps of `D` inputs, and a linear read-out of its last state
/// into `C` class scores.
#[model]
#[derive(Clone, Debug)]
pub struct Elman<const D: usize, const H: usize, const C: usize> {
    pub wx: Mat<D, H>,
    pub wh: Mat<H, H>,
    pub b: Mat<1, H>,
    pub wy: Mat<H, C>,
    pub by: Mat<1, C>,
}

#[differentiable]
impl<const D: usize, const H: usize, const C: usize> Elman<D, H, C> {
    /// Mean cross-entropy of the scores read from the last state, over the labelled rows:
    /// `h ← tanh(x·Wx + h·Wh + b)` for each step `x`, from `h = 0`.
    #[differentiable]
    pub fn loss<const N: usize>(&self, xs: &[Mat<N, D>], y: &Labels<N, C>) -> f64 {
        let mut h = Mat::<N, H>::zeros();
        for x in xs {
            h = (x.matmul(&self.wx) + h.matmul(&self.wh))
                .add_row(&self.b)
                .tanh();
        }
        h.matmul(&self.wy).add_row(&self.by).cross_entropy(y)
    }

    /// The class scores of a batch of sequences.
    pub fn scores<const N: usize>(&self, xs: &[Mat<N, D>]) -> Mat<N, C> {
        let mut h = Mat::<N, H>::zeros();
        for x in xs {
            h = (x.matmul(&self.wx) + h.matmul(&self.wh))
                .add_row(&self.b)
                .tanh();
        }
        h.matmul(&self.wy).add_row(&self.by)
    }
}

pub const STEPS: usize = 50;
pub const NOISE: f64 = 0.35;
pub const SEQUENCES: usize = 2500;
pub const HIDDEN: usize = 32;
pub const BATCH: usize = 32;
pub const EPOCHS: usize = 20;
const SEED: u64 = 14;
const RATE: f64 = 2e-3;
const MAX_NORM: f64 = 1.0;
/// The gradient check runs the loop over the first 20 steps of a batch. Over all 50, the
/// central difference's own error (`h²·f‴/6`, which shrinks as `h²` when `h` does) exceeds a
/// millionth of a few small entries of the bias's gradient, so no tolerance of 1e-6 holds.
const CHECK_STEPS: usize = 20;

pub type Net = Elman<1, HIDDEN, 2>;

/// `SEQUENCES` sequences of `STEPS` steps, one per row; the label is 1 when the first step
/// carries `+1`, 0 when it carries `-1`.
///
/// # Errors
/// Never: the distributions and labels are valid.
pub fn sequences(seed: u64) -> Result<Dataset<STEPS, 2>, gradgen::Error> {
    let mut rng = init::rng(seed);
    let noise: Mat<SEQUENCES, STEPS> = init::normal(&mut rng, 0.0, NOISE)?;
    let coins: Mat<SEQUENCES, 1> = init::uniform(&mut rng, 0.0, 1.0)?;
    let labels: Vec<usize> = coins
        .to_vec()
        .iter()
        .map(|&c| usize::from(c < 0.5))
        .collect();
    let mut values = noise.to_vec();
    for (row, &label) in labels.iter().enumerate() {
        values[row * STEPS] += if label == 1 { 1.0 } else { -1.0 };
    }
    Dataset::from_vec(values, labels)
}

/// A batch of rows as a sequence: one `B × 1` matrix per step, row `i` of each from sequence
/// `i`.
#[must_use]
pub fn steps<const B: usize>(x: &Mat<B, STEPS>) -> Vec<Mat<B, 1>> {
    (0..STEPS).map(|t| Mat::from_fn(|i, _| x[(i, t)])).collect()
}

/// Xavier-initialised weights (the recurrent ones of about unit gain), zero biases.
#[must_use]
pub fn initial_net(seed: u64) -> Net {
    let mut rng = init::rng(seed);
    Elman {
        wx: init::xavier_normal(&mut rng),
        wh: init::xavier_normal(&mut rng),
        b: Mat::zeros(),
        wy: init::xavier_normal(&mut rng),
        by: Mat::zeros(),
    }
}

/// What a training run reports.
pub struct Outcome {
    pub check: GradCheck,
    pub net: Net,
    pub progress: Progress,
    pub train_rows: usize,
    pub test_accuracy: Accuracy,
}

/// Checks the generated gradients against finite differences on the first batch (its first
/// `CHECK_STEPS` steps), then trains for `EPOCHS` epochs, each over every training sequence in a
/// new seeded order.
///
/// # Errors
/// Never: the generated data is well-formed and the optimizer sees one set of weights.
pub fn train(show: Show) -> Result<Outcome, gradgen::Error> {
    let (mut train, test) = sequences(SEED)?.split(0.2, SEED)?;
    let mut net = initial_net(SEED);
    let check = {
        let (x, y) = train.batches::<BATCH>().next().expect("a training batch");
        net.loss_gradcheck(&steps(&x)[..CHECK_STEPS], &y)
    };
    let mut adam = Adam::new(RATE);
    let mut progress = Progress::new(show, EPOCHS, 5, "test accuracy");
    let test_accuracy = |net: &Net| test.accuracy::<BATCH>(|x| net.scores(&steps(x)));
    let loss = train.mean_loss::<BATCH>(|x, y| net.loss(&steps(x), y));
    progress.record(0, loss, test_accuracy(&net).fraction(), false);
    for epoch in 1..=EPOCHS {
        train.shuffle(SEED + epoch as u64);
        let mut total = 0.0;
        for (x, y) in train.batches::<BATCH>() {
            let (loss, mut grads) = net.loss_backward(&steps(&x), &y, 1.0);
            grads.clip_norm(MAX_NORM);
            adam.step(&mut net, &grads)?;
            total += loss * y.labelled() as f64;
        }
        progress.record(
            epoch,
            total / train.len() as f64,
            test_accuracy(&net).fraction(),
            epoch == EPOCHS,
        );
    }
    progress.finish();
    Ok(Outcome {
        check,
        test_accuracy: test_accuracy(&net),
        train_rows: train.len(),
        net,
        progress,
    })
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse(&["--plot"], &[])?;
    println!(
        "Elman RNN, {HIDDEN} tanh units: the sign of the first of {STEPS} noisy steps (noise σ = {NOISE}); Adam, batches of {BATCH}, {EPOCHS} epochs"
    );
    let outcome = train(Show::Live)?;
    println!("{}", outcome.check);
    println!(
        "{} training sequences; test accuracy {}",
        outcome.train_rows, outcome.test_accuracy
    );
    if let Some(path) = &args.plot {
        outcome
            .progress
            .plot(path, "an Elman RNN remembering a sequence's first step")?;
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
