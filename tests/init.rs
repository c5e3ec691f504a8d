//! `gradgen::init`: seeded, reproducible, and with the variances the schemes are named for.

use gradgen::init;
use gradgen::Mat;

/// The mean and (population) standard deviation of the entries.
fn moments<const R: usize, const C: usize>(m: &Mat<R, C>) -> (f64, f64) {
    let n = (R * C) as f64;
    let mean = m.sum() / n;
    let var = m.as_array().iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

fn assert_moments<const R: usize, const C: usize>(m: &Mat<R, C>, std: f64) {
    let (mean, s) = moments(m);
    // 60,000 draws: the sample mean is within 4 standard errors of 0, the std within 2%.
    assert!(
        mean.abs() < 4.0 * std / (R as f64 * C as f64).sqrt(),
        "mean {mean}"
    );
    assert!((s / std - 1.0).abs() < 0.02, "std {s}, expected {std}");
}

#[test]
fn he_and_xavier_have_their_variances() {
    let mut rng = init::rng(1);
    // fan_in = 200, fan_out = 300.
    assert_moments(
        &init::he_normal::<200, 300, f64, _>(&mut rng),
        (2.0f64 / 200.0).sqrt(),
    );
    assert_moments(
        &init::he_uniform::<200, 300, f64, _>(&mut rng),
        (2.0f64 / 200.0).sqrt(),
    );
    assert_moments(
        &init::xavier_normal::<200, 300, f64, _>(&mut rng),
        (2.0f64 / 500.0).sqrt(),
    );
    assert_moments(
        &init::xavier_uniform::<200, 300, f64, _>(&mut rng),
        (2.0f64 / 500.0).sqrt(),
    );
    let bound = (6.0f64 / 500.0).sqrt();
    let u: Mat<200, 300> = init::xavier_uniform(&mut rng);
    assert!(u.as_array().iter().all(|v| v.abs() <= bound));
}

#[test]
fn normal_and_uniform_take_their_parameters() {
    let mut rng = init::rng(2);
    let n: Mat<200, 300> = init::normal(&mut rng, 3.0, 0.5).unwrap();
    let (mean, std) = moments(&n);
    assert!(
        (mean - 3.0).abs() < 0.01 && (std - 0.5).abs() < 0.01,
        "{mean} {std}"
    );
    let u: Mat<200, 300> = init::uniform(&mut rng, -2.0, 6.0).unwrap();
    assert!(u.as_array().iter().all(|v| (-2.0..6.0).contains(v)));
    let (mean, std) = moments(&u);
    assert!(
        (mean - 2.0).abs() < 0.05 && (std - 8.0 / 12f64.sqrt()).abs() < 0.05,
        "{mean} {std}"
    );
}

#[test]
fn the_same_seed_gives_the_same_weights_and_f32_is_f64_rounded() {
    let a: Mat<5, 7> = init::he_normal(&mut init::rng(42));
    let b: Mat<5, 7> = init::he_normal(&mut init::rng(42));
    let c: Mat<5, 7> = init::he_normal(&mut init::rng(43));
    assert_eq!(a, b);
    assert_ne!(a, c);
    let single: Mat<5, 7, f32> = init::he_normal(&mut init::rng(42));
    assert_eq!(single, Mat::from_fn(|i, j| a[(i, j)] as f32));
    // Drawing continues the stream: two matrices from one generator differ.
    let mut rng = init::rng(42);
    let first: Mat<5, 7> = init::he_normal(&mut rng);
    let second: Mat<5, 7> = init::he_normal(&mut rng);
    assert_eq!(first, a);
    assert_ne!(first, second);
}

#[test]
fn invalid_parameters_are_errors() {
    let mut rng = init::rng(3);
    let err = init::normal::<2, 2, f64, _>(&mut rng, 0.0, -1.0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid normal distribution: expected a finite mean and a finite standard deviation ≥ 0, found mean 0, standard deviation -1"
    );
    let err = init::uniform::<2, 2, f64, _>(&mut rng, 1.0, 1.0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid uniform range: expected finite bounds with low < high, found [1, 1)"
    );
}
