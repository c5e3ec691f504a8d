//! Part of stage 5 (emit): the derivation, as text.
//!
//! Input: a [`Func`], its shapes and its [`Plan`]. Output: the derivation laid out like a careful
//! hand derivation, in the user's names and dimension symbols: the forward bindings with their
//! shapes; then, in reverse order, every gradient contribution with its shape and the op whose
//! row produced it; then each value used more than once, with the contributions that are added
//! up for it. The same text becomes the rustdoc of the generated items and the gradient struct's
//! `DERIVATION` constant. Each contribution's formula is the row's own (`vjp.rs` renders it), so
//! the text cannot drift from the code.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::ir::{Func, Operand, Shape};
use crate::reverse::{Plan, Stmt, StmtKind};
use crate::table::Form;

/// One line: the formula, the shape, a note.
type Row = [String; 3];

/// The derivation, as plain text (no markdown).
pub fn text(func: &Func, shapes: &[Shape], plan: &Plan) -> String {
    let mut rows = forward_rows(func, shapes, plan);
    rows.push(Row::default());
    rows.push(heading(
        "Backward, in reverse: each gradient has its value's shape",
        "",
    ));
    rows.extend(seed_row(func, shapes, plan));
    let (backward, reused) = backward_rows(func, plan);
    rows.extend(backward);
    let mut out = layout(&rows);
    out.push_str(&reuse_section(&reused));
    out
}

fn heading(title: &str, shape: &str) -> Row {
    [title.to_owned(), shape.to_owned(), String::new()]
}

fn forward_rows(func: &Func, shapes: &[Shape], plan: &Plan) -> Vec<Row> {
    let mut rows = vec![heading("Forward: one operation per binding", "shape")];
    for f in &plan.forward {
        let b = &func.bindings[f.binding];
        rows.push([
            format!(
                "  {} = {}",
                func.values[b.out].name,
                forward_formula(func, f.binding)
            ),
            shape_text(&shapes[b.out]),
            String::new(),
        ]);
    }
    rows
}

fn seed_row(func: &Func, shapes: &[Shape], plan: &Plan) -> Option<Row> {
    let o = func
        .output
        .as_ref()
        .and_then(|(op, _)| Func::value_of(op))?;
    plan.grads[o].as_ref()?;
    Some([
        format!(
            "  {}: the gradient flowing into {} (given)",
            plan.d_out, func.values[o].name
        ),
        shape_text(&shapes[o]),
        "seed".to_owned(),
    ])
}

/// Every contribution, in order, and for each gradient with several contributions the
/// bindings they come from.
fn backward_rows(func: &Func, plan: &Plan) -> (Vec<Row>, Vec<(String, Vec<String>)>) {
    let mut total: HashMap<String, usize> = HashMap::new();
    for grad in plan.backward.iter().filter_map(Stmt::grad) {
        *total.entry(grad.to_string()).or_default() += 1;
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut reused: Vec<(String, Vec<String>)> = Vec::new();
    let mut rows = Vec::new();
    for stmt in plan.backward.iter() {
        let mut note = op_note(func, stmt.binding);
        if matches!(stmt.kind, StmtKind::WithValue { .. }) {
            note.push_str(", computed with the value");
        }
        if let Some(grad) = stmt.grad().map(ToString::to_string) {
            let n = total[&grad];
            let k = seen.entry(grad.clone()).or_default();
            *k += 1;
            if n > 1 {
                let _ = write!(note, "; contribution {k} of {n} to {grad}");
                let from = binding_text(func, stmt.binding);
                match reused.iter_mut().find(|(g, _)| *g == grad) {
                    Some((_, list)) => list.push(from),
                    None => reused.push((grad, vec![from])),
                }
            }
        }
        let shape = match &stmt.kind {
            StmtKind::Init { shape, .. } => shape_text(shape),
            _ => String::new(),
        };
        rows.push([format!("  {}", stmt.text), shape, note]);
    }
    (rows, reused)
}

/// The op whose row produced a statement: `matmul`, `operator -`, `layer's backward`.
fn op_note(func: &Func, bi: usize) -> String {
    let b = &func.bindings[bi];
    match b.op.form {
        Form::Method { .. } => b.op.name.to_owned(),
        Form::Operator { arity: 1 } => format!("unary {}", b.op.name),
        Form::Operator { .. } => format!("operator {}", b.op.name),
        Form::Call => format!("{}'s backward", callee_name(b)),
    }
}

fn binding_text(func: &Func, bi: usize) -> String {
    let b = &func.bindings[bi];
    format!(
        "{} = {}",
        func.values[b.out].name,
        forward_formula(func, bi)
    )
}

/// Each column is as wide as its widest entry among the rows that continue past it.
fn layout(rows: &[Row]) -> String {
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
    for [a, b, c] in rows {
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
    out
}

fn reuse_section(reused: &[(String, Vec<String>)]) -> String {
    if reused.is_empty() {
        return String::new();
    }
    let mut out =
        String::from("\nValues used more than once receive one contribution per use, added up:\n");
    for (grad, from) in reused {
        let value = grad.strip_prefix("d_").unwrap_or(grad);
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

/// `x · w`: the binding's operation in the user's names, from the row's template.
fn forward_formula(func: &Func, bi: usize) -> String {
    let b = &func.bindings[bi];
    let mut text = match b.op.form {
        Form::Call => {
            let args: Vec<String> = (0..b.args.len()).map(|i| format!("{{{i}}}")).collect();
            format!("{}({})", callee_name(b), args.join(", "))
        }
        _ => b.op.show.to_owned(),
    };
    for (i, a) in b.args.iter().enumerate() {
        let name = match a {
            Operand::Value(v) => func.values[*v].name.to_string(),
            Operand::Literal(l) => l.text(),
            Operand::Const(c) => c.text.clone(),
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
