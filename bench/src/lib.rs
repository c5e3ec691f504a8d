//! The benchmark workloads: each as a `#[differentiable]` function (whose generated backward is
//! measured) and as a careful hand-written ndarray forward + backward of the same math, plus the
//! matrix products alone, the floor for the large workloads. All in f32. The Elman RNN is
//! hand-written only for now: its `#[differentiable]` form is a `for` loop (issue 14).
//!
//! `cargo bench -p gradgen-bench --bench backward` times them; `tests/allocations.rs` at the
//! root counts their allocations.

pub mod workloads;
