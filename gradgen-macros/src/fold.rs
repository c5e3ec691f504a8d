//! Stage 3½ — fold: what the forward function computes in two steps becomes one op that does
//! not build the intermediate.
//!
//! Input: a [`Func`] whose shapes are all known (so that errors have already spoken of what the
//! user wrote). Output: the same function with some bindings rewritten:
//!
//! - a transpose that feeds a product is folded into it: `a.matmul(&b.t())` becomes
//!   `a.matmul_t(&b)` and `a.t().matmul(&b)` becomes `a.t_matmul(&b)`, which read a transposed
//!   view instead of copying;
//! - a product added to a matrix of its shape is folded into the sum: `c + a.matmul(&b)`
//!   becomes `c.add_matmul(&a, &b)` (either operand of `+`), which adds the product into
//!   `c`'s buffer: `x.matmul(&wx) + h.matmul(&wh)` builds one matrix, and the gradient of the
//!   sum reaches `c` without a copy;
//! - a map that only feeds a reduction is folded into a fused op ([`FUSIONS`]):
//!   `a.square().col_means()` becomes `a.col_mean_squares()` and `(a * b).sum()` becomes
//!   `a.inner(&b)`. Neither the intermediate nor the broadcast gradient flowing back into it is
//!   built.
//!
//! Guarantees: a rewrite never changes what is computed; an intermediate used anywhere else
//! is kept. An intermediate whose value is then unused is not computed at all, forward or
//! backward (the reverse stage only keeps what the output needs).

use crate::ir::{Func, Operand, Shape};
use crate::table::{lookup_method, Op};

/// `(map, reduction, fused)`: `reduction(map(args))` computed as `fused(args)` in one pass.
pub const FUSIONS: &[(&str, &str, &str)] = &[
    ("square", "sum", "sum_squares"),
    ("square", "mean", "mean_squares"),
    ("square", "row_sums", "row_sum_squares"),
    ("square", "col_sums", "col_sum_squares"),
    ("square", "row_means", "row_mean_squares"),
    ("square", "col_means", "col_mean_squares"),
    ("*", "sum", "inner"),
];

/// The folds, transposes first (so that a product read through a transpose is not folded
/// into a sum).
pub fn fold(func: &mut Func, shapes: &[Shape]) {
    fold_transposes(func);
    fold_sums_of_products(func, shapes);
    fold_reductions(func, shapes);
}

/// How many times a value is read, by bindings and as the output.
fn uses(func: &Func, v: usize) -> usize {
    let in_bindings = func
        .bindings
        .iter()
        .flat_map(|b| &b.args)
        .filter(|a| Func::value_of(a) == Some(v))
        .count();
    let in_output = func
        .output
        .as_ref()
        .is_some_and(|(op, _)| Func::value_of(op) == Some(v));
    in_bindings + usize::from(in_output)
}

/// The fused op for binding `bi`, and the operands it takes, when its one operand is a map
/// that nothing else reads.
fn fusion(func: &Func, shapes: &[Shape], bi: usize) -> Option<(&'static Op, Vec<Operand>)> {
    let outer = &func.bindings[bi];
    let [Operand::Value(v)] = outer.args[..] else {
        return None;
    };
    let inner = func.bindings.iter().find(|b| b.out == v)?;
    let &(_, _, fused) = FUSIONS
        .iter()
        .find(|(i, o, _)| *i == inner.op.name && *o == outer.op.name)?;
    // `a * s` with a scalar is not an entrywise product of two matrices.
    let all_matrices = inner
        .args
        .iter()
        .all(|a| Func::value_of(a).is_some_and(|a| matches!(shapes[a], Shape::Mat(..))));
    let op = lookup_method(fused)?;
    (inner.call.is_none() && all_matrices && uses(func, v) == 1).then(|| (op, inner.args.clone()))
}

fn fold_reductions(func: &mut Func, shapes: &[Shape]) {
    for bi in 0..func.bindings.len() {
        if let Some((op, args)) = fusion(func, shapes, bi) {
            let outer = &mut func.bindings[bi];
            outer.op = op;
            outer.args = args;
        }
    }
}

/// The operand that `op` transposes, when `op` is the result of `x.t()`.
fn transposed_source(func: &Func, op: &Operand) -> Option<Operand> {
    let v = Func::value_of(op)?;
    let b = func.bindings.iter().find(|b| b.out == v)?;
    (b.op.name == "t").then(|| b.args[0].clone())
}

fn fold_transposes(func: &mut Func) {
    let (Some(matmul), Some(matmul_t), Some(t_matmul)) = (
        lookup_method("matmul"),
        lookup_method("matmul_t"),
        lookup_method("t_matmul"),
    ) else {
        return;
    };
    for bi in 0..func.bindings.len() {
        if !std::ptr::eq(func.bindings[bi].op, matmul) {
            continue;
        }
        if let Some(src) = transposed_source(func, &func.bindings[bi].args[1]) {
            func.bindings[bi].op = matmul_t;
            func.bindings[bi].args[1] = src;
        } else if let Some(src) = transposed_source(func, &func.bindings[bi].args[0]) {
            func.bindings[bi].op = t_matmul;
            func.bindings[bi].args[0] = src;
        }
    }
}

/// For `c + p` (or `p + c`) with `p = a.matmul(&b)` read nowhere else and `c` of the sum's
/// shape: the index of `p` among the sum's operands, and `a`, `b`. The right operand is
/// preferred, so that `x.matmul(&wx) + h.matmul(&wh)` keeps `x·wx` as the buffer.
fn product_in_sum(func: &Func, shapes: &[Shape], bi: usize) -> Option<(usize, Vec<Operand>)> {
    let sum = &func.bindings[bi];
    if sum.op.name != "+" || sum.args.len() != 2 || sum.call.is_some() {
        return None;
    }
    let values: Vec<usize> = sum.args.iter().filter_map(Func::value_of).collect();
    let same_shape = values.len() == 2
        && values.iter().all(|&v| shapes[v] == shapes[sum.out])
        && matches!(shapes[sum.out], Shape::Mat(..));
    if !same_shape {
        return None;
    }
    [1, 0].into_iter().find_map(|i| {
        let v = values[i];
        let product = func.bindings.iter().find(|b| b.out == v)?;
        let folds = product.op.name == "matmul" && product.call.is_none() && uses(func, v) == 1;
        folds.then(|| (i, product.args.clone()))
    })
}

fn fold_sums_of_products(func: &mut Func, shapes: &[Shape]) {
    let Some(add_matmul) = lookup_method("add_matmul") else {
        return;
    };
    for bi in 0..func.bindings.len() {
        let Some((i, factors)) = product_in_sum(func, shapes, bi) else {
            continue;
        };
        let sum = &mut func.bindings[bi];
        let product_tokens = sum.arg_tokens.get(i).cloned().unwrap_or_default();
        let c = sum.args[1 - i].clone();
        let c_tokens = sum.arg_tokens.get(1 - i).cloned().unwrap_or_default();
        sum.op = add_matmul;
        sum.args = vec![c, factors[0].clone(), factors[1].clone()];
        sum.arg_tokens = vec![c_tokens, product_tokens.clone(), product_tokens];
    }
}
