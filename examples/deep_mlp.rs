//! A deep residual MLP whose hidden layers are slices of weights, as many as you ask for when
//! you run it, trained with Adam on the three-armed spiral.
//!
//! ```text
//! cargo run --release --example deep_mlp                  # 6 residual layers
//! cargo run --release --example deep_mlp -- --layers 12   # any number, 0 included
//! cargo run --release --example deep_mlp -- --plot deep.svg   # and draw the curves
//! ```
//!
//! The loss, `deep_mlp_loss`, walks the layers with `for (w, b) in ws.iter().zip(bs)`, where
//! `ws: &[Mat<H, H>]` and `bs: &[Mat<1, H>]`: each adds `relu(h·w + b)` to the state `h`. The
//! number of layers is the length of the slices, not a const generic, so one compiled function
//! serves every depth; its generated backward runs the layers in reverse and returns the
//! gradients of `ws` and `bs` as `Vec`s, one per layer, in order. The generated `DeepMlpLossParams`
//! holds them as `Vec`s too, and `gradgen::optim`'s Adam updates it like any set of weights.
//!
//! With the default 6 layers of 16 units it fits 99.3% of the spiral's 300 points (298) in 300
//! steps; the same steps with no residual layer (`--layers 0`, a two-layer net) fit 97.0%.
//!
//! A free function, not a `#[model]` struct: a model's weights are its `Mat` fields, and a field
//! `ws: Vec<Mat<H, H>>` is not one: `#[model]` leaves it out of the weights (of `<Model>Grads`,
//! of the optimizers' and `weights::save`'s view), and a differentiable method cannot walk it
//! (`for w in &self.ws` is a compile error). Slices of weights are the parameters of a function.

use std::process::ExitCode;

use gradgen::check::GradCheck;
use gradgen::data::accuracy;
use gradgen::init::{self, SeededRng};
use gradgen::optim::Adam;
use gradgen::prelude::*;
use gradgen_suite::cli::Args;
use gradgen_suite::progress::{Progress, Show};
use gradgen_suite::spiral;

/// Mean cross-entropy of a residual MLP: an input layer, then `h ← h + relu(h·w + b)` for each
/// `(w, b)` of the slices, then a linear read-out.
#[differentiable(wrt(w_in, b_in, ws, bs, w_out, b_out))]
#[allow(clippy::too_many_arguments)]
pub fn deep_mlp_loss<const N: usize, const D: usize, const H: usize, const C: usize>(
    x: &Mat<N, D>,
    w_in: &Mat<D, H>,
    b_in: &Mat<1, H>,
    ws: &[Mat<H, H>],
    bs: &[Mat<1, H>],
    w_out: &Mat<H, C>,
    b_out: &Mat<1, C>,
    y: &Labels<N, C>,
) -> f64 {
    let mut h = x.matmul(w_in).add_row(b_in).relu();
    for (w, b) in ws.iter().zip(bs) {
        h = &h + h.matmul(w).add_row(b).relu();
    }
    h.matmul(w_out).add_row(b_out).cross_entropy(y)
}

pub const PER_CLASS: usize = 100;
pub const CLASSES: usize = 3;
pub const N: usize = PER_CLASS * CLASSES;
pub const HIDDEN: usize = 16;
pub const LAYERS: usize = 6;
pub const SEED: u64 = 7;
pub const EPOCHS: usize = 300;
const RATE: f64 = 1e-2;

/// The weights of `deep_mlp_loss` on the spiral: the generated struct of its differentiable
/// inputs, with `ws` and `bs` as `Vec`s.
pub type Weights = DeepMlpLossParams<2, HIDDEN, CLASSES>;

/// The class scores of every point: the forward of `deep_mlp_loss` without its loss.
pub fn scores(x: &Mat<N, 2>, p: &Weights) -> Mat<N, CLASSES> {
    let mut h = x.matmul(&p.w_in).add_row(&p.b_in).relu();
    for (w, b) in p.ws.iter().zip(&p.bs) {
        h = &h + h.matmul(w).add_row(b).relu();
    }
    h.matmul(&p.w_out).add_row(&p.b_out)
}

/// He-initialised weights for `layers` residual layers, each residual branch scaled down by
/// `1/√layers`: every layer then adds about `1/layers` to the state's squared norm, which grows
/// by a factor of at most `e` however deep the net. Zero biases, unless `biases` (then unit
/// normal, for the gradient check).
///
/// # Errors
/// Never: the standard deviations are valid.
pub fn initial_weights(
    rng: &mut SeededRng,
    layers: usize,
    biases: bool,
) -> Result<Weights, gradgen::Error> {
    let branch = (2.0 / (HIDDEN * layers.max(1)) as f64).sqrt();
    let w_in = init::he_normal(rng);
    let b_in = bias(rng, biases)?;
    let mut ws = Vec::with_capacity(layers);
    let mut bs = Vec::with_capacity(layers);
    for _ in 0..layers {
        ws.push(init::normal(rng, 0.0, branch)?);
        bs.push(bias(rng, biases)?);
    }
    let w_out = init::xavier_normal(rng);
    let b_out = bias(rng, biases)?;
    Ok(DeepMlpLossParams {
        w_in,
        b_in,
        ws,
        bs,
        w_out,
        b_out,
    })
}

