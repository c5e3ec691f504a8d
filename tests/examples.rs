//! The examples do what the README says they do.

#[allow(dead_code)]
#[path = "../examples/softmax_classifier.rs"]
pub mod softmax_classifier;

#[test]
fn softmax_classifier_reaches_90_percent_test_accuracy() {
    let outcome = softmax_classifier::train().expect("the embedded data loads");
    // The generated gradient check ran before training, on every differentiable input.
    assert!(outcome.check.passes(1e-6), "{}", outcome.check);
    let checked: Vec<&str> = outcome.check.inputs.iter().map(|(name, _)| *name).collect();
    assert_eq!(checked, ["x", "w", "b"]);
    assert!(
        outcome.test_accuracy >= 0.9,
        "test accuracy {}",
        outcome.test_accuracy
    );
    assert!(
        outcome.train_accuracy >= 0.9,
        "train accuracy {}",
        outcome.train_accuracy
    );
    assert_eq!(outcome.progress.len(), 7, "one progress line per 50 epochs");
    assert!(
        outcome.progress[0].contains("loss 1.0986"),
        "{}",
        outcome.progress[0]
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
    let outcome = two_layer_net::train().expect("the generated data is well-formed");
    assert!(outcome.check.passes(1e-6), "{}", outcome.check);
    assert_eq!(outcome.check.inputs.len(), 4, "w1, b1, w2, b2; not x");
    assert!(
        outcome.train_accuracy >= 0.95,
        "train accuracy {}",
        outcome.train_accuracy
    );
    assert_eq!(
        outcome.progress.len(),
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
    let model = mlp_model::train().expect("the generated data is well-formed");
    let free = two_layer_net::train().expect("the generated data is well-formed");
    assert!(
        model.train_accuracy >= 0.95,
        "train accuracy {}",
        model.train_accuracy
    );
    assert!(model.check.passes(1e-6), "{}", model.check);
    assert_eq!(model.check.inputs.len(), 4, "w1, b1, w2, b2");
    // Same data, same initial weights, same math: the same training run.
    assert!((model.train_accuracy - free.train_accuracy).abs() < 1e-12);
}
