//! Stage 3 — the op table: every operation a differentiable function can use, its shape rule
//! and its derivative, as data. This file is the op reference; it is the only place that knows
//! op names.
//!
//! # Adding an op
//!
//! 1. **A row here**, in [`OPS`]. Its derivative is one word of the vocabulary (`vjp.rs`):
//!    - an entrywise function of one matrix is a [`Grad::Map`]: its scalar `forward` and
//!      `derivative` formulas over `x`, the result `y` and the incoming gradient `g`, and what
//!      the derivative reads. The runtime's `{op}`, `into_{op}` and `{op}_backward`, with
//!      their docs and a doctest from `example`, are generated from the row: nothing to write
//!      in `gradgen/`;
//!    - an entrywise op of two operands is a [`Grad::Entrywise`]: per operand, `g` times a
//!      signed product of `a`, `b` and `y`;
//!    - a reduction is a [`Grad::Reduce`]; anything else a [`Grad::Custom`], whose runtime
//!      methods go in `gradgen/src/ops/` (forward and backward side by side, documented).
//! 2. **Its README row**: run `GRADGEN_README=overwrite cargo test -p gradgen-macros readme`;
//!    the README's op table is generated from this one, and a test fails when they differ.
//! 3. **Its tests**: one line in `tests/paths.rs`, which drives the op through every code path
//!    the generator can emit (operands borrowed, a dead temporary consumed, the gradient moved,
//!    the gradient added to another contribution), each against finite differences; and, for an
//!    op that can overflow, a line in the stability tests of `tests/ops.rs`.
//!
//! The shape rules live in `shape_rules.rs` and the derivative vocabulary in `vjp.rs`; a row only
//! names them.

use crate::shape_rules as shape;
use crate::vjp::{
    self, Axis, Custom, Entrywise, Grad, Map, Map2, Param, Reads, Repeated, CROSS_ENTROPY, READS_A,
    READS_LABELS, TAKES_G,
};

/// How an op is written.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Form {
    /// `receiver.name(args…)` with this many arguments after the receiver.
    Method { args: usize },
    /// An operator with this many operands (`a + b`, `-a`).
    Operator { arity: usize },
    /// A call to another differentiable function ([`CALL`]).
    Call,
}

/// One differentiable operation.
pub struct Op {
    /// The method name, or the operator's symbol.
    pub name: &'static str,
    pub form: Form,
    /// How it is written, with `a`, `b` for its operands (the README's first column); empty
    /// for a method without arguments, `a.{name}()`.
    pub syntax: &'static str,
    /// Its shapes in words (the README's second column).
    #[cfg_attr(not(test), allow(dead_code))]
    pub shapes: &'static str,
    pub shape: shape::Rule,
    /// What it computes, for help messages.
    pub usage: &'static str,
    /// The forward step in the derivation; `{0}`, `{1}` stand for the operands.
    pub show: &'static str,
    /// The base name of an intermediate that holds its result (`score_exp`).
    pub temp: &'static str,
    pub grad: Grad,
    /// The runtime has `into_{name}`, which computes the result in the receiver's buffer (for
    /// an operator: the operator on an owned operand).
    pub consuming: bool,
    /// The runtime has `{name}_and_backward` (and `into_…`): the value and the receiver's
    /// gradient in one pass, used when the op computes the function's value.
    pub with_backward: bool,
    /// It is also a method of `f32` and `f64` (`sqrt`, `exp`): it applies to a scalar, and
    /// `f64::sqrt(x)` is the same op.
    pub scalar: bool,
}

const fn method(args: usize) -> Form {
    Form::Method { args }
}

const MAT: &str = "[R×C] → [R×C]";

impl Op {
    /// The same row with another shape rule.
    const fn shaped(self, shape: shape::Rule) -> Op {
        Op { shape, ..self }
    }

    /// The same row with its shapes described otherwise.
    const fn shapes(self, shapes: &'static str) -> Op {
        Op { shapes, ..self }
    }

    /// The same row with this many arguments after the receiver.
    const fn args(self, args: usize) -> Op {
        Op {
            form: method(args),
            ..self
        }
    }

    /// The same row, for a scalar too: the op is also a method of `f32` and `f64`.
    const fn scalar(self) -> Op {
        Op {
            scalar: true,
            shape: shape::same_or_scalar,
            ..self
        }
    }

    /// The same row with another base name for intermediates.
    const fn temp(self, temp: &'static str) -> Op {
        Op { temp, ..self }
    }
}

/// An entrywise function of one matrix, whose runtime kernels are generated from the row.
#[allow(clippy::too_many_arguments)]
const fn map(
    name: &'static str,
    syntax: &'static str,
    show: &'static str,
    usage: &'static str,
    m: Map,
) -> Op {
    Op {
        name,
        form: method(m.params.len()),
        syntax,
        shapes: MAT,
        shape: shape::same,
        usage,
        show,
        temp: name,
        grad: Grad::Map(m),
        consuming: true,
        with_backward: false,
        scalar: false,
    }
}