/// A bias row: unit normal when `random`, else zeros.
fn bias<const C: usize>(rng: &mut SeededRng, random: bool) -> Result<Mat<1, C>, gradgen::Error> {
    if random {
        init::normal(rng, 0.0, 1.0)
    } else {
        Ok(Mat::zeros())
    }
}

/// The generated gradients against finite differences, on every tenth point, at random weights
/// with random biases (so that almost no hidden unit sits within a finite-difference step of
/// its ReLU kink).
///
/// # Errors
/// Never: the labels come from a valid set.
pub fn gradient_check(
    x: &Mat<N, 2>,
    y: &Labels<N, CLASSES>,
    rng: &mut SeededRng,
    layers: usize,
) -> Result<GradCheck, gradgen::Error> {
    const M: usize = N / 10;
    let xs = Mat::<M, 2>::from_fn(|i, j| x[(10 * i, j)]);
    let ys = Labels::<M, CLASSES>::new((0..M).map(|i| y[10 * i]).collect())?;
    let p = initial_weights(rng, layers, true)?;
    Ok(deep_mlp_loss_gradcheck(
        &xs, &p.w_in, &p.b_in, &p.ws, &p.bs, &p.w_out, &p.b_out, &ys,
    ))
}

/// What training reports.
pub struct Outcome {
    pub check: GradCheck,
    pub weights: Weights,
    pub progress: Progress,
    pub train_accuracy: f64,
}

/// Trains a net of `layers` residual layers on the spiral for `EPOCHS` full-batch Adam steps.
///
/// # Errors
/// Never: the generated data is well-formed and the optimizer sees one set of weights.
pub fn train(show: Show, layers: usize) -> Result<Outcome, gradgen::Error> {
    let (x, y) = spiral::<N, CLASSES>(SEED)?;
    let mut rng = init::rng(SEED);
    let mut weights = initial_weights(&mut rng, layers, false)?;
    let check = gradient_check(&x, &y, &mut rng, layers)?;
    let mut adam = Adam::new(RATE);
    let mut progress = Progress::new(show, EPOCHS, 50, "train accuracy");
    for epoch in 0..=EPOCHS {
        let p = &weights;
        let grads = deep_mlp_loss_backward(
            &x, &p.w_in, &p.b_in, &p.ws, &p.bs, &p.w_out, &p.b_out, &y, 1.0,
        );
        if epoch.is_multiple_of(10) {
            let train_accuracy = accuracy(&scores(&x, p), &y).fraction();
            progress.record(epoch, grads.value, train_accuracy, epoch == EPOCHS);
        }
        if epoch < EPOCHS {
            adam.step(&mut weights, &grads)?;
        }
    }
    progress.finish();
    Ok(Outcome {
        check,
        train_accuracy: accuracy(&scores(&x, &weights), &y).fraction(),
        weights,
        progress,
    })
}

/// `--layers L` taken out of the arguments, and the others.
fn layers_option(args: impl IntoIterator<Item = String>) -> Result<(usize, Vec<String>), String> {
    let mut layers = LAYERS;
    let mut rest = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "--layers" {
            let value = args
                .next()
                .ok_or("`--layers` needs a number of layers: --layers L")?;
            layers = value
                .parse()
                .map_err(|_| format!("`--layers` needs a number of layers, not `{value}`"))?;
        } else {
            rest.push(arg);
        }
    }
    Ok((layers, rest))
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let (layers, rest) = layers_option(std::env::args().skip(1))?;
    let args = Args::parse_from(rest, &["--plot"], &[]).map_err(|e| format!("{e}, --layers L"))?;
    println!(
        "residual MLP, {layers} hidden layers of {HIDDEN} ReLU units as slices of weights, on a {CLASSES}-arm spiral of {N} points: Adam, {EPOCHS} full-batch steps"
    );
    let outcome = train(Show::Live, layers)?;
    println!("{}", outcome.check);
    println!("training accuracy {:.1}%", 100.0 * outcome.train_accuracy);
    if let Some(path) = &args.plot {
        outcome.progress.plot(
            path,
            &format!("a residual MLP of {layers} layers on a spiral"),
        )?;
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
