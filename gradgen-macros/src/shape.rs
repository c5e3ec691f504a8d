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
use crate::ir::{Func, Operand, ParamKind, Shape, ValueKind};
use crate::rules::{At, ShapeArgs};

/// The shape of every value of `func`, indexed like [`Func::values`].
pub fn infer(func: &Func, errors: &mut Errors) -> Vec<Option<Shape>> {
    let mut shapes: Vec<Option<Shape>> = func
        .values
        .iter()
        .map(|v| match v.kind {
            ValueKind::Param(p) => Some(match &func.params[p].kind {
                ParamKind::Mat(r, c) => Shape::Mat(r.clone(), c.clone()),
                ParamKind::Labels(n, c) => Shape::Labels(n.clone(), c.clone()),
                ParamKind::Scalar => Shape::Scalar,
            }),
            ValueKind::Binding => None,
        })
        .collect();

    for b in &func.bindings {
        // A call's result has the type the caller declared; rustc checks its arguments.
        if let Some((_, shape)) = &b.call {
            shapes[b.out] = Some(shape.clone());
            continue;
        }
        let arg_shapes: Option<Vec<Shape>> =
            b.args.iter().map(|a| operand_shape(a, &shapes)).collect();
        // An operand that failed has been reported already.
        let Some(arg_shapes) = arg_shapes else {
            continue;
        };
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
                Operand::Value(_) => None,
            })
            .collect();
        match (b.rule.shape)(&ShapeArgs {
            shapes: &arg_shapes,
            texts: &texts,
            ints: &ints,
        }) {
            Ok(shape) => shapes[b.out] = Some(shape),
            Err(mismatch) => match mismatch.at {
                At::Arg(i) if i < b.arg_tokens.len() => {
                    errors.push(b.arg_tokens[i].clone(), mismatch.message);
                }
                _ => errors.push(b.op_span, mismatch.message),
            },
        }
    }

    for d in &func.declared {
        if let Some(found) = operand_shape(&d.operand, &shapes) {
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

    if let Some((out, tokens)) = &func.output {
        let ret = crate::ir::type_text(&func.ret_ty);
        match (operand_shape(out, &shapes), &func.ret_shape) {
            (None, _) => {}
            (Some(found), expected) if found == *expected => {}
            (Some(found), Shape::Scalar) => {
                let help = match &found {
                    Shape::Mat(..) => {
                        "\nhelp: reduce it to a scalar, e.g. with `.sum()` or `.mean()`"
                    }
                    _ => "",
                };
                errors.push(
                    tokens.clone(),
                    format!(
                        "mismatched return shape: the function returns `{ret}`, a scalar, but this value is {found}{help}"
                    ),
                );
            }
            (Some(found), expected) => errors.push(
                tokens.clone(),
                format!(
                    "mismatched return shape: the function returns `{ret}`, {expected}, but this value is {}",
                    if found == Shape::Scalar { "a scalar".to_owned() } else { found.to_string() }
                ),
            ),
        }
    }
    shapes
}

/// The shape of an operand, if known.
pub fn operand_shape(op: &Operand, shapes: &[Option<Shape>]) -> Option<Shape> {
    match op {
        Operand::Literal(_) => Some(Shape::Scalar),
        Operand::Value(v) => shapes[*v].clone(),
    }
}