/// The table.
pub static OPS: &[Op] = &[
    // ---- arithmetic ----
    Op {
        name: "+",
        form: Form::Operator { arity: 2 },
        syntax: "a + b",
        shapes: "[R×C] + [R×C] → [R×C]; a scalar on either side of a matrix; scalar + scalar",
        shape: shape::plus,
        usage: "`a + b` adds two matrices of the same shape, a scalar to a matrix, or two scalars",
        show: "{0} + {1}",
        temp: "sum",
        grad: Grad::Entrywise(Entrywise { forward: "a + b", derivatives: &["g", "g"], repeated: Repeated::Scalar }),
        consuming: true,
        with_backward: false,
        scalar: false,
    },
    Op {
        name: "-",
        form: Form::Operator { arity: 2 },
        syntax: "a - b",
        shapes: "as `+`",
        shape: shape::minus,
        usage: "`a - b` subtracts two matrices of the same shape, a scalar and a matrix, or two scalars",
        show: "{0} − {1}",
        temp: "diff",
        grad: Grad::Entrywise(Entrywise { forward: "a - b", derivatives: &["g", "-g"], repeated: Repeated::Scalar }),
        consuming: true,
        with_backward: false,
        scalar: false,
    },
    Op {
        name: "*",
        form: Form::Operator { arity: 2 },
        syntax: "a * b",
        shapes: "entrywise [R×C] ∘ [R×C]; a scalar on either side; scalar · scalar",
        shape: shape::times,
        usage: "`a * b` multiplies entrywise two matrices of the same shape, a matrix by a scalar, or two scalars",
        show: "{0} ∘ {1}",
        temp: "prod",
        grad: Grad::Entrywise(Entrywise { forward: "a * b", derivatives: &["g * b", "g * a"], repeated: Repeated::Scalar }),
        consuming: true,
        with_backward: false,
        scalar: false,
    },
    Op {
        name: "/",
        form: Form::Operator { arity: 2 },
        syntax: "a / b",
        shapes: "entrywise [R×C] / [R×C]; a scalar on either side; scalar / scalar",
        shape: shape::over,
        usage: "`a / b` divides entrywise two matrices of the same shape, a matrix and a scalar, or two scalars",
        show: "{0} / {1}",
        temp: "quot",
        grad: Grad::Entrywise(Entrywise { forward: "a / b", derivatives: &["g / b", "-g * y / b"], repeated: Repeated::Scalar }),
        consuming: true,
        with_backward: false,
        scalar: false,
    },
    Op {
        name: "-",
        form: Form::Operator { arity: 1 },
        syntax: "-a",
        shapes: "[R×C] or scalar",
        shape: shape::negation,
        usage: "`-a` negates a matrix or a scalar",
        show: "−{0}",
        temp: "neg",
        grad: Grad::Entrywise(Entrywise { forward: "-a", derivatives: &["-g"], repeated: Repeated::Scalar }),
        consuming: true,
        with_backward: false,
        scalar: false,
    },
    // ---- products and the transpose ----
    Op {
        name: "matmul",
        form: method(1),
        syntax: "a.matmul(&b)",
        shapes: "[R×K] · [K×C] → [R×C]",
        shape: shape::matmul,
        usage: "`a.matmul(&b)` is the matrix product: [R × K] · [K × C] = [R × C]",
        show: "{0} · {1}",
        temp: "matmul",
        grad: Grad::Custom(Custom { constants: &[], uses: vjp::matmul_uses, vjp: vjp::matmul, readme: "`d_a += g · bᵀ`, `d_b += aᵀ · g`" }),
        consuming: false,
        with_backward: false,
        scalar: false,
    },
    Op {
        name: "matmul_t",
        form: method(1),
        syntax: "a.matmul_t(&b)",
        shapes: "[R×K] · [C×K]ᵀ → [R×C]",
        shape: shape::matmul_t,
        usage: "`a.matmul_t(&b)` is `a · bᵀ`: [R × K] · [C × K]ᵀ = [R × C], without copying `bᵀ`",
        show: "{0} · {1}ᵀ",
        temp: "matmul_t",
        grad: Grad::Custom(Custom { constants: &[], uses: vjp::matmul_uses, vjp: vjp::matmul_t, readme: "`d_a += g · b`, `d_b += gᵀ · a`" }),
        consuming: false,
        with_backward: false,
        scalar: false,
    },
    Op {
        name: "t_matmul",
        form: method(1),
        syntax: "a.t_matmul(&b)",
        shapes: "[K×R]ᵀ · [K×C] → [R×C]",
        shape: shape::t_matmul,
        usage: "`a.t_matmul(&b)` is `aᵀ · b`: [K × R]ᵀ · [K × C] = [R × C], without copying `aᵀ`",
        show: "{0}ᵀ · {1}",
        temp: "t_matmul",
        grad: Grad::Custom(Custom { constants: &[], uses: vjp::matmul_uses, vjp: vjp::t_matmul, readme: "`d_a += b · gᵀ`, `d_b += a · g`" }),
        consuming: false,
        with_backward: false,
        scalar: false,
    },
    Op {
        name: "add_matmul",
        form: method(2),
        syntax: "c.add_matmul(&a, &b)",
        shapes: "[R×C] + [R×K] · [K×C] → [R×C]",
        shape: shape::add_matmul,
        usage: "`c.add_matmul(&a, &b)` is `c + a · b` in one pass (gradgen folds `c + a.matmul(&b)` into it): [R × C] + [R × K] · [K × C] = [R × C]",
        show: "{0} + {1} · {2}",
        temp: "add_matmul",
        grad: Grad::Custom(Custom { constants: &[], uses: vjp::add_matmul_uses, vjp: vjp::add_matmul, readme: "`d_c += g`, `d_a += g · bᵀ`, `d_b += aᵀ · g`" }),
        consuming: true,
        with_backward: false,
        scalar: false,
    },
    Op {
        name: "t",
        form: method(0),
        syntax: "a.t()",
        shapes: "[R×C] → [C×R]",
        shape: shape::transpose,
        usage: "`a.t()` is the transpose: [R × C] → [C × R]",
        show: "{0}ᵀ",
        temp: "t",
        grad: Grad::Custom(Custom { constants: &[], uses: |_| TAKES_G, vjp: vjp::transpose, readme: "`d_a += gᵀ` (the gradient's own buffer, read transposed)" }),
        consuming: true,
        with_backward: false,
        scalar: false,
    },
    // ---- a row or a column repeated over the entries ----
    Op {
        name: "add_row",
        form: method(1),
        syntax: "a.add_row(&b)",
        shapes: "[R×C] + [1×C] → [R×C]",
        shape: shape::add_row,
        usage: "`a.add_row(&b)` adds the [1 × C] row `b` to every row of the [R × C] matrix `a`",
        show: "{0} + {1}   ({1} broadcast over rows)",
        temp: "plus_row",
        grad: Grad::Entrywise(Entrywise { forward: "a + b", derivatives: &["g", "g"], repeated: Repeated::Row }),
        consuming: true,
        with_backward: false,
        scalar: false,
    },
    Op {
        name: "sub_row",
        form: method(1),
        syntax: "a.sub_row(&b)",
        shapes: "[R×C] − [1×C] → [R×C]",
        shape: shape::sub_row,
        usage: "`a.sub_row(&b)` subtracts the [1 × C] row `b` from every row of the [R × C] matrix `a`",
        show: "{0} − {1}   ({1} broadcast over rows)",
        temp: "minus_row",
        grad: Grad::Entrywise(Entrywise { forward: "a - b", derivatives: &["g", "-g"], repeated: Repeated::Row }),
        consuming: true,
        with_backward: false,
        scalar: false,
    },
    Op {
        name: "mul_row",
        form: method(1),
        syntax: "a.mul_row(&b)",
        shapes: "[R×C] ∘ [1×C] → [R×C]",
        shape: shape::mul_row,
        usage: "`a.mul_row(&b)` multiplies every row of the [R × C] matrix `a` entrywise by the [1 × C] row `b`",
        show: "{0} ∘ {1}   ({1} broadcast over rows)",
        temp: "times_row",
        grad: Grad::Entrywise(Entrywise { forward: "a * b", derivatives: &["g * b", "g * a"], repeated: Repeated::Row }),
        consuming: true,
        with_backward: false,
        scalar: false,
    },
    Op {
        name: "div_row",
        form: method(1),
        syntax: "a.div_row(&b)",
        shapes: "[R×C] / [1×C] → [R×C]",
        shape: shape::div_row,
        usage: "`a.div_row(&b)` divides every row of the [R × C] matrix `a` entrywise by the [1 × C] row `b`",
        show: "{0} / {1}   ({1} broadcast over rows)",
        temp: "over_row",
        grad: Grad::Entrywise(Entrywise { forward: "a / b", derivatives: &["g / b", "-g * y / b"], repeated: Repeated::Row }),
        consuming: true,
        with_backward: false,
        scalar: false,
    },
    Op {
        name: "add_col",
        form: method(1),
        syntax: "a.add_col(&b)",
        shapes: "[R×C] + [R×1] → [R×C]",
        shape: shape::add_col,
        usage: "`a.add_col(&b)` adds the [R × 1] column `b` to every column of the [R × C] matrix `a`",
        show: "{0} + {1}   ({1} broadcast over columns)",
        temp: "plus_col",
        grad: Grad::Entrywise(Entrywise { forward: "a + b", derivatives: &["g", "g"], repeated: Repeated::Col }),
        consuming: true,
        with_backward: false,
        scalar: false,
    },
    Op {
        name: "sub_col",
        form: method(1),
        syntax: "a.sub_col(&b)",
        shapes: "[R×C] − [R×1] → [R×C]",
        shape: shape::sub_col,
        usage: "`a.sub_col(&b)` subtracts the [R × 1] column `b` from every column of the [R × C] matrix `a`",
        show: "{0} − {1}   ({1} broadcast over columns)",
        temp: "minus_col",
        grad: Grad::Entrywise(Entrywise { forward: "a - b", derivatives: &["g", "-g"], repeated: Repeated::Col }),
        consuming: true,
        with_backward: false,
        scalar: false,
    },
    Op {
        name: "mul_col",
        form: method(1),
        syntax: "a.mul_col(&b)",
        shapes: "[R×C] ∘ [R×1] → [R×C]",
        shape: shape::mul_col,
        usage: "`a.mul_col(&b)` multiplies every column of the [R × C] matrix `a` entrywise by the [R × 1] column `b`",
        show: "{0} ∘ {1}   ({1} broadcast over columns)",
        temp: "times_col",
        grad: Grad::Entrywise(Entrywise { forward: "a * b", derivatives: &["g * b", "g * a"], repeated: Repeated::Col }),
        consuming: true,
        with_backward: false,
        scalar: false,
    },
    Op {
        name: "div_col",
        form: method(1),
        syntax: "a.div_col(&b)",
        shapes: "[R×C] / [R×1] → [R×C]",
        shape: shape::div_col,
        usage: "`a.div_col(&b)` divides every column of the [R × C] matrix `a` entrywise by the [R × 1] column `b`",
        show: "{0} / {1}   ({1} broadcast over columns)",
        temp: "over_col",
        grad: Grad::Entrywise(Entrywise { forward: "a / b", derivatives: &["g / b", "-g * y / b"], repeated: Repeated::Col }),
        consuming: true,
        with_backward: false,
        scalar: false,
    },
    // ---- entrywise functions: one formula each, and the runtime follows ----
    map("exp", "a.exp()", "exp({0})", "`a.exp()` is eᵃ entrywise", Map {
        params: &[],
        forward: "x.exp()",
        derivative: "g * y",
        reads: Reads::Output,
        doc: "`eᵃ`",
        example: "assert_eq!(Mat::<2, 2>::zeros().exp(), Mat::full(1.0));",
    })
    .scalar(),
    map("ln", "a.ln()", "ln({0})", "`a.ln()` is the natural logarithm entrywise", Map {
        params: &[],
        forward: "x.ln()",
        derivative: "g / x",
        reads: Reads::Input,
        doc: "The natural logarithm (`NaN` for a negative entry, `-∞` for zero, as `f64::ln`)",
        example: "assert_eq!(Mat::<1, 3>::full(1.0).ln(), Mat::zeros());",
    })
    .scalar(),
    map("sqrt", "a.sqrt()", "√{0}", "`a.sqrt()` is the square root entrywise", Map {
        params: &[],
        forward: "x.sqrt()",
        derivative: "g / (2 * y)",
        reads: Reads::Output,
        doc: "The square root",
        example: "assert_eq!(Mat::<1, 2>::full(9.0).sqrt(), Mat::full(3.0));",
    })
    .scalar(),
    map("powi", "a.powi(n)", "{0}^{1}", "`a.powi(n)` is aⁿ entrywise, for an integer literal `n`", Map {
        params: &[("n", Param::Int)],
        forward: "x.powi(n)",
        derivative: "g * n * x.powi(n - 1)",
        reads: Reads::Input,
        doc: "`aⁿ`, for an integer `n`",
        example: "assert_eq!(Mat::<1, 2>::full(2.0).powi(3), Mat::full(8.0));",
    })
    .scalar()
    .shaped(shape::powi)
    .shapes("[R×C] → [R×C], `n` an integer literal")
    .temp("pow"),
    map("square", "a.square()", "{0}²", "`a.square()` is a² entrywise", Map {
        params: &[],
        forward: "x * x",
        derivative: "2 * g * x",
        reads: Reads::Input,
        doc: "`a²`",
        example: "assert_eq!(Mat::<1, 2>::full(-3.0).square(), Mat::full(9.0));",
    })
    .temp("sq"),
    map("tanh", "a.tanh()", "tanh({0})", "`a.tanh()` is the hyperbolic tangent entrywise", Map {
        params: &[],
        forward: "x.tanh()",
        derivative: "g * (1 - y * y)",
        reads: Reads::Output,
        doc: "The hyperbolic tangent",
        example: "assert_eq!(Mat::<1, 2>::zeros().tanh(), Mat::zeros());",
    })
    .scalar(),
    map("sigmoid", "a.sigmoid()", "σ({0})", "`a.sigmoid()` is 1 / (1 + e⁻ᵃ) entrywise", Map {
        params: &[],
        forward: "if x >= 0 { 1 / (1 + (-x).exp()) } else { x.exp() / (1 + x.exp()) }",
        derivative: "g * y * (1 - y)",
        reads: Reads::Output,
        doc: "The logistic function `1 / (1 + e⁻ᵃ)`, computed without overflow for large `|a|`",
        example: "assert_eq!(Mat::<1, 2>::zeros().sigmoid(), Mat::full(0.5));\n\
                  assert_eq!(Mat::<1, 1>::full(-1000.0).sigmoid()[(0, 0)], 0.0);",
    }),
    map("softplus", "a.softplus()", "softplus({0})", "`a.softplus()` is ln(1 + eᵃ) entrywise, computed without overflow", Map {
        params: &[],
        forward: "x.max(0) + (-x.abs()).exp().ln_1p()",
        derivative: "g / (1 + (-x).exp())",
        reads: Reads::Input,
        doc: "The softplus `ln(1 + eᵃ)`, a smooth ReLU, computed without overflow for large `|a|`",
        example: "assert_eq!(Mat::<1, 1>::zeros().softplus()[(0, 0)], 2f64.ln());\n\
                  assert_eq!(Mat::<1, 2>::from_rows([[1000.0, -1000.0]]).softplus(), Mat::from_rows([[1000.0, 0.0]]));",
    }),
    map("log_sigmoid", "a.log_sigmoid()", "log σ({0})", "`a.log_sigmoid()` is ln(1 / (1 + e⁻ᵃ)) entrywise, computed without overflow", Map {
        params: &[],
        forward: "x.min(0) - (-x.abs()).exp().ln_1p()",
        derivative: "g / (1 + x.exp())",
        reads: Reads::Input,
        doc: "The logarithm of the logistic function, `ln σ(a) = −softplus(−a)`, computed without overflow for large `|a|`",
        example: "assert_eq!(Mat::<1, 1>::zeros().log_sigmoid()[(0, 0)], -(2f64.ln()));\n\
                  assert_eq!(Mat::<1, 2>::from_rows([[1000.0, -1000.0]]).log_sigmoid(), Mat::from_rows([[0.0, -1000.0]]));",
    }),
    map("ln_1p", "a.ln_1p()", "ln(1 + {0})", "`a.ln_1p()` is ln(1 + a) entrywise, accurate for small `a`", Map {
        params: &[],
        forward: "x.ln_1p()",
        derivative: "g / (1 + x)",
        reads: Reads::Input,
        doc: "`ln(1 + a)`, accurate when `a` is small (as `f64::ln_1p`)",
        example: "assert_eq!(Mat::<1, 2>::zeros().ln_1p(), Mat::zeros());",
    })
    .scalar(),
    map("clamp", "a.clamp(lo, hi)", "clamp({0}, {1}, {2})", "`a.clamp(lo, hi)` limits every entry to [lo, hi], for constant scalars `lo ≤ hi`", Map {
        params: &[("lo", Param::Elem), ("hi", Param::Elem)],
        forward: "x.max(lo).min(hi)",
        derivative: "if x >= lo && x <= hi { g } else { 0 }",
        reads: Reads::Input,
        doc: "Every entry limited to `[lo, hi]`; the gradient is 0 outside the range and `d_out` inside it, bounds included",
        example: "let a = Mat::from_rows([[-2.0, 0.5, 3.0]]);\n\
                  assert_eq!(a.clamp(-1.0, 1.0), Mat::from_rows([[-1.0, 0.5, 1.0]]));\n\
                  assert_eq!(a.clamp_backward(-1.0, 1.0, Mat::full(1.0)), Mat::from_rows([[0.0, 1.0, 0.0]]));",
    })
    .scalar()
    .shaped(shape::clamp)
    .shapes("[R×C] → [R×C], `lo`, `hi` constant scalars; a scalar too"),
    map2("maximum", "a.maximum(&b)", "max({0}, {1})", "`a.maximum(&b)` is the larger of `a` and `b` entrywise; on a tie the gradient goes to `a`", Map2 {
        forward: "a.max(b)",
        derivatives: ["if a >= b { g } else { 0 }", "if a >= b { 0 } else { g }"],
        doc: "The larger of two matrices, entrywise; the gradient goes to the larger operand, and to `self` on a tie",
        example: "let a = Mat::from_rows([[1.0, 5.0, 2.0]]);\n\
                  let b = Mat::from_rows([[3.0, 4.0, 2.0]]);\n\
                  assert_eq!(a.maximum(&b), Mat::from_rows([[3.0, 5.0, 2.0]]));\n\
                  assert_eq!(a.maximum_backward_a(&b, Mat::full(1.0)), Mat::from_rows([[0.0, 1.0, 1.0]]));",
    }),
    map2("minimum", "a.minimum(&b)", "min({0}, {1})", "`a.minimum(&b)` is the smaller of `a` and `b` entrywise; on a tie the gradient goes to `a`", Map2 {
        forward: "a.min(b)",
        derivatives: ["if a <= b { g } else { 0 }", "if a <= b { 0 } else { g }"],
        doc: "The smaller of two matrices, entrywise; the gradient goes to the smaller operand, and to `self` on a tie",
        example: "let a = Mat::from_rows([[1.0, 5.0, 2.0]]);\n\
                  let b = Mat::from_rows([[3.0, 4.0, 2.0]]);\n\
                  assert_eq!(a.minimum(&b), Mat::from_rows([[1.0, 4.0, 2.0]]));\n\
                  assert_eq!(a.minimum_backward_b(&b, Mat::full(1.0)), Mat::from_rows([[0.0, 1.0, 0.0]]));",
    }),
    map("relu", "a.relu()", "max({0}, 0)", "`a.relu()` is max(a, 0) entrywise", Map {
        params: &[],
        forward: "x.max(0)",
        derivative: "if y > 0 { g } else { 0 }",
        reads: Reads::Output,
        doc: "`max(a, 0)`; the gradient at the kink `a = 0` is 0",
        example: "let a = Mat::from_rows([[-1.0, 0.0, 2.0]]);\n\
                  assert_eq!(a.relu(), Mat::from_rows([[0.0, 0.0, 2.0]]));\n\
                  assert_eq!(a.relu().relu_backward(Mat::full(1.0)), Mat::from_rows([[0.0, 0.0, 1.0]]));",
    }),
    map("abs", "a.abs()", "|{0}|", "`a.abs()` is |a| entrywise", Map {
        params: &[],
        forward: "x.abs()",
        derivative: "if x > 0 { g } else if x < 0 { -g } else { 0 }",
        reads: Reads::Input,
        doc: "`|a|`; the gradient at the kink `a = 0` is 0",
        example: "let a = Mat::from_rows([[-2.0, 0.0, 3.0]]);\n\
                  assert_eq!(a.abs(), Mat::from_rows([[2.0, 0.0, 3.0]]));\n\
                  assert_eq!(a.abs_backward(Mat::full(1.0)), Mat::from_rows([[-1.0, 0.0, 1.0]]));",
    })
    .scalar(),
    // ---- reductions ----
    reduction("row_sums", "[R×C] → [R×1]", "Σ_cols {0}", "`a.row_sums()` sums each row: [R × C] → [R × 1]", shape::per_row, Axis::Cols, false),
    reduction("col_sums", "[R×C] → [1×C]", "Σ_rows {0}", "`a.col_sums()` sums each column: [R × C] → [1 × C]", shape::per_col, Axis::Rows, false),
    reduction("row_means", "[R×C] → [R×1]", "mean_cols {0}", "`a.row_means()` is the mean of each row: [R × C] → [R × 1]", shape::per_row, Axis::Cols, true),
    reduction("col_means", "[R×C] → [1×C]", "mean_rows {0}", "`a.col_means()` is the mean of each column: [R × C] → [1 × C]", shape::per_col, Axis::Rows, true),
    reduction("sum", "[R×C] → scalar", "Σ {0}", "`a.sum()` is the sum of all entries, a scalar", shape::total, Axis::All, false),
    reduction("mean", "[R×C] → scalar", "mean({0})", "`a.mean()` is the mean of all entries, a scalar", shape::total, Axis::All, true),
    Op {
        name: "row_max",
        form: method(0),
        syntax: "a.row_max()",
        shapes: "[R×C] → [R×1]",
        shape: shape::per_row,
        usage: "`a.row_max()` is the largest entry of each row: [R × C] → [R × 1]",
        show: "max_cols {0}",
        temp: "row_max",
        grad: Grad::Custom(Custom { constants: &[], uses: |_| READS_A, vjp: vjp::row_max, readme: "`g[i]` goes to row i's arg-max; on a tie, to the first (leftmost) maximum" }),
        consuming: false,
        with_backward: false,
        scalar: false,
    },
    Op {
        name: "inner",
        form: method(1),
        syntax: "a.inner(&b)",
        shapes: "[R×C], [R×C] → scalar: `Σ a ∘ b`",
        shape: shape::inner,
        usage: "`a.inner(&b)` is Σ a ∘ b, the sum of the entrywise products of two matrices of the same shape, a scalar",
        show: "Σ {0} ∘ {1}",
        temp: "inner",
        grad: Grad::Dots { axis: Axis::All },
        consuming: false,
        with_backward: false,
        scalar: false,
    },
    Op {
        name: "row_dots",
        form: method(1),
        syntax: "a.row_dots(&b)",
        shapes: "[R×C], [R×C] → [R×1]: `Σ_cols a ∘ b`",
        shape: shape::row_dots,
        usage: "`a.row_dots(&b)` is the dot product of each row of `a` with the same row of `b`: [R × C], [R × C] → [R × 1]",
        show: "Σ_cols {0} ∘ {1}",
        temp: "row_dots",
        grad: Grad::Dots { axis: Axis::Cols },
        consuming: false,
        with_backward: false,
        scalar: false,
    },
    squares("sum_squares", "[R×C] → scalar: `Σ a²`", "Σ {0}²", "`a.sum_squares()` is Σ a², the sum of the squares of all entries, a scalar", shape::total, Axis::All, false),
    squares("mean_squares", "[R×C] → scalar: `mean(a²)`", "mean({0}²)", "`a.mean_squares()` is the mean of the squares of all entries, a scalar", shape::total, Axis::All, true),
    squares("row_sum_squares", "[R×C] → [R×1]", "Σ_cols {0}²", "`a.row_sum_squares()` sums the squares of each row: [R × C] → [R × 1]", shape::per_row, Axis::Cols, false),
    squares("col_sum_squares", "[R×C] → [1×C]", "Σ_rows {0}²", "`a.col_sum_squares()` sums the squares of each column: [R × C] → [1 × C]", shape::per_col, Axis::Rows, false),
    squares("row_mean_squares", "[R×C] → [R×1]", "mean_cols {0}²", "`a.row_mean_squares()` is the mean of the squares of each row: [R × C] → [R × 1]", shape::per_row, Axis::Cols, true),
    squares("col_mean_squares", "[R×C] → [1×C]", "mean_rows {0}²", "`a.col_mean_squares()` is the mean of the squares of each column: [R × C] → [1 × C]", shape::per_col, Axis::Rows, true),
    // ---- labels, softmax, losses ----
    Op {
        name: "pick",
        form: method(1),
        syntax: "a.pick(&y)",
        shapes: "[R×C] with `Labels<R, C>` → [R×1]; 0 at a row `y` ignores",
        shape: shape::pick,
        usage: "`a.pick(&y)` takes entry `a[i, y[i]]` of each row: [R × C] with `Labels<R, C>` → [R × 1]",
        show: "{0}[i, {1}ᵢ]",
        temp: "picked",
        grad: Grad::Custom(Custom { constants: &[], uses: |_| READS_LABELS, vjp: vjp::pick, readme: "`d_a[i, yᵢ] += g[i]`; nothing at an ignored row" }),
        consuming: false,
        with_backward: false,
        scalar: false,
    },
    Op {
        name: "labelled_mean",
        form: method(1),
        syntax: "a.labelled_mean(&y)",
        shapes: "[R×1] with `Labels<R, C>` → scalar: the mean over the rows `y` labels",
        shape: shape::labelled_mean,
        usage: "`a.labelled_mean(&y)` is the mean of the [R × 1] column `a` over the rows that `y` labels (a padded batch's padding rows are left out)",
        show: "mean over the rows {1} labels of {0}",
        temp: "labelled_mean",
        grad: Grad::Custom(Custom { constants: &[], uses: |_| vjp::READS_LABELS_ONLY, vjp: vjp::labelled_mean, readme: "`d_a += g / n` at the `n` labelled rows, 0 at the ignored ones" }),
        consuming: false,
        with_backward: false,
        scalar: false,
    },
    Op {
        name: "softmax_rows",
        form: method(0),
        syntax: "a.softmax_rows()",
        shapes: "[R×C] → [R×C], each row's max subtracted first",
        shape: shape::same,
        usage: "`a.softmax_rows()` is the softmax of each row: [R × C] → [R × C]",
        show: "softmax_rows({0})",
        temp: "softmax",
        grad: Grad::OfOutput { text: "{out} ∘ ({g} − Σ_cols ({g} ∘ {out}))" },
        consuming: true,
        with_backward: false,
        scalar: false,
    },
    Op {
        name: "log_softmax_rows",
        form: method(0),
        syntax: "a.log_softmax_rows()",
        shapes: "[R×C] → [R×C], computed stably",
        shape: shape::same,
        usage: "`a.log_softmax_rows()` is the logarithm of the softmax of each row: [R × C] → [R × C]",
        show: "log_softmax_rows({0})",
        temp: "log_softmax",
        grad: Grad::OfOutput { text: "{g} − exp({out}) ∘ Σ_cols {g}" },
        consuming: true,
        with_backward: false,
        scalar: false,
    },
    Op {
        name: "cross_entropy",
        form: method(1),
        syntax: "a.cross_entropy(&y)",
        shapes: "[R×C] with `Labels<R, C>` → scalar: mean over the labelled rows of −log softmax at the label",
        shape: shape::cross_entropy,
        usage: "`a.cross_entropy(&y)` is the mean over the labelled rows of −log softmax(a)[i, y[i]]: [R × C] with `Labels<R, C>` → scalar",
        show: "mean_i −log softmax({0})[i, {1}ᵢ]",
        temp: "cross_entropy",
        grad: Grad::Custom(Custom { constants: &[], uses: |_| CROSS_ENTROPY, vjp: vjp::fused_loss, readme: "`d_a += g · (softmax(a) − onehot(y)) / n` at the `n` labelled rows, 0 at the ignored ones" }),
        consuming: false,
        with_backward: true,
        scalar: false,
    },
    Op {
        name: "row_norms",
        form: method(0),
        syntax: "a.row_norms()",
        shapes: "[R×C] → [R×1]: `√(Σ_cols a²)`",
        shape: shape::per_row,
        usage: "`a.row_norms()` is the Euclidean norm of each row: [R × C] → [R × 1]",
        show: "‖{0}‖_rows",
        temp: "row_norms",
        grad: Grad::Custom(Custom { constants: &[], uses: |_| vjp::ROW_NORMS, vjp: vjp::row_norms, readme: "`d_a += g ∘ a / out`, `g` and `out` repeated over the columns; 0 on a zero row" }),
        consuming: false,
        with_backward: false,
        scalar: false,
    },
    loss("mse", "a.mse(&t)", "[R×C], [R×C] → scalar: `mean((a − t)²)`", "`a.mse(&t)` is the mean squared error over all R·C entries", "mean(({0} − {1})²)", Custom { constants: &[], uses: vjp::loss_uses, vjp: vjp::mse, readme: "`d_a += 2·g · (a − t) / (R·C)`, `d_t −= 2·g · (a − t) / (R·C)`" }),
    loss("huber", "a.huber(&t, delta)", "[R×C], [R×C], constant `delta` → scalar: mean of `0.5·d²` where `|d| ≤ delta`, `delta·(|d| − 0.5·delta)` elsewhere, `d = a − t`", "`a.huber(&t, delta)` is the mean Huber loss over all R·C entries (PyTorch's HuberLoss), for a constant `delta > 0`", "mean huber_{2}({0} − {1})", Custom { constants: &[2], uses: vjp::loss_uses, vjp: vjp::huber, readme: "`d_a += g · clamp(a − t, −delta, delta) / (R·C)`, `d_t −=` the same" })
        .shaped(shape::huber)
        .args(2),
    loss("bce_with_logits", "a.bce_with_logits(&t)", "[R×C] logits, [R×C] targets in [0, 1] → scalar: mean of `max(a, 0) − a·t + ln(1 + e^−|a|)`", "`a.bce_with_logits(&t)` is the mean binary cross-entropy of the logits `a` against targets `t` in [0, 1], computed stably", "mean bce(σ({0}), {1})", Custom { constants: &[], uses: vjp::loss_uses, vjp: vjp::bce_with_logits, readme: "`d_a += g · (σ(a) − t) / (R·C)`, `d_t −= g · a / (R·C)`" }),
    loss("cosine_rows", "a.cosine_rows(&b)", "[R×C], [R×C] → scalar: mean over the rows of `1 − cos(aᵢ, bᵢ)`; a zero row gives 1 and no gradient", "`a.cosine_rows(&b)` is the mean over the rows of one minus the cosine of each row pair", "mean_i (1 − cos({0}ᵢ, {1}ᵢ))", Custom { constants: &[], uses: vjp::loss_uses, vjp: vjp::cosine_rows, readme: "row i of `d_a += −g/R · (bᵢ/(‖aᵢ‖‖bᵢ‖) − cos·aᵢ/‖aᵢ‖²)`, and `d_b` with the roles swapped" }),
];

