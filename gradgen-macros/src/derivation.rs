//! Part of stage 5 (emit): the derivation, as text.
//!
//! Input: a [`Func`], its shapes and its [`Plan`]. Output: the derivation laid out like a careful
//! hand derivation, in the user's names and dimension symbols: the forward bindings with their
//! shapes; then, in reverse order, every gradient contribution with its shape and the op whose
//! rule produced it; then each value used more than once, with the contributions that are added
//! up for it. The same text becomes the rustdoc of the generated items and the gradient struct's
//! `DERIVATION` constant.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::ir::{Func, Operand, Shape};
use crate::reverse::{Plan, Step};
use crate::rules::Form;

/// The derivation, as plain text (no markdown).
pub fn text(func: &Func, shapes: &[Shape], plan: &Plan) -> String {
    let mut rows: Vec<[String; 3]> = Vec::new();
    let heading = |rows: &mut Vec<[String; 3]>, title: &str, shape: &str| {
        rows.push([title.to_owned(), shape.to_owned(), String::new()]);
    };
    heading(&mut rows, "Forward: one operation per binding", "shape");
    for &bi in &plan.forward {
        let b = &func.bindings[bi];
        rows.push([
            format!(
                "  {} = {}",
                func.values[b.out].name,
                forward_formula(func, bi)
            ),
            shape_text(&shapes[b.out]),
            String::new(),
        ]);
    }
    rows.push(Default::default());
    heading(
        &mut rows,
        "Backward, in reverse: each gradient has its value's shape",
        "",
    );
    let output = func.output.as_ref().and_then(|(op, _)| Func::value_of(op));
    if let Some(o) = output.filter(|&o| plan.grads[o].is_some()) {
        rows.push([
            format!(
                "  {}: the gradient flowing into {} (given)",
                plan.d_out, func.values[o].name
            ),
            shape_text(&shapes[o]),
            "seed".to_owned(),
        ]);
    }
    let mut total: HashMap<String, usize> = HashMap::new();
    for (_, steps) in &plan.steps {
        for step in steps {
            *total.entry(step.grad().to_string()).or_default() += 1;
        }
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    // For each reused value: the bindings its contributions come from.
    let mut sources: Vec<(String, Vec<String>)> = Vec::new();
    for (bi, steps) in &plan.steps {
        let b = &func.bindings[*bi];
        for step in steps {
            let grad = step.grad().to_string();
            let n = total[&grad];
            let k = {
                let count = seen.entry(grad.clone()).or_default();
                *count += 1;
                *count
            };
            let (formula, shape) = match step {
                Step::Init { doc, shape, .. } => (doc.clone(), shape_text(shape)),
                Step::Add { doc, .. } | Step::InPlace { doc, .. } | Step::Let { doc, .. } => {
                    (doc.clone(), String::new())
                }
            };
            let mut note = match b.rule.form {
                Form::Method { .. } => b.rule.name.to_owned(),
                Form::Operator { arity: 1 } => format!("unary {}", b.rule.name),
                Form::Operator { .. } => format!("operator {}", b.rule.name),
                Form::Call => format!("{}'s backward", callee_name(b)),
            };
            if let Step::Init {
                with_forward: true, ..
            } = step
            {
                note.push_str(", computed with the value");
            }
            if n > 1 {
                let _ = write!(note, "; contribution {k} of {n} to {grad}");
                let from = format!(
                    "{} = {}",
                    func.values[b.out].name,
                    forward_formula(func, *bi)
                );
                match sources.iter_mut().find(|(g, _)| *g == grad) {
                    Some((_, list)) => list.push(from),
                    None => sources.push((grad.clone(), vec![from])),
                }
            }
            rows.push([format!("  {formula}"), shape, note]);
        }
    }

    // Each column is as wide as its widest entry among the rows that continue past it.
    let width = |col: usize| {
        rows.iter()
            .filter(|r| r[col + 1..].iter().any(|c| !c.is_empty()))
            .map(|r| r[col].chars().count())
            .max()
            .unwrap_or(0)
            + 3
    };
    let (w0, w1) = (width(0), width(1));
    let mut out = String::new();
    for [a, b, c] in &rows {
        let mut line = a.clone();
        if !b.is_empty() || !c.is_empty() {
            pad_to(&mut line, w0);
            line.push_str(b);
        }
        if !c.is_empty() {
            pad_to(&mut line, w0 + w1);
            line.push_str(c);
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    if !sources.is_empty() {
        out.push_str("\nValues used more than once receive one contribution per use, added up:\n");
        for (grad, from) in sources {
            let value = grad.strip_prefix("d_").unwrap_or(&grad);
            let _ = writeln!(
                out,
                "  {value} receives {} contributions ({grad}), from {}",
                from.len(),
                from.iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(" and from ")
            );
        }
    }
    out
}

fn pad_to(line: &mut String, width: usize) {
    let len = line.chars().count();
    if len < width {
        line.push_str(&" ".repeat(width - len));
    } else {
        line.push_str("   ");
    }
}

/// `x · w`: the binding's operation in the user's names, from the rule's template.
fn forward_formula(func: &Func, bi: usize) -> String {
    let b = &func.bindings[bi];
    let mut text = match b.rule.form {
        Form::Call => {
            let args: Vec<String> = (0..b.args.len()).map(|i| format!("{{{i}}}")).collect();
            format!("{}({})", callee_name(b), args.join(", "))
        }
        _ => b.rule.show.to_owned(),
    };
    for (i, a) in b.args.iter().enumerate() {
        let name = match a {
            Operand::Value(v) => func.values[*v].name.to_string(),
            Operand::Literal(l) => l.text(),
        };
        text = text.replace(&format!("{{{i}}}"), &name);
    }
    text
}

fn shape_text(shape: &Shape) -> String {
    match shape {
        Shape::Scalar => "scalar".to_owned(),
        other => other.to_string(),
    }
}

/// The called function's path, as written (`layers::linear`).
fn callee_name(b: &crate::ir::Binding) -> String {
    b.call.as_ref().map_or_else(String::new, |(path, _)| {
        quote::ToTokens::to_token_stream(path)
            .to_string()
            .replace(' ', "")
    })
}
