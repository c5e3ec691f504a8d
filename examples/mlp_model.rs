//! The two-layer ReLU net of `two_layer_net`, written as a model: a struct that owns its
//! weights, and a loss method that reads them as `self.w1`. `#[model]` on the struct and
//! `#[differentiable]` on its `impl` generate `loss_backward`, which returns the loss and an
//! `MlpGrads` with one gradient per weight, and `step`, which applies them.
//!
//! ```text
//! cargo run --release --example mlp_model
//! cargo run --release --example mlp_model -- --plot model.svg   # and draw the curves
//! ```

use std::process::ExitCode;

use gradgen::check::GradCheck;
use gradgen::data::accuracy;
use gradgen::init;
use gradgen::prelude::*;
use gradgen_suite::cli::Args;
use gradgen_suite::progress::{Progress, Show};
use gradgen_suite::spiral;

/// A ReLU layer of `H` units between `D` inputs and `C` classes.
#[model]
#[derive(Clone, Debug)]
pub struct Mlp<const D: usize, const H: usize, const C: usize> {
    pub w1: Mat<D, H>,
    pub b1: Mat<1, H>,
    pub w2: Mat<H, C>,
    pub b2: Mat<1, C>,
}

#[differentiable]
impl<const D: usize, const H: usize, const C: usize> Mlp<D, H, C> {
    /// Mean cross-entropy on a batch, plus `reg · (‖W1‖² + ‖W2‖²)`.
    #[differentiable]
    pub fn loss<const N: usize>(&self, x: &Mat<N, D>, y: &Labels<N, C>, reg: f64) -> f64 {
        let hidden = x.matmul(&self.w1).add_row(&self.b1).relu();
        let data_loss = hidden.matmul(&self.w2).add_row(&self.b2).cross_entropy(y);
        let l2 = self.w1.square().sum() + self.w2.square().sum();
        data_loss + reg * l2
    }

    /// The fraction of rows whose highest score is at their label.
    pub fn accuracy<const N: usize>(&self, x: &Mat<N, D>, y: &Labels<N, C>) -> f64 {
        let hidden = x.matmul(&self.w1).add_row(&self.b1).relu();
        accuracy(&hidden.matmul(&self.w2).add_row(&self.b2), y).fraction()
    }
}

const N: usize = 300;
const CLASSES: usize = 3;
const SEED: u64 = 7;
const HIDDEN: usize = 100;
const EPOCHS: usize = 10_000;
const RATE: f64 = 1.0;
const REG: f64 = 1e-3;

/// What training reports.
pub struct Outcome {
    pub check: GradCheck,
    pub progress: Progress,
    pub train_accuracy: f64,
}

/// A model of `N(0, std²)` weights and biases drawn from `rng` (`biases`: whether the biases are
/// drawn too, or zero).
fn random_model(
    rng: &mut init::SeededRng,
    std: f64,
    biases: bool,
) -> Result<Mlp<2, HIDDEN, CLASSES>, gradgen::Error> {
    let w1 = init::normal(rng, 0.0, std)?;
    let b1 = if biases {
        init::normal(rng, 0.0, std)?
    } else {
        Mat::zeros()
    };
    let w2 = init::normal(rng, 0.0, std)?;
    let b2 = if biases {
        init::normal(rng, 0.0, std)?
    } else {
        Mat::zeros()
    };
    Ok(Mlp { w1, b1, w2, b2 })
}

/// Trains on the spiral for `EPOCHS` full-batch steps: the run of `two_layer_net`.
///
/// # Errors
/// Never: the generated data is well-formed.
pub fn train(show: Show) -> Result<Outcome, gradgen::Error> {
    // The data, initial weights and probe of `two_layer_net`: the same seed, the same draws.
    let (x, y) = spiral::<N, CLASSES>(SEED)?;
    let mut rng = init::rng(SEED);
    let mut model = random_model(&mut rng, 0.01, false)?;
    // The generated gradients against finite differences, before training: on every tenth
    // point and at unit-scale weights, where no finite-difference step crosses a ReLU kink (at
    // the small initial weights many would).
    const M: usize = N / 10;
    let xs = Mat::<M, 2>::from_fn(|i, j| x[(10 * i, j)]);
    let ys = Labels::<M, CLASSES>::new((0..M).map(|i| y[10 * i]).collect())?;
    let check = random_model(&mut rng, 1.0, true)?.loss_gradcheck(&xs, &ys, REG);
    let mut progress = Progress::new(show, EPOCHS, 2000, "train accuracy");
    for epoch in 0..=EPOCHS {
        let (loss, grads) = model.loss_backward(&x, &y, REG, 1.0);
        if epoch.is_multiple_of(50) {
            progress.record(epoch, loss, model.accuracy(&x, &y), epoch == EPOCHS);
        }
        if epoch < EPOCHS {
            model.step(&grads, RATE);
        }
    }
    progress.finish();
    Ok(Outcome {
        check,
        progress,
        train_accuracy: model.accuracy(&x, &y),
    })
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse(&["--plot"], &[])?;
    println!("two-layer ReLU net as a model struct, on a {CLASSES}-arm spiral of {N} points");
    let outcome = train(Show::Live)?;
    println!("{}", outcome.check);
    println!("training accuracy {:.1}%", 100.0 * outcome.train_accuracy);
    if let Some(path) = &args.plot {
        outcome.progress.plot(path, "the MLP model on a spiral")?;
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