/// An entrywise function of two matrices of the same shape, whose runtime kernels are generated
/// from the row.
const fn map2(
    name: &'static str,
    syntax: &'static str,
    show: &'static str,
    usage: &'static str,
    m: Map2,
) -> Op {
    Op {
        name,
        form: method(1),
        syntax,
        shapes: "[R×C], [R×C] → [R×C]",
        shape: shape::same_pair,
        usage,
        show,
        temp: name,
        grad: Grad::Map2(m),
        consuming: true,
        with_backward: false,
        scalar: false,
    }
}

/// A fused loss of two matrices, whose value and receiver's gradient the runtime also computes
/// in one pass (`{name}_and_backward`).
const fn loss(
    name: &'static str,
    syntax: &'static str,
    shapes: &'static str,
    usage: &'static str,
    show: &'static str,
    c: Custom,
) -> Op {
    Op {
        name,
        form: method(1),
        syntax,
        shapes,
        shape: shape::pair_to_scalar,
        usage,
        show,
        temp: name,
        grad: Grad::Custom(c),
        consuming: false,
        with_backward: true,
        scalar: false,
    }
}

/// A sum or mean over rows, columns or every entry.
const fn reduction(
    name: &'static str,
    shapes: &'static str,
    show: &'static str,
    usage: &'static str,
    rule: shape::Rule,
    axis: Axis,
    mean: bool,
) -> Op {
    Op {
        name,
        form: method(0),
        syntax: "",
        shapes,
        shape: rule,
        usage,
        show,
        temp: name,
        grad: Grad::Reduce { axis, mean },
        consuming: false,
        with_backward: false,
        scalar: false,
    }
}

