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
//! (by a binding, a loop's carried variable, an `if`'s branch, the output) is not folded, nor
//! one computed in another node list (before a loop whose body reads it, say), which the fold
//! would compute again at every step. An intermediate whose value is then unused is not
//! computed at all, forward or backward (the reverse stage only keeps what the output needs).

use crate::ir::{Func, Node, Operand, Shape};
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

/// How many times a value is read: by bindings, as the output, as a loop's carried variable's
/// initial or next value, and as a value an `if` branch gives.
fn uses(func: &Func, v: usize) -> usize {
    let is_v = |a: &Operand| Func::value_of(a) == Some(v);
    let in_bindings = func
        .bindings
        .iter()
        .flat_map(|b| &b.args)
        .filter(|a| is_v(a))
        .count();
    let in_output = func.output.as_ref().is_some_and(|(op, _)| is_v(op));
    in_bindings + usize::from(in_output) + structural_uses(&func.body, &is_v)
}

/// The reads of the nodes themselves (not of their bindings): carried values and branch outs.
fn structural_uses(nodes: &[Node], is_v: &dyn Fn(&Operand) -> bool) -> usize {
    nodes
        .iter()
        .map(|n| match n {
            Node::Bind(_) => 0,
            Node::If(node) => node
                .branches
                .iter()
                .map(|b| b.outs.iter().filter(|o| is_v(o)).count() + structural_uses(&b.body, is_v))
                .sum(),
            Node::Loop(node) => {
                let carried = node.carried.iter();
                carried.filter(|c| is_v(&c.init)).count()
                    + node.carried.iter().filter(|c| is_v(&c.next)).count()
                    + structural_uses(&node.body, is_v)
            }
        })
        .sum()
}

/// The node list (the body, a branch, a loop's body) of each binding, as a number: a fold
/// only joins bindings of the same list, so that a product computed once before a loop is not
/// recomputed at every step inside it.
fn regions(func: &Func) -> Vec<usize> {
    fn walk(nodes: &[Node], id: usize, next: &mut usize, out: &mut [usize]) {
        for n in nodes {
            match n {
                Node::Bind(bi) => out[*bi] = id,
                Node::If(node) => {
                    for b in &node.branches {
                        *next += 1;
                        walk(&b.body, *next, next, out);
                    }
                }
                Node::Loop(node) => {
                    *next += 1;
                    walk(&node.body, *next, next, out);
                }
            }
        }
    }
    let mut out = vec![usize::MAX; func.bindings.len()];
    walk(&func.body, 0, &mut 0, &mut out);
    out
}

/// The fused op for binding `bi`, and the operands it takes, when its one operand is a map
/// that nothing else reads.
fn fusion(
    func: &Func,
    shapes: &[Shape],
    regions: &[usize],
    bi: usize,
) -> Option<(&'static Op, Vec<Operand>)> {
    let outer = &func.bindings[bi];
    let [Operand::Value(v)] = outer.args[..] else {
        return None;
    };
    let ii = func.bindings.iter().position(|b| b.out == v)?;
    let inner = &func.bindings[ii];
    if regions[ii] != regions[bi] {
        return None;
    }
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
    let regions = regions(func);
    for bi in 0..func.bindings.len() {
        if let Some((op, args)) = fusion(func, shapes, &regions, bi) {
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
fn product_in_sum(
    func: &Func,
    shapes: &[Shape],
    regions: &[usize],
    bi: usize,
) -> Option<(usize, Vec<Operand>)> {
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
        let pi = func.bindings.iter().position(|b| b.out == v)?;
        let product = &func.bindings[pi];
        let folds = product.op.name == "matmul"
            && product.call.is_none()
            && regions[pi] == regions[bi]
            && uses(func, v) == 1;
        folds.then(|| (i, product.args.clone()))
    })
}

fn fold_sums_of_products(func: &mut Func, shapes: &[Shape]) {
    let Some(add_matmul) = lookup_method("add_matmul") else {
        return;
    };
    let regions = regions(func);
    for bi in 0..func.bindings.len() {
        let Some((i, factors)) = product_in_sum(func, shapes, &regions, bi) else {
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
