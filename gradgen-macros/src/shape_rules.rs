//! Part of the rule table: the shape rules its rows name.
//!
//! Input: the shapes of an op's operands and how each reads in the user's code. Output: the
//! result's shape, or a [`Mismatch`] in the user's symbols that points at the operand (or the
//! operator) to blame and, where one exists, names the fix.
//!
//! Guarantees: every message names both shapes in the user's dimension symbols; a help line is
//! only given when the fix it names has the right shape.

use crate::ir::{Dim, Shape};

/// The operands of an op, for its shape rule.
pub struct ShapeArgs<'a> {
    /// The op's name, for messages (`exp`).
    pub op: &'a str,
    pub shapes: &'a [Shape],
    /// How each operand reads in the user's code (`w`, `score.exp()`), without backticks.
    pub texts: &'a [String],
    /// The value of each operand that is an integer literal (`powi`'s exponent).
    pub ints: &'a [Option<i64>],
}

/// A shape rule that does not hold.
pub struct Mismatch {
    /// Where to point: an operand, or the operator / method name.
    pub at: At,
    pub message: String,
}

pub enum At {
    /// The operator or method name.
    Op,
    /// The operand at this index (the receiver is 0).
    Arg(usize),
}

/// A shape rule: the result's shape from the operands'.
pub type Rule = fn(&ShapeArgs) -> Result<Shape, Mismatch>;

/// Which way a [1 × C] row or an [R × 1] column is repeated.
#[derive(Clone, Copy)]
pub enum Along {
    /// A [1 × C] row, applied to every row.
    Rows,
    /// An [R × 1] column, applied to every column.
    Cols,
}

/// A matrix in, the same shape out: entrywise functions, `softmax_rows`.
pub fn same(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    if a.shapes[0] == Shape::Scalar {
        let scalar_ops: Vec<String> = crate::table::OPS
            .iter()
            .filter(|op| op.scalar)
            .map(|op| format!("`{}`", op.name))
            .collect();
        return Err(Mismatch {
            at: At::Arg(0),
            message: format!(
                "`{}` applies to matrices, but `{}` is a scalar\nhelp: the functions of a scalar that gradgen differentiates are {}",
                a.op,
                a.texts[0],
                scalar_ops.join(", ")
            ),
        });
    }
    mat(a, 0, op_name(a)).map(|(r, c)| Shape::Mat(r, c))
}

fn op_name<'a>(a: &ShapeArgs<'a>) -> &'a str {
    a.op
}

/// A matrix or a scalar in, the same shape out: the entrywise functions that are also methods
/// of `f32` and `f64` (`sqrt`, `exp`, …).
pub fn same_or_scalar(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    match &a.shapes[0] {
        Shape::Scalar => Ok(Shape::Scalar),
        _ => same(a),
    }
}

/// `[R × C]` → `[R × 1]`.
pub fn per_row(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    mat(a, 0, op_name(a)).map(|(r, _)| Shape::Mat(r, Dim::Lit(1)))
}

/// `[R × C]` → `[1 × C]`.
pub fn per_col(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    mat(a, 0, op_name(a)).map(|(_, c)| Shape::Mat(Dim::Lit(1), c))
}

/// `[R × C]` → a scalar.
pub fn total(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    mat(a, 0, op_name(a)).map(|_| Shape::Scalar)
}

/// `-a`: a matrix or a scalar, of the same shape.
pub fn negation(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    match &a.shapes[0] {
        Shape::Labels(..) | Shape::Flag(_) => Err(labels_are_not_numbers(a, 0, "-")),
        s => Ok(s.clone()),
    }
}

pub fn transpose(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    let (r, c) = mat(a, 0, "t")?;
    Ok(Shape::Mat(c, r))
}

pub fn matmul_t(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    let (r, k) = mat(a, 0, "matmul_t")?;
    let (c, k2) = mat(a, 1, "matmul_t")?;
    inner_fits(a, "matmul_t", &k, &k2).map(|()| Shape::Mat(r, c))
}

pub fn t_matmul(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    let (k, r) = mat(a, 0, "t_matmul")?;
    let (k2, c) = mat(a, 1, "t_matmul")?;
    inner_fits(a, "t_matmul", &k, &k2).map(|()| Shape::Mat(r, c))
}