/// A sum or mean of squares, which `fold` makes of `a.square()` feeding a reduction.
const fn squares(
    name: &'static str,
    shapes: &'static str,
    show: &'static str,
    usage: &'static str,
    rule: shape::Rule,
    axis: Axis,
    mean: bool,
) -> Op {
    Op {
        name,
        form: method(0),
        syntax: "",
        shapes,
        shape: rule,
        usage,
        show,
        temp: name,
        grad: Grad::SumOfSquares { axis, mean },
        consuming: false,
        with_backward: false,
        scalar: false,
    }
}

/// A call to another `#[differentiable]` function, `f(a, b)`: its derivative is the callee's
/// companion, `f_backward(a, b, g).into_inputs()`, one gradient per argument in order. The
/// result's shape is the type the caller declares (`let h: Mat<N, H> = f(…)`); rustc checks
/// the arguments against the callee's signature.
pub static CALL: Op = Op {
    name: "call",
    form: Form::Call,
    syntax: "f(&a, …)",
    shapes: "the declared type of the result",
    shape: |_| {
        Err(shape::Mismatch {
            at: shape::At::Op,
            message: "a call's shape is the type declared for its result".to_owned(),
        })
    },
    usage: "`let h: Mat<R, C> = layer(&x, &w);` calls another `#[differentiable]` function",
    show: "{callee}(…)",
    temp: "call",
    grad: Grad::Call,
    consuming: false,
    with_backward: false,
    scalar: false,
};

