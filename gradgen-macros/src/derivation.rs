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
use crate::reverse::{Bwd, BwdLoop, Fwd, FwdLoop, Plan, Stmt, StmtKind};
use crate::steps;
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
    let (backward, reused) = backward_rows(func, shapes, plan);
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
    forward_steps(func, shapes, &plan.forward, 1, &mut rows);
    rows
}

fn indent(depth: usize) -> String {
    "  ".repeat(depth)
}

/// The forward steps, an `if` as its condition and each branch indented under it.
fn forward_steps(func: &Func, shapes: &[Shape], steps: &[Fwd], depth: usize, rows: &mut Vec<Row>) {
    let pad = indent(depth);
    for step in steps {
        match step {
            Fwd::Bind(f) => {
                let b = &func.bindings[f.binding];
                rows.push([
                    format!(
                        "{pad}{} = {}",
                        func.values[b.out].name,
                        forward_formula(func, f.binding)
                    ),
                    shape_text(&shapes[b.out]),
                    String::new(),
                ]);
            }
            Fwd::Loop(l) => forward_loop(func, shapes, l, depth, rows),
            Fwd::If(i) => {
                for (k, branch) in i.branches.iter().enumerate() {
                    let head = if k == 0 {
                        format!("{pad}if {}:", i.cond_text)
                    } else {
                        format!("{pad}else:")
                    };
                    rows.push([head, String::new(), String::new()]);
                    forward_steps(func, shapes, &branch.body, depth + 1, rows);
                    for (&out, given) in i.outs.iter().zip(&branch.outs) {
                        let given = given.to_string().replace(" . clone ()", "");
                        rows.push([
                            format!("{pad}  {} = {given}", func.values[out].name),
                            shape_text(&shapes[out]),
                            String::new(),
                        ]);
                    }
                }
            }
        }
    }
}

