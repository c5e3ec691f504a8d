//! A softmax classifier on Fisher's Iris data, trained with the backward pass that
//! `#[differentiable]` generates from the loss below.
//!
//! ```text
//! cargo run --release --example softmax_classifier
//! ```
//!
//! The data (150 flowers, 4 measurements, 3 species) is embedded in the binary. Every fifth
//! flower is held out for testing (30 flowers, 10 per species); the features are standardised
//! with the training set's mean and standard deviation; the weights start at zero and follow
//! full-batch gradient descent. Before training, the generated gradients are checked against
//! finite differences.
//!
//! `cargo run --release --example softmax_classifier -- --derivation` prints the derivation of
//! the generated backward pass instead.

use std::error::Error;

use gradgen::check::GradCheck;
use gradgen::prelude::*;

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
const SPECIES: [&str; 3] = ["setosa", "versicolor", "virginica"];
const FEATURES: usize = 4;
const CLASSES: usize = 3;
const TRAIN: usize = 120;
const TEST: usize = 30;

const EPOCHS: usize = 300;
const LEARNING_RATE: f64 = 0.5;

/// One flower: its four measurements (cm) and its species index.
type Sample = ([f64; FEATURES], usize);

fn parse_iris(csv: &str) -> Result<Vec<Sample>, Box<dyn Error>> {
    let mut samples = Vec::new();
    for (line_no, line) in csv.lines().enumerate().skip(1) {
        let fields: Vec<&str> = line.trim().split(',').collect();
        if fields.len() != FEATURES + 1 {
            return Err(format!(
                "line {}: expected {} fields, found {}",
                line_no + 1,
                FEATURES + 1,
                fields.len()
            )
            .into());
        }
        let mut x = [0.0; FEATURES];
        for (value, field) in x.iter_mut().zip(&fields) {
            *value = field
                .parse()
                .map_err(|e| format!("line {}: `{field}`: {e}", line_no + 1))?;
        }
        let species = SPECIES
            .iter()
            .position(|s| *s == fields[FEATURES])
            .ok_or_else(|| {
                format!(
                    "line {}: unknown species `{}`",
                    line_no + 1,
                    fields[FEATURES]
                )
            })?;
        samples.push((x, species));
    }
    Ok(samples)
}

/// The features as a matrix (row-major) and the species as checked labels.
fn to_matrices<const N: usize>(
    samples: &[&Sample],
) -> Result<(Mat<N, FEATURES>, Labels<N, CLASSES>), gradgen::Error> {
    let x = Mat::from_vec(samples.iter().flat_map(|(x, _)| *x).collect())?;
    let y = Labels::new(samples.iter().map(|(_, c)| *c).collect())?;
    Ok((x, y))
}

/// Standardises every column with the training set's statistics.
fn standardise<const N: usize, const M: usize>(
    train: &mut Mat<N, FEATURES>,
    test: &mut Mat<M, FEATURES>,
) {
    let mean = train.col_sums() * (1.0 / N as f64);
    for j in 0..FEATURES {
        let var = (0..N)
            .map(|i| (train[(i, j)] - mean[(0, j)]).powi(2))
            .sum::<f64>()
            / N as f64;
        let std = var.sqrt().max(1e-12);
        for i in 0..N {
            train[(i, j)] = (train[(i, j)] - mean[(0, j)]) / std;
        }
        for i in 0..M {
            test[(i, j)] = (test[(i, j)] - mean[(0, j)]) / std;
        }
    }
}

/// The fraction of rows whose highest score is at the label.
fn accuracy<const N: usize>(
    x: &Mat<N, FEATURES>,
    w: &Mat<FEATURES, CLASSES>,
    b: &Mat<1, CLASSES>,
    y: &Labels<N, CLASSES>,
) -> f64 {
    let score = x.matmul(w).add_row(b);
    let correct = (0..N)
        .filter(|&i| {
            let best = (0..CLASSES)
                .max_by(|&p, &q| score[(i, p)].total_cmp(&score[(i, q)]))
                .unwrap_or(0);
            best == y[i]
        })
        .count();
    correct as f64 / N as f64
}

/// What training reports: the gradient check at the start, one line per 50 epochs, and the
/// final accuracies.
pub struct Outcome {
    pub check: GradCheck,
    pub progress: Vec<String>,
    pub train_accuracy: f64,
    pub test_accuracy: f64,
}

/// Loads the embedded data, trains for `EPOCHS` epochs and evaluates on the held-out flowers.
pub fn train() -> Result<Outcome, Box<dyn Error>> {
    let samples = parse_iris(IRIS)?;
    if samples.len() != TRAIN + TEST {
        return Err(format!("expected {} samples, found {}", TRAIN + TEST, samples.len()).into());
    }
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (i, sample) in samples.iter().enumerate() {
        if i % 5 == 4 {
            test.push(sample);
        } else {
            train.push(sample);
        }
    }
    let (mut x_train, y_train) = to_matrices::<TRAIN>(&train)?;
    let (mut x_test, y_test) = to_matrices::<TEST>(&test)?;
    standardise(&mut x_train, &mut x_test);

    let mut w = Mat::<FEATURES, CLASSES>::zeros();
    let mut b = Mat::<1, CLASSES>::zeros();
    let check = softmax_loss_gradcheck(&x_train, &w, &b, &y_train);
    if !check.passes(1e-6) {
        return Err(
            format!("the generated gradients disagree with finite differences: {check}").into(),
        );
    }
    let mut progress = Vec::new();
    for epoch in 0..=EPOCHS {
        let grads = softmax_loss_backward(&x_train, &w, &b, &y_train, 1.0);
        if epoch % 50 == 0 {
            progress.push(format!(
                "epoch {epoch:>3}  loss {:.4}  train accuracy {:>5.1}%",
                grads.value,
                100.0 * accuracy(&x_train, &w, &b, &y_train)
            ));
        }
        if epoch < EPOCHS {
            w -= grads.w * LEARNING_RATE;
            b -= grads.b * LEARNING_RATE;
        }
    }
    Ok(Outcome {
        check,
        progress,
        train_accuracy: accuracy(&x_train, &w, &b, &y_train),
        test_accuracy: accuracy(&x_test, &w, &b, &y_test),
    })
}

fn main() -> Result<(), Box<dyn Error>> {
    if std::env::args().any(|a| a == "--derivation") {
        print!(
            "{}",
            SoftmaxLossGrads::<TRAIN, FEATURES, CLASSES>::DERIVATION
        );
        return Ok(());
    }
    println!(
        "softmax classifier on Iris: {TRAIN} training and {TEST} test flowers, {FEATURES} features, {CLASSES} classes"
    );
    let outcome = train()?;
    println!("{}", outcome.check);
    for line in &outcome.progress {
        println!("{line}");
    }
    println!(
        "test accuracy {:.1}% ({} of {TEST})",
        100.0 * outcome.test_accuracy,
        (outcome.test_accuracy * TEST as f64).round()
    );
    Ok(())
}