/// The row of a method name.
pub fn lookup_method(name: &str) -> Option<&'static Op> {
    OPS.iter()
        .find(|r| r.name == name && matches!(r.form, Form::Method { .. }))
}

/// The row of an operator symbol with this many operands.
pub fn lookup_operator(symbol: &str, arity: usize) -> Option<&'static Op> {
    OPS.iter()
        .find(|r| r.name == symbol && matches!(r.form, Form::Operator { arity: a } if a == arity))
}

/// Every method name, in table order.
pub fn method_names() -> Vec<&'static str> {
    OPS.iter()
        .filter(|r| matches!(r.form, Form::Method { .. }))
        .map(|r| r.name)
        .collect()
}

// ---- the README's op table, generated from this one ----

/// The README's op table: one row per op, its gradient written from the row's own formulas.
#[cfg(test)]
pub fn readme_table() -> String {
    let mut out = String::from("| op | shapes | gradient contributions |\n|---|---|---|\n");
    for op in OPS {
        let syntax = if op.syntax.is_empty() {
            format!("a.{}()", op.name)
        } else {
            op.syntax.to_owned()
        };
        out.push_str(&format!(
            "| `{syntax}` | {} | {} |\n",
            op.shapes,
            readme_gradient(op)
        ));
    }
    out
}

