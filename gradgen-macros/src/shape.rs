//! Stage 2 — shape: symbolic dimension analysis.
//!
//! Input: a [`Func`]. Output: the [`Shape`] of every value, in the user's symbols (`[N × C]`),
//! or `None` for a value whose shape is unknown because it, or something it depends on,
//! failed.
//!
//! Guarantees: each violated shape rule is one error, at the offending operand (or operator),
//! naming both shapes and, where one exists, the fix. Nothing downstream of a failed binding is
//! reported again. Declared `let` types and the declared return type are checked here too.

use crate::errors::Errors;
use crate::ir::{
    Binding, Func, IfNode, LoopNode, Node, Operand, ParamKind, Shape, Source, ValueKind,
};
use crate::shape_rules::{At, ShapeArgs};

/// The shape of every value of `func`, indexed like [`Func::values`]: the parameters', then each
/// binding's by its row's rule; then the declared types and the return type are checked.
pub fn infer(func: &Func, errors: &mut Errors) -> Vec<Option<Shape>> {
    let mut shapes = param_shapes(func);
    let varied = crate::ir::varied(func);
    infer_nodes(func, &func.body, &varied, &mut shapes, errors);
    check_declared(func, &shapes, errors);
    check_return(func, &shapes, errors);
    shapes
}

/// The shapes of a block's values, in order.
fn infer_nodes(
    func: &Func,
    nodes: &[Node],
    varied: &[bool],
    shapes: &mut [Option<Shape>],
    errors: &mut Errors,
) {
    for node in nodes {
        match node {
            Node::Bind(bi) => {
                let b = &func.bindings[*bi];
                shapes[b.out] = binding_shape(func, b, shapes, errors);
                if shapes[b.out].is_some() {
                    check_constant_params(func, b, varied, errors);
                }
            }
            Node::If(node) => infer_if(func, node, varied, shapes, errors),
            Node::Loop(node) => infer_loop(func, node, varied, shapes, errors),
        }
    }
}

/// A loop: its elements have their sequences' item shape, its index is a `usize`, and a
/// carried variable has the same shape before and after the body.
fn infer_loop(
    func: &Func,
    node: &LoopNode,
    varied: &[bool],
    shapes: &mut [Option<Shape>],
    errors: &mut Errors,
) {
    if let Source::Seqs(seqs) = &node.source {
        for &(seq, elem) in seqs {
            if let (Some(e), Some(Shape::Seq(item))) = (elem, &shapes[seq]) {
                shapes[e] = Some((**item).clone());
            }
        }
    }
    if let Some(i) = node.index {
        shapes[i] = Some(Shape::Flag("usize".to_owned()));
    }
    for c in &node.carried {
        shapes[c.phi] = operand_shape(&c.init, shapes);
    }
    infer_nodes(func, &node.body, varied, shapes, errors);
    for c in &node.carried {
        let (before, after) = (&shapes[c.phi], operand_shape(&c.next, shapes));
        if let (Some(before), Some(after)) = (before, &after) {
            if before != after {
                errors.push(
                    c.assigned.clone(),
                    format!(
                        "mismatched shapes: the loop carries {}, which is {before} before the loop, but the body assigns it {after}\nnote: a variable a loop carries keeps one shape from step to step",
                        func.values[c.phi].text
                    ),
                );
                continue;
            }
        }
        shapes[c.out] = shapes[c.phi].clone();
    }
}

/// An `if`: its condition is a constant, and both branches give each value the same shape.
fn infer_if(
    func: &Func,
    node: &IfNode,
    varied: &[bool],
    shapes: &mut [Option<Shape>],
    errors: &mut Errors,
) {
    if let Some(&v) = node.cond_values.iter().find(|&&v| varied[v]) {
        errors.push(
            node.span,
            format!(
                "this condition depends on `{}`, which is differentiated: a choice has no gradient, so the backward could not follow it\nhelp: choose on a flag or on constants; for an entrywise choice between values use `maximum`, `minimum`, `clamp` or `relu`, or multiply by a constant mask",
                func.values[v].name
            ),
        );
    }
    for branch in &node.branches {
        infer_nodes(func, &branch.body, varied, shapes, errors);
    }
    for (k, &out) in node.outs.iter().enumerate() {
        let [a, b] = [0, 1].map(|i| {
            node.branches[i]
                .outs
                .get(k)
                .and_then(|op| operand_shape(op, shapes))
        });
        shapes[out] = match (a, b) {
            (Some(a), Some(b)) if a == b => Some(a),
            (Some(a), Some(b)) => {
                errors.push(
                    node.span,
                    format!(
                        "the branches of this `if` give {} different shapes: {a} in the first and {b} in the second\nnote: the backward follows either branch, so both must give the same shape",
                        func.values[out].text
                    ),
                );
                None
            }
            _ => None,
        };
    }
}

/// Each parameter's shape, from its type; `None` for the bindings, not inferred yet.
fn param_shapes(func: &Func) -> Vec<Option<Shape>> {
    func.values
        .iter()
        .map(|v| match v.kind {
            ValueKind::Param(p) => Some(match &func.params[p].kind {
                ParamKind::Mat(r, c) => Shape::Mat(r.clone(), c.clone()),
                ParamKind::Labels(n, c) => Shape::Labels(n.clone(), c.clone()),
                ParamKind::Scalar => Shape::Scalar,
                ParamKind::Flag(ty) => Shape::Flag(ty.clone()),
                ParamKind::Seq { item, .. } => Shape::Seq(Box::new(match &**item {
                    ParamKind::Labels(n, c) => Shape::Labels(n.clone(), c.clone()),
                    ParamKind::Mat(r, c) => Shape::Mat(r.clone(), c.clone()),
                    _ => Shape::Scalar,
                })),
            }),
            ValueKind::Binding | ValueKind::Branch | ValueKind::Elem | ValueKind::Carried => None,
        })
        .collect()
}