/// `a.powi(n)`: `n` an integer literal that fits an `i32`.
pub fn powi(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    let shape = same_or_scalar(a)?;
    match a.ints[1] {
        Some(n) if i32::try_from(n).is_ok() => Ok(shape),
        _ => Err(Mismatch {
            at: At::Arg(1),
            message: format!(
                "`powi` takes an integer literal exponent, but `{}` is not one\nhelp: write the exponent as a literal, e.g. `a.powi(3)`; `a.square()` and `a.sqrt()` are operations too",
                a.texts[1]
            ),
        }),
    }
}

/// `a.inner(&b)`: two matrices of the same shape, a scalar.
pub fn inner(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    let (r, c) = mat(a, 0, "inner")?;
    mat(a, 1, "inner")?;
    if a.shapes[0] == a.shapes[1] {
        return Ok(Shape::Scalar);
    }
    let (lt, rt) = (&a.texts[0], &a.texts[1]);
    let mut message = format!(
        "mismatched shapes for `inner`: `{lt}` is [{r} × {c}] but `{rt}` is {}\nnote: `inner` multiplies entrywise, so it needs two matrices of the same shape",
        a.shapes[1]
    );
    if a.shapes[1] == Shape::Mat(c.clone(), r.clone()) {
        message.push_str(&format!(
            "\nhelp: `{rt}` has the transposed shape: write `{lt}.inner(&{rt}.t())`"
        ));
    }
    Err(Mismatch {
        at: At::Arg(1),
        message,
    })
}

/// `a.pick(&y)`: `[R × C]` with `Labels<R, C>` → `[R × 1]`.
pub fn pick(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    labelled(a, "pick").map(|(r, _)| Shape::Mat(r, Dim::Lit(1)))
}

/// `a.cross_entropy(&y)`: `[R × C]` with `Labels<R, C>` → a scalar.
pub fn cross_entropy(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    labelled(a, "cross_entropy").map(|_| Shape::Scalar)
}

pub fn plus(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    elementwise(a, "+")
}
pub fn minus(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    elementwise(a, "-")
}
pub fn times(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    elementwise(a, "*")
}
pub fn over(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    elementwise(a, "/")
}

pub fn add_row(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    broadcast_shape(a, "add_row", Along::Rows)
}
pub fn sub_row(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    broadcast_shape(a, "sub_row", Along::Rows)
}
pub fn mul_row(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    broadcast_shape(a, "mul_row", Along::Rows)
}
pub fn div_row(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    broadcast_shape(a, "div_row", Along::Rows)
}
pub fn add_col(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    broadcast_shape(a, "add_col", Along::Cols)
}
pub fn sub_col(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    broadcast_shape(a, "sub_col", Along::Cols)
}
pub fn mul_col(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    broadcast_shape(a, "mul_col", Along::Cols)
}
pub fn div_col(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    broadcast_shape(a, "div_col", Along::Cols)
}

/// Operand `i` must be a matrix.
fn mat(a: &ShapeArgs, i: usize, op: &str) -> Result<(Dim, Dim), Mismatch> {
    match &a.shapes[i] {
        Shape::Mat(r, c) => Ok((r.clone(), c.clone())),
        Shape::Labels(..) | Shape::Flag(_) | Shape::Seq(_) => Err(labels_are_not_numbers(a, i, op)),
        Shape::Scalar => Err(Mismatch {
            at: At::Arg(i),
            message: format!("`{op}` needs a matrix, but `{}` is a scalar", a.texts[i]),
        }),
    }
}