/// The gradient column of a row.
#[cfg(test)]
fn readme_gradient(op: &Op) -> String {
    match &op.grad {
        Grad::Map(m) => {
            let f = crate::formula::Formula::parse(m.derivative);
            let text = f.map_or_else(|e| e, |f| crate::kernels::readme_text(&f, "g", None));
            let reuse = if m.reads == Reads::Output {
                " (reuses the result)"
            } else {
                ""
            };
            format!("`d_a += {text}`{reuse}")
        }
        Grad::Map2(m) => {
            let text = |d: &str| {
                crate::formula::Formula::parse(d)
                    .map_or_else(|e| e, |f| crate::kernels::readme_text(&f, "g", None))
            };
            format!(
                "`d_a += {}`, `d_b += {}`",
                text(m.derivatives[0]),
                text(m.derivatives[1])
            )
        }
        Grad::Entrywise(e) => entrywise_readme(e),
        Grad::Reduce { axis, mean } => reduce_readme(*axis, *mean),
        Grad::SumOfSquares { axis, mean } => {
            let over = match axis {
                Axis::All => "",
                Axis::Cols => ", `g` repeated over the columns",
                Axis::Rows => ", `g` repeated over the rows",
            };
            let scale = match (axis, mean) {
                (_, false) => "",
                (Axis::All, true) => " / (R·C)",
                (Axis::Cols, true) => " / C",
                (Axis::Rows, true) => " / R",
            };
            let times = if *axis == Axis::All { " · " } else { " ∘ " };
            format!("`d_a += 2·g{scale}{times}a`{over}")
        }
        Grad::Dots { axis: Axis::Cols } => {
            "`d_a += g ∘ b`, `d_b += g ∘ a`, `g` repeated over the columns".to_owned()
        }
        Grad::Dots { .. } => "`d_a += g · b`, `d_b += g · a`".to_owned(),
        Grad::OfOutput { text } => {
            let text = text.replace("{g}", "g").replace("{out}", "out");
            format!("`d_a += {text}` (reuses the result)")
        }
        Grad::Custom(c) => c.readme.to_owned(),
        Grad::Call => String::new(),
    }
}

