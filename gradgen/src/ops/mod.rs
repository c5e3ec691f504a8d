//! The typed operations on [`Mat`](crate::Mat).
//!
//! Each file keeps an op's forward computation and the pieces its vector-Jacobian product
//! needs side by side; the doc comment of every op states its gradient. The derivative *rules*
//! (which of these pieces the backward of an op calls) live in one place, the macro's rule
//! table (`gradgen-macros/src/table.rs`), which also generates the entrywise kernels of `unary.rs`.

mod arith;
mod broadcast;
mod losses;
mod matmul;
mod pick;
mod product;
mod reduce;
mod softmax;
mod squares;
mod unary;
