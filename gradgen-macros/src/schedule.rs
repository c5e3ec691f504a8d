//! Part of stage 4 (reverse): who owns what, decided in one place.
//!
//! Input: the statements of one region of generated code (a function body, a branch of an
//! `if`), in the order they run, each with the values and gradients it uses and how
//! ([`Mode`]: read, read and consumable, or buffer donor), as the op table declares them. Output:
//! for each use, whether the statement may move the value.
//!
//! Guarantees: a value is moved only by the statement that reads it last in its region, only
//! when nothing else in that statement reads it, and only when it is the region's own: a
//! matrix the region computed (or the gradient of one), which the function does not return.
//! A value of an enclosing region is never moved inside a nested one, which may run under a
//! condition. A donor (a buffer a contribution may write into) is granted only when nothing
//! reads it afterwards. A spare (a dead buffer of a contribution's shape that its product may
//! be written over) is a value of the region's own that an earlier statement read last and did
//! not move, that no later statement uses, and that no other statement was given.

use std::collections::HashSet;

use crate::ir::{Func, Shape, ValueKind};
use crate::table::Form;
use crate::vjp::{Mode, Slot, Use};

/// A value or a gradient, as the schedule tracks them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Tracked {
    Value(usize),
    Grad(usize),
}

/// What one statement uses.
pub type Uses = Vec<(Tracked, Mode)>;

/// For every statement and each of its uses, whether it may move the value. `own(t)`: `t` is
/// the region's own and an owned matrix.
pub fn grant(statements: &[Uses], own: &dyn Fn(Tracked) -> bool) -> Vec<Vec<bool>> {
    let mut last_read: std::collections::HashMap<Tracked, usize> = Default::default();
    for (s, uses) in statements.iter().enumerate() {
        for &(t, mode) in uses {
            if mode != Mode::Donor {
                last_read.insert(t, s);
            }
        }
    }
    statements
        .iter()
        .enumerate()
        .map(|(s, uses)| {
            uses.iter()
                .map(|&(t, mode)| {
                    let alone = uses.iter().filter(|(u, _)| *u == t).count() == 1;
                    let last = last_read.get(&t).copied();
                    let free = match mode {
                        Mode::Borrow => false,
                        Mode::Take => last == Some(s),
                        Mode::Donor => last.is_none_or(|l| l < s),
                    };
                    free && alone && own(t)
                })
                .collect()
        })
        .collect()
}

/// For each statement, the spare buffer it is given, if it asks for one (`wants[s]`: the
/// shape of the matrix it would allocate) and one is free. `fits(t, shape)`: `t` is a value of
/// the region's own of that shape, which may be moved. Only values (not gradients) are given:
/// a value is written once and then only read, so "read last by an earlier statement" means
/// it exists and is dead.
pub fn spares(
    statements: &[Uses],
    grants: &[Vec<bool>],
    wants: &[Option<Shape>],
    fits: &dyn Fn(Tracked, &Shape) -> bool,
) -> Vec<Option<Tracked>> {
    let mut last_use: std::collections::HashMap<Tracked, usize> = Default::default();
    let mut moved: HashSet<Tracked> = HashSet::new();
    for (s, uses) in statements.iter().enumerate() {
        for (k, &(t, _)) in uses.iter().enumerate() {
            last_use.insert(t, s);
            if grants[s][k] {
                moved.insert(t);
            }
        }
    }
    let mut given: HashSet<Tracked> = HashSet::new();
    let mut candidates: Vec<(usize, Tracked)> = last_use
        .iter()
        .filter(|(t, _)| matches!(t, Tracked::Value(_)) && !moved.contains(t))
        .map(|(&t, &s)| (s, t))
        .collect();
    candidates.sort_unstable_by_key(|&(s, t)| (s, tracked_key(t)));
    wants
        .iter()
        .enumerate()
        .map(|(s, want)| {
            let shape = want.as_ref()?;
            let &(_, t) = candidates
                .iter()
                .find(|&&(last, t)| last < s && !given.contains(&t) && fits(t, shape))?;
            given.insert(t);
            Some(t)
        })
        .collect()
}