#[cfg(test)]
fn entrywise_readme(e: &Entrywise) -> String {
    let terms: Vec<String> = e
        .derivatives
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let name = ["a", "b"].get(i).copied().unwrap_or("c");
            let repeated = i == 1 && matches!(e.repeated, Repeated::Row | Repeated::Col);
            let Ok(f) = crate::formula::Formula::parse(d) else {
                return format!("`{d}`");
            };
            let text = if repeated {
                let along = if e.repeated == Repeated::Row {
                    "Σ_rows"
                } else {
                    "Σ_cols"
                };
                repeated_text(&f, along)
            } else {
                crate::kernels::readme_text(&f, "g", None)
            };
            match text.strip_prefix('−') {
                Some(rest) => format!("`d_{name} −= {rest}`"),
                None => format!("`d_{name} += {text}`"),
            }
        })
        .collect();
    let mut out = terms.join(", ");
    if e.repeated == Repeated::Scalar && e.derivatives.len() > 1 {
        out.push_str("; a scalar with a matrix gets `Σ` of its term");
    }
    out
}

/// `−Σ_rows (g ∘ out) / b`: a repeated operand's term, summed over the entries it was repeated
/// to, with itself taken out of the sum.
#[cfg(test)]
fn repeated_text(f: &crate::formula::Formula, along: &str) -> String {
    let Some(p) = f.product() else {
        return String::new();
    };
    let name = |v: &str| {
        if v == "y" {
            "out".to_owned()
        } else {
            v.to_owned()
        }
    };
    let mut summed = String::from("g");
    let mut outside = String::new();
    for (v, divide) in p
        .num
        .iter()
        .map(|v| (v, false))
        .chain(p.den.iter().map(|v| (v, true)))
    {
        let part = format!("{}{}", if divide { " / " } else { " ∘ " }, name(v));
        if v == "b" {
            outside.push_str(&part);
        } else {
            summed.push_str(&part);
        }
    }
    if summed.contains(' ') {
        summed = format!("({summed})");
    }
    format!(
        "{}{along} {summed}{outside}",
        if p.negate { "−" } else { "" }
    )
}