/// Labels and flags are constants that are not numbers of the element type.
fn labels_are_not_numbers(a: &ShapeArgs, i: usize, op: &str) -> Mismatch {
    let t = &a.texts[i];
    let message = match &a.shapes[i] {
        Shape::Flag(ty) => {
            let help = match ty.as_str() {
                "bool" => format!("a flag chooses a branch: `if {t} {{ … }} else {{ … }}`"),
                "usize" | "u8" | "u16" | "u32" | "u64" | "isize" | "i8" | "i16" | "i32"
                | "i64" => format!("an integer becomes a scalar with a cast: `{t} as f64`"),
                _ => format!("if `{ty}` is an alias of `Mat`, gradgen cannot see through it: write `Mat<R, C>`"),
            };
            format!(
                "`{t}` is a constant `{ty}`, not a number of the matrices' element type: `{op}` cannot use it\nhelp: {help}"
            )
        }
        shape => format!(
            "`{t}` is {shape}, class indices and not numbers: `{op}` cannot use it\nhelp: labels are used with `pick`, e.g. `score.pick(&{t})`"
        ),
    };
    Mismatch {
        at: At::Arg(i),
        message,
    }
}

fn elementwise(a: &ShapeArgs, op: &str) -> Result<Shape, Mismatch> {
    let (l, r) = (&a.shapes[0], &a.shapes[1]);
    let (lt, rt) = (&a.texts[0], &a.texts[1]);
    for i in 0..2 {
        if let Shape::Labels(..) | Shape::Flag(_) = a.shapes[i] {
            return Err(labels_are_not_numbers(a, i, op));
        }
    }
    match (l, r) {
        (Shape::Scalar, Shape::Scalar) => Ok(Shape::Scalar),
        // A scalar is applied to every entry of the matrix.
        (Shape::Mat(..), Shape::Scalar) => Ok(l.clone()),
        (Shape::Scalar, Shape::Mat(..)) => Ok(r.clone()),
        (Shape::Mat(lr, lc), Shape::Mat(rr, rc)) => {
            if l == r {
                return Ok(l.clone());
            }
            let mut message = format!(
                "mismatched shapes for `{op}`: `{lt}` is {l} but `{rt}` is {r}\nnote: `{op}` is entrywise and needs two matrices of the same shape"
            );
            let one = Dim::Lit(1);
            if op == "+" && *rr == one && rc == lc {
                message.push_str(&format!(
                    "\nhelp: to add the row `{rt}` to every row of `{lt}`, write `{lt}.add_row(&{rt})`"
                ));
            } else if op == "+" && *lr == one && rc == lc {
                message.push_str(&format!(
                    "\nhelp: to add the row `{lt}` to every row of `{rt}`, write `{rt}.add_row(&{lt})`"
                ));
            } else if lr == rc && lc == rr {
                message.push_str(&format!(
                    "\nhelp: `{rt}` has the transposed shape: write `{rt}.t()` for a [{lr} × {lc}] operand"
                ));
            }
            Err(Mismatch {
                at: At::Op,
                message,
            })
        }
        _ => Err(labels_are_not_numbers(a, 0, op)),
    }
}

pub fn matmul(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    let (r, k) = mat(a, 0, "matmul")?;
    let (k2, c) = mat(a, 1, "matmul")?;
    if k == k2 {
        return Ok(Shape::Mat(r, c));
    }
    let (lt, rt) = (&a.texts[0], &a.texts[1]);
    let mut message = format!(
        "mismatched inner dimensions for `matmul`: `{lt}` is [{r} × {k}] and `{rt}` is [{k2} × {c}], but {k} ≠ {k2}\nnote: a matrix product [R × K] · [K × C] needs the columns of the left operand to match the rows of the right one"
    );
    if let Some(untransposed) = rt.strip_suffix(".t()").filter(|_| k == c) {
        message.push_str(&format!(
            "\nhelp: `{rt}` is transposed once too often: write `{lt}.matmul(&{untransposed})`: [{r} × {k}] · [{c} × {k2}] = [{r} × {k2}]"
        ));
    } else if k == c {
        message.push_str(&format!(
            "\nhelp: to multiply by the transpose of `{rt}`, write `{lt}.matmul(&{rt}.t())`: [{r} × {k}] · [{c} × {k2}] = [{r} × {k2}]"
        ));
    } else if r == k2 {
        message.push_str(&format!(
            "\nhelp: to multiply the transpose of `{lt}`, write `{lt}.t().matmul(&{rt})`: [{k} × {r}] · [{k2} × {c}] = [{k} × {c}]"
        ));
    } else if c == r {
        message.push_str(&format!(
            "\nhelp: the product the other way round fits: `{rt}.matmul(&{lt})` is [{k2} × {c}] · [{r} × {k}] = [{k2} × {k}]"
        ));
    }
    Err(Mismatch {
        at: At::Arg(1),
        message,
    })
}