fn tracked_key(t: Tracked) -> (usize, usize) {
    match t {
        Tracked::Value(v) => (0, v),
        Tracked::Grad(v) => (1, v),
    }
}

/// Whether statement `s` may move `t` (one of its uses of it was granted).
pub fn granted(statements: &[Uses], grants: &[Vec<bool>], s: usize, t: Tracked) -> bool {
    statements[s]
        .iter()
        .zip(&grants[s])
        .any(|(&(u, _), &ok)| u == t && ok)
}

/// Whether moving `t` is allowed at all: an owned matrix that the function does not return (a
/// forward temporary, a value an `if` gives, a variable a loop carries, or a gradient the
/// backward built).
pub fn movable(func: &Func, shapes: &[Shape], t: Tracked) -> bool {
    let output = func.output.as_ref().and_then(|(op, _)| Func::value_of(op));
    match t {
        Tracked::Value(v) => {
            matches!(
                func.values[v].kind,
                ValueKind::Binding | ValueKind::Branch | ValueKind::Carried
            ) && Some(v) != output
                && matches!(shapes[v], Shape::Mat(..))
        }
        // The seed of a matrix value is borrowed; every other gradient is the backward's own.
        Tracked::Grad(v) => Some(v) != output && matches!(shapes[v], Shape::Mat(..)),
    }
}

/// A forward binding reads its operands; an operator, or a method with an in-place variant,
/// may consume the receiver (an operator, any operand).
pub fn forward_uses(func: &Func, bi: usize, fused: bool) -> Uses {
    let b = &func.bindings[bi];
    b.args
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            let v = Func::value_of(a)?;
            let mode = match b.op.form {
                Form::Operator { .. } => Mode::Take,
                Form::Method { .. } if i == 0 && (b.op.consuming || fused) => Mode::Take,
                _ => Mode::Borrow,
            };
            Some((Tracked::Value(v), mode))
        })
        .collect()
}

/// A call's backward reads its arguments and the gradient of its result.
pub fn call_uses(func: &Func, bi: usize) -> Uses {
    let b = &func.bindings[bi];
    let args = b.args.iter().filter_map(Func::value_of);
    args.map(|v| (Tracked::Value(v), Mode::Borrow))
        .chain([(Tracked::Grad(b.out), Mode::Borrow)])
        .collect()
}

/// What the row of binding `bi` declares the contribution to operand `operand` uses.
fn row_uses(func: &Func, shapes: &[Shape], bi: usize, operand: usize) -> Vec<Use> {
    let b = &func.bindings[bi];
    let target = Func::value_of(&b.args[operand]);
    let full = target.is_some_and(|t| shapes[t] == shapes[b.out]);
    b.op.grad.uses(operand, b.args.len(), full)
}

/// What the contribution to operand `operand` of binding `bi` uses, as its row declares it.
pub fn contribution_uses(func: &Func, shapes: &[Shape], bi: usize, operand: usize) -> Uses {
    let b = &func.bindings[bi];
    row_uses(func, shapes, bi, operand)
        .into_iter()
        .filter_map(|Use { what, mode }| {
            let t = match what {
                Slot::Arg(j) => Tracked::Value(Func::value_of(b.args.get(j)?)?),
                Slot::Out => Tracked::Value(b.out),
                Slot::Grad => Tracked::Grad(b.out),
                Slot::Spare => return None,
            };
            Some((t, mode))
        })
        .collect()
}

/// Whether the contribution to operand `operand` of binding `bi` may be written over a spare
/// buffer ([`Slot::Spare`]).
pub fn wants_spare(func: &Func, shapes: &[Shape], bi: usize, operand: usize) -> bool {
    row_uses(func, shapes, bi, operand)
        .iter()
        .any(|u| u.what == Slot::Spare)
}

/// Reads only: a nested region's use of what surrounds it.
pub fn reads(values: impl IntoIterator<Item = usize>) -> Uses {
    values
        .into_iter()
        .map(|v| (Tracked::Value(v), Mode::Borrow))
        .collect()
}
