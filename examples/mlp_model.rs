//! The two-layer ReLU net of `two_layer_net`, written as a model: a struct that owns its
//! weights, and a loss method that reads them as `self.w1`. `#[model]` on the struct and
//! `#[differentiable]` on its `impl` generate `loss_backward`, which returns the loss and an
//! `MlpGrads` with one gradient per weight, and `step`, which applies them.
//!
//! ```text
//! cargo run --release --example mlp_model
//! ```

use gradgen::prelude::*;
use gradgen_suite::data::{spiral, Rng};

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
    #[allow(clippy::cast_precision_loss)]
    pub fn accuracy<const N: usize>(&self, x: &Mat<N, D>, y: &Labels<N, C>) -> f64 {
        let scores = x
            .matmul(&self.w1)
            .add_row(&self.b1)
            .relu()
            .matmul(&self.w2)
            .add_row(&self.b2);
        let correct = (0..N)
            .filter(|&i| {
                let best = (0..C)
                    .max_by(|&p, &q| scores[(i, p)].total_cmp(&scores[(i, q)]))
                    .unwrap_or(0);
                best == y[i]
            })
            .count();
        correct as f64 / N as f64
    }
}

const N: usize = 300;
const CLASSES: usize = 3;
const HIDDEN: usize = 100;
const EPOCHS: usize = 10_000;
const RATE: f64 = 1.0;
const REG: f64 = 1e-3;

/// What training reports.
pub struct Outcome {
    pub check: gradgen::check::GradCheck,
    pub progress: Vec<String>,
    pub train_accuracy: f64,
}

pub fn train() -> Result<Outcome, gradgen::Error> {
    let mut rng = Rng::new(7);
    let (x, y) = spiral::<N, CLASSES>(&mut rng)?;
    let mut model = Mlp::<2, HIDDEN, CLASSES> {
        w1: Mat::from_fn(|_, _| 0.01 * rng.normal()),
        b1: Mat::zeros(),
        w2: Mat::from_fn(|_, _| 0.01 * rng.normal()),
        b2: Mat::zeros(),
    };
    // The generated gradients against finite differences, before training: on every tenth
    // point and at unit-scale weights, where no finite-difference step crosses a ReLU kink (at
    // the small initial weights many would).
    const M: usize = N / 10;
    let xs = Mat::<M, 2>::from_fn(|i, j| x[(10 * i, j)]);
    let ys = Labels::<M, CLASSES>::new((0..M).map(|i| y[10 * i]).collect())?;
    let probe = Mlp::<2, HIDDEN, CLASSES> {
        w1: Mat::from_fn(|_, _| rng.normal()),
        b1: Mat::from_fn(|_, _| rng.normal()),
        w2: Mat::from_fn(|_, _| rng.normal()),
        b2: Mat::from_fn(|_, _| rng.normal()),
    };
    let check = probe.loss_gradcheck(&xs, &ys, REG);
    let mut progress = Vec::new();
    for epoch in 0..=EPOCHS {
        let (loss, grads) = model.loss_backward(&x, &y, REG, 1.0);
        if epoch % 2000 == 0 {
            progress.push(format!(
                "epoch {epoch:>5}  loss {loss:.4}  train accuracy {:>5.1}%",
                100.0 * model.accuracy(&x, &y)
            ));
        }
        if epoch < EPOCHS {
            model.step(&grads, RATE);
        }
    }
    Ok(Outcome {
        check,
        progress,
        train_accuracy: model.accuracy(&x, &y),
    })
}

fn main() -> Result<(), gradgen::Error> {
    println!("two-layer ReLU net as a model struct, on a {CLASSES}-arm spiral of {N} points");
    let outcome = train()?;
    println!("{}", outcome.check);
    for line in &outcome.progress {
        println!("{line}");
    }
    println!("training accuracy {:.1}%", 100.0 * outcome.train_accuracy);
    Ok(())
}