/// A binding's shape by its row's rule, or `None` (reported, or an operand failed before).
fn binding_shape(
    func: &Func,
    b: &Binding,
    shapes: &[Option<Shape>],
    errors: &mut Errors,
) -> Option<Shape> {
    // A call's result has the type the caller declared; rustc checks its arguments.
    if let Some((_, shape)) = &b.call {
        return Some(shape.clone());
    }
    // An operand that failed has been reported already.
    let arg_shapes: Vec<Shape> = b
        .args
        .iter()
        .map(|a| operand_shape(a, shapes))
        .collect::<Option<_>>()?;
    if let Some(i) = arg_shapes.iter().position(|s| matches!(s, Shape::Seq(_))) {
        errors.push(
            b.arg_tokens[i].clone(),
            format!(
                "`{}` is {}, not a value an operation can take\nhelp: walk it with a loop: `for x in {} {{ … }}`",
                func.text(&b.args[i]).trim_matches('`'),
                arg_shapes[i],
                func.text(&b.args[i]).trim_matches('`'),
            ),
        );
        return None;
    }
    let texts: Vec<String> = b
        .args
        .iter()
        .map(|a| func.text(a).trim_matches('`').to_owned())
        .collect();
    let ints: Vec<Option<i64>> = b
        .args
        .iter()
        .map(|a| match a {
            Operand::Literal(lit) => lit.int(),
            Operand::Value(_) | Operand::Const(_) => None,
        })
        .collect();
    let args = ShapeArgs {
        op: b.op.name,
        shapes: &arg_shapes,
        texts: &texts,
        ints: &ints,
    };
    match (b.op.shape)(&args) {
        Ok(shape) => Some(shape),
        Err(mismatch) => {
            match mismatch.at {
                At::Arg(i) if i < b.arg_tokens.len() => {
                    errors.push(b.arg_tokens[i].clone(), mismatch.message);
                }
                _ => errors.push(b.op_span, mismatch.message),
            }
            None
        }
    }
}

/// The parameters of an entrywise function (`clamp`'s bounds) are constants: no gradient flows
/// into them.
fn check_constant_params(func: &Func, b: &Binding, varied: &[bool], errors: &mut Errors) {
    let names: Vec<&str> = match &b.op.grad {
        crate::vjp::Grad::Map(m) => m.params.iter().map(|(n, _)| *n).collect(),
        _ => Vec::new(),
    };
    for (k, i) in b.op.grad.constant_args().into_iter().enumerate() {
        let Some(arg) = b.args.get(i) else {
            continue;
        };
        if Func::value_of(arg).is_some_and(|v| varied[v]) {
            let name = names
                .get(k)
                .map(|n| (*n).to_owned())
                .or_else(|| syntax_arg(b.op.syntax, i))
                .map_or_else(|| format!("argument {i}"), |n| format!("`{n}` argument"));
            errors.push(
                b.arg_tokens[i].clone(),
                format!(
                    "the {name} of `{}` depends on a differentiated input, but it must be a constant: no gradient flows into it\nhelp: compute `{}` from constants only (literals, dimensions, flags, `const` items)",
                    b.op.name,
                    func.text(arg).trim_matches('`'),
                ),
            );
        }
    }
}

/// The name operand `i` has in an op's syntax (`delta` in `a.huber(&t, delta)`).
fn syntax_arg(syntax: &str, i: usize) -> Option<String> {
    let inside = syntax.split_once('(')?.1.trim_end_matches(')');
    let arg = inside.split(',').nth(i.checked_sub(1)?)?;
    Some(arg.trim().trim_start_matches('&').to_owned())
}

/// `let h: Mat<N, C> = …`: the value has the declared shape.
fn check_declared(func: &Func, shapes: &[Option<Shape>], errors: &mut Errors) {
    for d in &func.declared {
        if let Some(found) = operand_shape(&d.operand, shapes) {
            if found != d.shape {
                errors.push(
                    d.tokens.clone(),
                    format!(
                        "mismatched shapes: the type says {}, but the value is {found}",
                        d.shape
                    ),
                );
            }
        }
    }
}

/// The final expression has the declared return type's shape.
fn check_return(func: &Func, shapes: &[Option<Shape>], errors: &mut Errors) {
    let Some((out, tokens)) = &func.output else {
        return;
    };
    let ret = crate::ir::type_text(&func.ret_ty);
    let Some(found) = operand_shape(out, shapes) else {
        return;
    };
    let expected = &func.ret_shape;
    if found == *expected {
        return;
    }
    let message = if *expected == Shape::Scalar {
        let help = match &found {
            Shape::Mat(..) => "\nhelp: reduce it to a scalar, e.g. with `.sum()` or `.mean()`",
            _ => "",
        };
        format!(
            "mismatched return shape: the function returns `{ret}`, a scalar, but this value is {found}{help}"
        )
    } else {
        format!(
            "mismatched return shape: the function returns `{ret}`, {expected}, but this value is {found}"
        )
    };
    errors.push(tokens.clone(), message);
}

/// The shape of an operand, if known.
pub fn operand_shape(op: &Operand, shapes: &[Option<Shape>]) -> Option<Shape> {
    match op {
        Operand::Literal(_) | Operand::Const(_) => Some(Shape::Scalar),
        Operand::Value(v) => shapes[*v].clone(),
    }
}