#[cfg(test)]
fn reduce_readme(axis: Axis, mean: bool) -> String {
    match (axis, mean) {
        (Axis::Cols, false) => "`d_a += g` repeated over the columns".to_owned(),
        (Axis::Cols, true) => "`d_a += g / C` repeated over the columns".to_owned(),
        (Axis::Rows, false) => "`d_a += g` repeated over the rows".to_owned(),
        (Axis::Rows, true) => "`d_a += g / R` repeated over the rows".to_owned(),
        (Axis::All, false) => "`d_a += g` in every entry".to_owned(),
        (Axis::All, true) => "`d_a += g / (R·C)` in every entry".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formula::Formula;
    use crate::vjp::slot_of;
    use quote::ToTokens;

    /// Every formula of the table parses, and a map's derivative reads what the row declares.
    #[test]
    fn every_formula_parses_and_reads_what_it_declares() {
        for op in OPS {
            match &op.grad {
                Grad::Map(m) => check_map(op, m),
                Grad::Map2(m) => check_map2(op, m),
                Grad::Entrywise(e) => check_entrywise(op, e),
                _ => {}
            }
        }
    }

    fn check_map(op: &Op, m: &Map) {
        let forward = Formula::parse(m.forward).unwrap();
        let params: Vec<&str> = m.params.iter().map(|(n, _)| *n).collect();
        for v in forward.vars() {
            assert!(v == "x" || params.contains(&v.as_str()), "{}: {v}", op.name);
        }
        let d = Formula::parse(m.derivative).unwrap();
        let read = match m.reads {
            Reads::Input => "x",
            Reads::Output => "y",
        };
        for v in d.vars() {
            let known = v == "g" || v == read || params.contains(&v.as_str());
            assert!(
                known,
                "{}: the derivative reads `{v}`, not declared",
                op.name
            );
        }
        assert_eq!(
            op.form,
            Form::Method {
                args: m.params.len()
            },
            "{}",
            op.name
        );
        assert!(op.consuming, "{}: maps are generated with into_", op.name);
    }

    fn check_map2(op: &Op, m: &Map2) {
        let forward = Formula::parse(m.forward).unwrap();
        let derivatives = m.derivatives.map(|d| Formula::parse(d).unwrap());
        for v in forward.vars() {
            assert!(v == "a" || v == "b", "{}: {v}", op.name);
        }
        for v in derivatives.iter().flat_map(Formula::vars) {
            assert!(["a", "b", "g"].contains(&v.as_str()), "{}: {v}", op.name);
        }
        assert_eq!(op.form, Form::Method { args: 1 }, "{}", op.name);
    }

    fn check_entrywise(op: &Op, e: &Entrywise) {
        let arity = match op.form {
            Form::Operator { arity } => arity,
            Form::Method { args } => args + 1,
            Form::Call => 0,
        };
        assert_eq!(e.derivatives.len(), arity, "{}", op.name);
        for d in e.derivatives {
            let f = Formula::parse(d).unwrap();
            // The reverse stage writes these as matrix code with broadcasting.
            assert!(
                f.product().is_some(),
                "{}: `{d}` is not g times a product",
                op.name
            );
            for v in f.vars() {
                assert!(slot_of(&v).is_some(), "{}: unknown `{v}`", op.name);
            }
        }
    }

    #[test]
    fn every_op_is_found_by_its_own_name() {
        for op in OPS {
            let found = match op.form {
                Form::Method { .. } => lookup_method(op.name),
                Form::Operator { arity } => lookup_operator(op.name, arity),
                Form::Call => panic!("calls are not in the table: {}", op.name),
            };
            assert!(found.is_some_and(|f| std::ptr::eq(f, op)), "{}", op.name);
        }
    }

    /// The name of an op's line in `tests/paths.rs`: the method, or the operator's shape rule.
    fn paths_key(op: &Op) -> &'static str {
        match (op.name, op.form) {
            ("+", _) => "plus",
            ("-", Form::Operator { arity: 2 }) => "minus",
            ("-", _) => "negate",
            ("*", _) => "times",
            ("/", _) => "over",
            (name, _) => name,
        }
    }

    /// Every row is driven through every code path by `tests/paths.rs`.
    #[test]
    fn every_op_has_its_line_in_the_all_paths_test() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/paths.rs");
        let paths = std::fs::read_to_string(path).expect("tests/paths.rs");
        for op in OPS {
            let line = format!("\npaths!({}, ", paths_key(op));
            assert!(
                paths.contains(&line),
                "tests/paths.rs has no line for `{}`",
                op.name
            );
        }
    }

    /// The README's op table is the user's reference: it is generated from this one.
    /// `GRADGEN_README=overwrite cargo test -p gradgen-macros readme` rewrites it.
    #[test]
    fn the_readme_op_table_is_generated_from_this_one() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
        let readme = std::fs::read_to_string(&path).expect("README.md");
        let start = readme
            .find("\n| op | shapes |")
            .expect("the README has the op table")
            + 1;
        let len = readme[start..]
            .find("\n\n")
            .map_or(readme.len() - start, |n| n + 1);
        let expected = readme_table();
        if std::env::var("GRADGEN_README").is_ok_and(|v| v == "overwrite") {
            let updated = format!("{}{expected}{}", &readme[..start], &readme[start + len..]);
            std::fs::write(&path, updated).expect("a writable README");
            return;
        }
        assert_eq!(
            &readme[start..start + len],
            expected,
            "the README's op table differs from the op table: run \
             `GRADGEN_README=overwrite cargo test -p gradgen-macros readme` and read the diff"
        );
    }

    /// `Mat`'s rustdoc shows the same table (`gradgen/src/ops/table.md`, included in its docs);
    /// the same command rewrites it.
    #[test]
    fn the_readme_op_table_in_the_rustdoc_is_generated_from_this_one() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../gradgen/src/ops/table.md");
        let expected = format!(
            "# Differentiable operations\n\n\
             Generated from the macro's op table, as the README's is. `g` is the gradient flowing \
             into the operation's result and `d_a`, `d_b` are the gradients of its operands; \
             `R`, `C` stand for any dimensions. `n` is the number of rows that labels `y` label: \
             a padded batch's padding rows take no part.\n\n{}",
            readme_table()
        );
        if std::env::var("GRADGEN_README").is_ok_and(|v| v == "overwrite") {
            std::fs::write(&path, &expected).expect("a writable gradgen/src/ops/table.md");
            return;
        }
        let found = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(
            found, expected,
            "gradgen/src/ops/table.md differs from the op table: run \
             `GRADGEN_README=overwrite cargo test -p gradgen-macros readme` and read the diff"
        );
    }

    /// What `Mat`'s rustdoc shows is either an op of this table, whose documentation states its
    /// gradient, or a method that says it is not differentiable (in its own documentation or in
    /// its `impl` block's); the kernels the generated code calls are `#[doc(hidden)]`, and no
    /// op is. Read from the runtime's source and from the methods generated from `Map` rows;
    /// the methods that `macro_rules!` write in `broadcast.rs` and `squares.rs` are not seen.
    #[test]
    fn the_rustdoc_of_mat_separates_the_ops_from_everything_else() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../gradgen/src");
        let mut files = vec![dir.join("mat.rs")];
        let ops = std::fs::read_dir(dir.join("ops")).expect("gradgen/src/ops");
        files.extend(
            ops.map(|e| e.expect("an entry").path())
                .filter(|p| p.extension().is_some_and(|e| e == "rs")),
        );
        let mut sources: Vec<(String, syn::File)> = files
            .iter()
            .map(|f| {
                let text = std::fs::read_to_string(f).expect("a source file");
                (
                    f.display().to_string(),
                    syn::parse_file(&text).expect("the runtime parses"),
                )
            })
            .collect();
        let generated = syn::parse2(crate::kernels::elementwise()).expect("the kernels parse");
        sources.push(("the kernels generated from the table".to_owned(), generated));
        let names = method_names();
        let (mut seen, mut problems) = (0, Vec::new());
        for (file, parsed) in &sources {
            for (block_doc, method) in mat_methods(parsed) {
                let name = method.sig.ident.to_string();
                let is_op = names.contains(&name.as_str());
                let hidden = method
                    .attrs
                    .iter()
                    .any(|a| a.to_token_stream().to_string().replace(' ', "") == "#[doc(hidden)]");
                let doc = docs(&method.attrs);
                let place = format!("{file}: `{name}`");
                seen += 1;
                let problem = match (is_op, hidden) {
                    (true, true) => "is an op but hidden from the docs",
                    (true, false) if !doc.contains("Gradient") => {
                        "is an op whose docs do not state its gradient"
                    }
                    (false, false)
                        if !(doc + &block_doc)
                            .to_lowercase()
                            .contains("not differentiable") =>
                    {
                        "is not an op: hide it (a kernel) or say it is not differentiable"
                    }
                    _ => continue,
                };
                problems.push(format!("{place} {problem}"));
            }
        }
        assert!(seen > 50, "read only {seen} methods of `Mat`");
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    /// The public methods of every inherent `impl … Mat<…>` of a file, with the block's docs.
    fn mat_methods(file: &syn::File) -> Vec<(String, &syn::ImplItemFn)> {
        let mut out = Vec::new();
        for item in &file.items {
            let syn::Item::Impl(block) = item else {
                continue;
            };
            let syn::Type::Path(ty) = &*block.self_ty else {
                continue;
            };
            if block.trait_.is_some() || ty.path.segments.last().is_none_or(|s| s.ident != "Mat") {
                continue;
            }
            let block_doc = docs(&block.attrs);
            for inner in &block.items {
                if let syn::ImplItem::Fn(f) = inner {
                    if matches!(f.vis, syn::Visibility::Public(_)) {
                        out.push((block_doc.clone(), f));
                    }
                }
            }
        }
        out
    }

    fn docs(attrs: &[syn::Attribute]) -> String {
        attrs
            .iter()
            .filter_map(|a| match &a.meta {
                syn::Meta::NameValue(nv) if nv.path.is_ident("doc") => {
                    Some(nv.value.to_token_stream().to_string())
                }
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}
