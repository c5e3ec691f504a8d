//! User names that collide with what the generated code uses (`d_out`, `grads`, `value`, `check`,
//! names starting with `__`, op names, gradient names) compile and give correct gradients.

use crate::common::Rng;
use gradgen::prelude::*;

#[differentiable]
fn clash<const N: usize>(
    d_out: &Mat<N, 3>,
    value: &Mat<3, 2>,
    grads: &Mat<N, 2>,
    check: f64,
) -> f64 {
    let d_d_out = d_out.matmul(value); // a user name shaped like a gradient name
    let d_value = &d_d_out * grads;
    let __x = d_value.exp();
    let exp = __x.sum();
    let matmul = exp * check;
    let r#type = matmul + exp;
    r#type - check
}

#[test]
fn generated_names_never_capture_user_names() {
    let mut rng = Rng::new(60);
    let (d_out, value, grads): (Mat<4, 3>, Mat<3, 2>, Mat<4, 2>) =
        (rng.mat(-0.5, 0.5), rng.mat(-0.5, 0.5), rng.mat(-0.5, 0.5));
    let check = 0.75;
    let (d_out, value, grads) = (&d_out, &value, &grads);
    // The value field steps aside for the parameter named `value`.
    let g = clash_backward(d_out, value, grads, check, 1.0);
    assert_eq!(g.forward_value, clash(d_out, value, grads, check));
    let r_d_out = gradgen::check::gradient(
        |d_out: &_| clash(d_out, value, grads, check),
        d_out,
        &g.d_out,
    );
    let r_value = gradgen::check::gradient(
        |value: &_| clash(d_out, value, grads, check),
        value,
        &g.value,
    );
    let r_grads = gradgen::check::gradient(
        |grads: &_| clash(d_out, value, grads, check),
        grads,
        &g.grads,
    );
    for (name, r) in [("d_out", r_d_out), ("value", r_value), ("grads", r_grads)] {
        assert!(r.passes(1e-6), "{name}: {r}");
    }
    let report = clash_gradcheck(d_out, value, grads, check);
    assert!(report.passes(1e-6), "{report}");
    assert_eq!(report.inputs.len(), 3);
}

#[differentiable]
fn shadowing_everything<const N: usize>(x: &Mat<N, 2>) -> f64 {
    let x = x.exp();
    let x = x.ln();
    let x = &x * &x;
    let x_exp = x.sum();
    let x = x.mean();
    x + x_exp
}

#[test]
fn shadowed_parameters_and_intermediate_names() {
    let mut rng = Rng::new(61);
    let x: Mat<3, 2> = rng.mat(-1.0, 1.0);
    let x = &x;
    assert_gradients!(
        shadowing_everything(x),
        shadowing_everything_backward(x, 1.0),
        wrt[x],
        1e-6
    );
}

/// Parameters taken by value are cloned where the check needs them again.
#[differentiable]
fn by_value<const N: usize>(x: Mat<N, 2>, y: Labels<N, 2>, scale: f64) -> f64 {
    (x * scale).cross_entropy(&y)
}

#[test]
fn parameters_by_value() {
    let mut rng = Rng::new(62);
    let x: Mat<5, 2> = rng.mat(-1.0, 1.0);
    let y: Labels<5, 2> = rng.labels();
    let g = by_value_backward(x.clone(), y.clone(), 2.0, 1.0);
    assert_eq!(g.value, by_value(x.clone(), y.clone(), 2.0));
    let report = by_value_gradcheck(x, y, 2.0);
    assert!(report.passes(1e-6), "{report}");
}

/// A weight declared with a raw identifier is the same weight as the plain name that reads it.
#[model]
struct Raw<const D: usize> {
    r#w: Mat<D, 1>,
}

#[differentiable]
impl<const D: usize> Raw<D> {
    #[differentiable]
    fn loss<const N: usize>(&self, x: &Mat<N, D>) -> f64 {
        x.matmul(&self.w).tanh().sum()
    }
}

#[test]
fn a_raw_weight_name_is_read_by_its_plain_name() {
    let mut rng = Rng::new(61);
    let model = Raw::<3> {
        w: rng.mat(-0.5, 0.5),
    };
    let x: Mat<4, 3> = rng.mat(-1.0, 1.0);
    let (value, _) = model.loss_backward(&x, 1.0);
    assert_eq!(value, model.loss(&x));
    assert!(model.loss_gradcheck(&x).passes(1e-6));
}