/// A loop: its header, its body once, and each carried variable's new value.
fn forward_loop(func: &Func, shapes: &[Shape], l: &FwdLoop, depth: usize, rows: &mut Vec<Row>) {
    let pad = indent(depth);
    let carried: Vec<String> = l
        .carried
        .iter()
        .map(|(v, _)| func.values[*v].name.to_string())
        .collect();
    rows.push([
        format!("{pad}{}, carrying {}:", l.text, carried.join(", ")),
        String::new(),
        String::new(),
    ]);
    forward_steps(func, shapes, &l.body, depth + 1, rows);
    for (v, next) in &l.nexts {
        let next = next.to_string().replace(" . clone ()", "");
        rows.push([
            format!("{pad}  {} = {next}", func.values[*v].name),
            shape_text(&shapes[*v]),
            "for the next step".to_owned(),
        ]);
    }
    if let Some(tape) = &l.tape {
        let kept: Vec<String> = tape
            .values
            .iter()
            .map(|&v| func.values[v].name.to_string())
            .collect();
        rows.push([
            format!(
                "{pad}  (each step keeps {} for the backward)",
                kept.join(", ")
            ),
            String::new(),
            String::new(),
        ]);
    }
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

/// What tells a loop's contributions apart from those outside it (and from another loop's).
fn loop_key(l: &BwdLoop) -> String {
    format!("{} {}", l.text, l.iter)
}

/// Whether a statement is a contribution to its gradient (not one declared zero before a
/// region, nor a carried gradient a step did not reach).
fn contributes(s: &Stmt) -> bool {
    let reset = matches!(s.kind, StmtKind::Init { declare: false, .. }) && s.text.ends_with(" = 0");
    !s.note.starts_with(steps::DECLARED) && !reset
}

/// How many contributions each gradient receives, over every branch; inside a loop's body,
/// per step (`scope` tells them apart).
fn count(steps: &[Bwd], scope: &str, total: &mut HashMap<String, usize>) {
    for step in steps {
        match step {
            Bwd::Stmt(s) if contributes(s) => {
                if let Some(g) = s.grad() {
                    *total.entry(format!("{scope}{g}")).or_default() += 1;
                }
            }
            Bwd::Stmt(_) => {}
            Bwd::If(i) => i.branches.iter().for_each(|b| count(&b.body, scope, total)),
            Bwd::Loop(l) => count(&l.body, &format!("{scope}{}/", loop_key(l)), total),
        }
    }
}

/// Every contribution, in order, and for each gradient with several contributions the
/// bindings they come from.
fn backward_rows(func: &Func, shapes: &[Shape], plan: &Plan) -> (Vec<Row>, Reused) {
    let mut state = Rows {
        total: HashMap::new(),
        seen: HashMap::new(),
        reused: Vec::new(),
        rows: Vec::new(),
        scope: String::new(),
    };
    count(&plan.backward, "", &mut state.total);
    state.steps(func, shapes, &plan.backward, 1);
    (state.rows, state.reused)
}

type Reused = Vec<(String, Vec<String>)>;

struct Rows {
    total: HashMap<String, usize>,
    seen: HashMap<String, usize>,
    reused: Reused,
    rows: Vec<Row>,
    /// Inside a loop's body: its contributions are counted per step.
    scope: String,
}

impl Rows {
    fn steps(&mut self, func: &Func, shapes: &[Shape], steps: &[Bwd], depth: usize) {
        for step in steps {
            match step {
                Bwd::Stmt(s) if s.text.is_empty() => {}
                Bwd::Stmt(s) => self.stmt(s, depth),
                Bwd::Loop(l) => {
                    self.rows.push([
                        format!("{}{}:", indent(depth), l.text),
                        String::new(),
                        String::new(),
                    ]);
                    let inner = format!("{}{}/", self.scope, loop_key(l));
                    let outer = std::mem::replace(&mut self.scope, inner);
                    self.steps(func, shapes, &l.body, depth + 1);
                    self.scope = outer;
                }
                Bwd::If(i) => {
                    for (k, branch) in i.branches.iter().enumerate() {
                        let pad = indent(depth);
                        let head = if k == 0 {
                            format!("{pad}if {}   (the branch the forward took):", i.cond_text)
                        } else {
                            format!("{pad}else:")
                        };
                        self.rows.push([head, String::new(), String::new()]);
                        let mut again = Vec::new();
                        forward_steps(func, shapes, &branch.recompute, depth + 1, &mut again);
                        for [formula, shape, _] in again {
                            self.rows
                                .push([formula, shape, "computed again".to_owned()]);
                        }
                        self.steps(func, shapes, &branch.body, depth + 1);
                    }
                }
            }
        }
    }

    fn stmt(&mut self, stmt: &Stmt, depth: usize) {
        let mut note = stmt.note.clone();
        if matches!(stmt.kind, StmtKind::WithValue { .. }) {
            note.push_str(", computed with the value");
        }
        if let Some(grad) = stmt
            .grad()
            .map(ToString::to_string)
            .filter(|_| contributes(stmt))
        {
            let key = format!("{}{grad}", self.scope);
            let n = self.total[&key];
            let k = self.seen.entry(key).or_default();
            *k += 1;
            if n > 1 {
                let _ = write!(note, "; contribution {k} of {n} to {grad}");
                let from = stmt.from.clone();
                match self.reused.iter_mut().find(|(g, _)| *g == grad) {
                    Some((_, list)) => list.push(from),
                    None => self.reused.push((grad, vec![from])),
                }
            }
        }
        let shape = match &stmt.kind {
            StmtKind::Init { shape, .. } => shape_text(shape),
            _ => String::new(),
        };
        self.rows
            .push([format!("{}{}", indent(depth), stmt.text), shape, note]);
    }
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

fn reuse_section(reused: &Reused) -> String {
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
pub fn forward_formula(func: &Func, bi: usize) -> String {
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
