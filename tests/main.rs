//! Every integration test of gradgen, compiled as one test binary: each file of `tests/` is a
//! module here. One binary links the runtime, the examples and trybuild once instead of once per
//! file, which is most of a cold `cargo test`.
//!
//! Run one file's tests with its module name as the filter: `cargo test --test suite ops::`.

#[macro_use]
mod common;

mod allocations;
mod composition;
mod custom;
mod data;
mod elman_hand;
mod examples;
mod flow;
mod hygiene;
mod init;
mod layers;
mod loops;
mod loops_unrolled;
mod model;
mod models;
mod ops;
mod optim;
mod padding;
mod parallel;
mod paths;
mod pedantic;
mod runtime_losses;
mod scalars;
mod softmax;
mod tensors;
mod threads;
mod ui;
mod weights;

/// The benchmark workloads (`bench/src/workloads.rs`, not a dependency of this package):
/// `allocations` counts their allocations, `elman_hand` checks the hand-written RNN backward.
#[allow(dead_code, clippy::pedantic)]
#[path = "../bench/src/workloads.rs"]
mod workloads;
