//! The examples do what the README says they do.

use gradgen_suite::progress::Show;

#[allow(dead_code)]
#[path = "../examples/softmax_classifier.rs"]
pub mod softmax_classifier;

#[test]
fn softmax_classifier_reaches_90_percent_test_accuracy() {
    let outcome = softmax_classifier::train(Show::Quiet).expect("the embedded data loads");
    // The generated gradient check ran before training, on every differentiable input.
    assert!(outcome.check.passes(1e-6), "{}", outcome.check);
    let checked: Vec<&str> = outcome
        .check
        .inputs
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(checked, ["x", "w", "b"]);
    // The README's numbers: 29 of the 30 held-out flowers, 117 of the 120 training ones.
    assert_eq!(
        (outcome.test_accuracy.correct, outcome.test_accuracy.total),
        (29, 30)
    );
    assert_eq!(
        (outcome.train_accuracy.correct, outcome.train_accuracy.total),
        (117, 120)
    );
    let lines = &outcome.progress.lines;
    assert_eq!(lines.len(), 7, "one progress line per 50 epochs");
    assert!(lines[0].contains("loss 1.0986"), "{}", lines[0]);
    assert_eq!(
        outcome.progress.history.len(),
        301,
        "every epoch, for the plot"
    );
}

#[allow(dead_code)]
#[path = "../examples/two_layer_net.rs"]
pub mod two_layer_net;

#[allow(dead_code)]
#[path = "../examples/batchnorm.rs"]
pub mod batchnorm;

#[test]
fn two_layer_net_reaches_95_percent_training_accuracy() {
    let outcome = two_layer_net::train(Show::Quiet).expect("the generated data is well-formed");
    assert!(outcome.check.passes(1e-6), "{}", outcome.check);
    assert_eq!(outcome.check.inputs.len(), 4, "w1, b1, w2, b2; not x");
    assert!(
        outcome.train_accuracy >= 0.95,
        "train accuracy {}",
        outcome.train_accuracy
    );
    assert_eq!(
        outcome.progress.lines.len(),
        6,
        "one progress line per 2000 epochs"
    );
}

#[test]
fn batchnorm_example_agrees_with_the_closed_form() {
    for (input, diff) in batchnorm::compare() {
        assert!(diff < 1e-9, "d{input}: {diff:e}");
    }
}

#[allow(dead_code)]
#[path = "../examples/mlp_model.rs"]
pub mod mlp_model;

#[test]
fn a_model_struct_trains_like_the_free_function() {
    let model = mlp_model::train(Show::Quiet).expect("the generated data is well-formed");
    let free = two_layer_net::train(Show::Quiet).expect("the generated data is well-formed");
    assert!(
        model.train_accuracy >= 0.95,
        "train accuracy {}",
        model.train_accuracy
    );
    assert!(model.check.passes(1e-6), "{}", model.check);
    assert_eq!(model.check.inputs.len(), 4, "w1, b1, w2, b2");
    // Same data, same initial weights, same math: the same training run.
    assert_eq!(model.progress.history, free.progress.history);
}

#[allow(dead_code)]
#[path = "../examples/digits.rs"]
pub mod digits;

#[test]
fn digits_reaches_97_percent_on_every_held_out_image_and_reloads_its_weights() {
    let outcome = digits::train(Show::Quiet).expect("examples/data/digits.csv loads");
    // 1,797 images: 1,437 to train on, 360 held out, every one of them evaluated.
    assert_eq!(outcome.train_rows, 1437);
    assert_eq!(outcome.test_accuracy.total, 360);
    assert!(
        outcome.test_accuracy.fraction() >= 0.97,
        "test accuracy {}",
        outcome.test_accuracy
    );
    let dir = std::env::temp_dir().join(format!("gradgen-digits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let path = dir.join("digits.safetensors");
    gradgen::weights::save(&outcome.net, &path).expect("the weights save");
    let reloaded = digits::evaluate(&path).expect("the saved weights load");
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(reloaded, outcome.test_accuracy);
}

#[allow(dead_code)]
#[path = "../examples/rnn_classifier.rs"]
pub mod rnn_classifier;

#[test]
fn the_rnn_remembers_the_first_step_of_95_percent_of_held_out_sequences() {
    let outcome = rnn_classifier::train(Show::Quiet).expect("the generated data is well-formed");
    // The gradient of the loop, through its first 20 steps, against finite differences.
    assert!(outcome.check.passes(1e-6), "{}", outcome.check);
    let checked: Vec<&str> = outcome
        .check
        .inputs
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(
        checked,
        ["wx", "wh", "b", "wy", "by"],
        "the weights, not xs"
    );
    // 2,500 sequences: 2,000 to train on, 500 held out, every one of them evaluated.
    assert_eq!(outcome.train_rows, 2000);
    assert_eq!(outcome.test_accuracy.total, 500);
    assert!(
        outcome.test_accuracy.fraction() >= 0.95,
        "test accuracy {}",
        outcome.test_accuracy
    );
    // Before training, the network guesses.
    let first = outcome.progress.history[0].accuracy;
    assert!((0.4..0.6).contains(&first), "untrained accuracy {first}");
    let lines = &outcome.progress.lines;
    assert_eq!(
        lines.len(),
        rnn_classifier::EPOCHS / 5 + 1,
        "one progress line per 5 epochs, and one before training"
    );
}

#[allow(dead_code)]
#[path = "../examples/deep_mlp.rs"]
pub mod deep_mlp;

#[test]
fn the_deep_residual_mlp_fits_the_spiral_at_a_depth_chosen_at_run_time() {
    let deep =
        deep_mlp::train(Show::Quiet, deep_mlp::LAYERS).expect("the generated data is well-formed");
    assert!(deep.check.passes(1e-6), "{}", deep.check);
    let checked: Vec<&str> = deep
        .check
        .inputs
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(
        checked,
        [
            "w_in", "b_in", "ws[0]", "ws[1]", "ws[2]", "ws[3]", "ws[4]", "ws[5]", "bs[0]", "bs[1]",
            "bs[2]", "bs[3]", "bs[4]", "bs[5]", "w_out", "b_out"
        ],
        "every layer of the slices, in order; not x"
    );
    assert_eq!((deep.weights.ws.len(), deep.weights.bs.len()), (6, 6));
    // 298 of the 300 points.
    assert!(
        deep.train_accuracy >= 0.99,
        "train accuracy {}",
        deep.train_accuracy
    );
    assert_eq!(
        deep.progress.lines.len(),
        7,
        "one progress line per 50 steps"
    );
    // The same function and the same steps without the residual layers (empty slices): a
    // two-layer net of 16 units, which fits the spiral less well in as many steps.
    let shallow = deep_mlp::train(Show::Quiet, 0).expect("the generated data is well-formed");
    assert!(shallow.check.passes(1e-6), "{}", shallow.check);
    assert!(shallow.weights.ws.is_empty());
    let final_loss = |o: &deep_mlp::Outcome| o.progress.history.last().map(|p| p.loss);
    assert!(
        final_loss(&deep) < final_loss(&shallow),
        "{:?} vs {:?}",
        final_loss(&deep),
        final_loss(&shallow)
    );
    assert!(
        deep.train_accuracy > shallow.train_accuracy,
        "{} vs {}",
        deep.train_accuracy,
        shallow.train_accuracy
    );
}