/// `c.add_matmul(&a, &b)`: `[R × C] + [R × K] · [K × C] = [R × C]`.
pub fn add_matmul(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    let (r, c) = mat(a, 0, "add_matmul")?;
    let (r2, k) = mat(a, 1, "add_matmul")?;
    let (k2, c2) = mat(a, 2, "add_matmul")?;
    let (ct, at, bt) = (&a.texts[0], &a.texts[1], &a.texts[2]);
    if k != k2 {
        return Err(Mismatch {
            at: At::Arg(2),
            message: format!(
                "mismatched inner dimensions for `add_matmul`: `{at}` is [{r2} × {k}] and `{bt}` is [{k2} × {c2}], but {k} ≠ {k2}\nnote: `c.add_matmul(&a, &b)` is c + a · b, and a · b needs the columns of `a` to match the rows of `b`"
            ),
        });
    }
    if (r2.clone(), c2.clone()) != (r.clone(), c.clone()) {
        return Err(Mismatch {
            at: At::Arg(1),
            message: format!(
                "mismatched shapes for `add_matmul`: `{ct}` is [{r} × {c}] but `{at}` · `{bt}` is [{r2} × {c2}]\nnote: `c.add_matmul(&a, &b)` is c + a · b, which needs a · b to have the shape of `c`"
            ),
        });
    }
    Ok(Shape::Mat(r, c))
}

/// Checks the inner dimensions of a product; `k` belongs to operand 0, `k2` to operand 1.
fn inner_fits(a: &ShapeArgs, op: &str, k: &Dim, k2: &Dim) -> Result<(), Mismatch> {
    if k == k2 {
        return Ok(());
    }
    Err(Mismatch {
        at: At::Arg(1),
        message: format!(
            "mismatched inner dimensions for `{op}`: `{}` is {} and `{}` is {}, but {k} ≠ {k2}",
            a.texts[0], a.shapes[0], a.texts[1], a.shapes[1]
        ),
    })
}

fn broadcast_shape(a: &ShapeArgs, op: &str, along: Along) -> Result<Shape, Mismatch> {
    let (r, c) = mat(a, 0, op)?;
    let (br, bc) = mat(a, 1, op)?;
    let one = Dim::Lit(1);
    let (lt, rt) = (&a.texts[0], &a.texts[1]);
    let (fits, want, what, other) = match along {
        Along::Rows => (
            br == one && bc == c,
            format!("[1 × {c}] row"),
            "row",
            op.replace("_row", "_col"),
        ),
        Along::Cols => (
            bc == one && br == r,
            format!("[{r} × 1] column"),
            "column",
            op.replace("_col", "_row"),
        ),
    };
    if fits {
        return Ok(Shape::Mat(r, c));
    }
    let mut message = format!(
        "`{op}` needs a {want} to apply to every {what} of `{lt}` [{r} × {c}], but `{rt}` is [{br} × {bc}]"
    );
    let fits_other = match along {
        Along::Rows => bc == one && br == r,
        Along::Cols => br == one && bc == c,
    };
    if fits_other {
        message.push_str(&format!(
            "\nhelp: `{rt}` fits the other way: write `{lt}.{other}(&{rt})`"
        ));
    } else if (matches!(along, Along::Rows) && bc == one && br == c)
        || (matches!(along, Along::Cols) && br == one && bc == r)
    {
        message.push_str(&format!(
            "\nhelp: `{rt}` has the transposed shape: write `{lt}.{op}(&{rt}.t())`"
        ));
    } else if br == r && bc == c {
        let entrywise = match op.split('_').next() {
            Some("add") => "+",
            Some("sub") => "-",
            Some("mul") => "*",
            _ => "/",
        };
        message.push_str(&format!(
            "\nhelp: `{rt}` has the same shape as `{lt}`: combine them entrywise with `{lt} {entrywise} {rt}`"
        ));
    }
    Err(Mismatch {
        at: At::Arg(1),
        message,
    })
}

/// Operand 0 is an [R × C] matrix, operand 1 `Labels<R, C>`.
fn labelled(a: &ShapeArgs, op: &str) -> Result<(Dim, Dim), Mismatch> {
    let (r, c) = mat(a, 0, op)?;
    let Shape::Labels(n, k) = &a.shapes[1] else {
        return Err(Mismatch {
            at: At::Arg(1),
            message: format!(
                "`{op}` takes labels (`&Labels<{r}, {c}>`), but `{}` is {}",
                a.texts[1], a.shapes[1]
            ),
        });
    };
    if *n == r && *k == c {
        return Ok((r, c));
    }
    Err(Mismatch {
        at: At::Arg(1),
        message: format!(
            "`{op}` on `{}` [{r} × {c}] needs `Labels<{r}, {c}>` (a label for each of the {r} rows, below {c}), but `{}` is Labels<{n}, {k}>",
            a.texts[0], a.texts[1]
        ),
    })
}

/// Two matrices of the same shape, the result of that shape: `maximum`, `minimum`.
pub fn same_pair(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    let (r, c) = mat(a, 0, a.op)?;
    mat(a, 1, a.op)?;
    if a.shapes[0] == a.shapes[1] {
        return Ok(Shape::Mat(r, c));
    }
    Err(Mismatch {
        at: At::Arg(1),
        message: format!(
            "mismatched shapes for `{op}`: `{}` is [{r} × {c}] but `{}` is {}\nnote: `{op}` is entrywise and needs two matrices of the same shape",
            a.texts[0],
            a.texts[1],
            a.shapes[1],
            op = a.op
        ),
    })
}

/// `a.row_dots(&b)`: two matrices of the same shape → `[R × 1]`.
pub fn row_dots(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    same_pair(a).map(|shape| match shape {
        Shape::Mat(r, _) => Shape::Mat(r, Dim::Lit(1)),
        other => other,
    })
}

/// `a.clamp(lo, hi)`: a matrix or a scalar, and two scalar bounds.
pub fn clamp(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    let shape = same_or_scalar(a)?;
    for i in 1..3 {
        if a.shapes[i] != Shape::Scalar {
            return Err(Mismatch {
                at: At::Arg(i),
                message: format!(
                    "the bounds of `clamp` are scalars, but `{}` is {}",
                    a.texts[i], a.shapes[i]
                ),
            });
        }
    }
    Ok(shape)
}

/// `a.labelled_mean(&y)`: an `[R × 1]` column with `Labels<R, C>` → a scalar.
pub fn labelled_mean(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    let (r, c) = mat(a, 0, "labelled_mean")?;
    let column_of_labels = matches!(&a.shapes[1], Shape::Labels(n, _) if *n == r);
    if c == Dim::Lit(1) && column_of_labels {
        return Ok(Shape::Scalar);
    }
    Err(Mismatch {
        at: if c == Dim::Lit(1) { At::Arg(1) } else { At::Arg(0) },
        message: format!(
            "`labelled_mean` takes an [{r} × 1] column and `Labels<{r}, C>` (one label or none per row), but `{}` is [{r} × {c}] and `{}` is {}\nhelp: reduce each row to one value first, e.g. `{}.pick(&y)` or `.row_sums()`",
            a.texts[0], a.texts[1], a.shapes[1], a.texts[0]
        ),
    })
}

/// Two matrices of the same shape → a scalar: a loss (`mse`, `cosine_rows`).
pub fn pair_to_scalar(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    same_pair(a).map(|_| Shape::Scalar)
}

/// `a.huber(&t, delta)`: two matrices of the same shape and a scalar → a scalar.
pub fn huber(a: &ShapeArgs) -> Result<Shape, Mismatch> {
    pair_to_scalar(a)?;
    if a.shapes[2] == Shape::Scalar {
        return Ok(Shape::Scalar);
    }
    Err(Mismatch {
        at: At::Arg(2),
        message: format!(
            "the `delta` of `huber` is a scalar, but `{}` is {}",
            a.texts[2], a.shapes[2]
        ),
    })
}
