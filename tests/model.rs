//! Models with weights: `#[model]` on the struct, `#[differentiable]` on its `impl`.

use crate::common::Rng;
use gradgen::prelude::*;

/// A two-layer ReLU network; the matrices are its weights, `name` is not.
#[model]
#[derive(Clone, Debug)]
pub struct Mlp<const D: usize, const H: usize, const C: usize> {
    pub w1: Mat<D, H>,
    pub b1: Mat<1, H>,
    pub w2: Mat<H, C>,
    pub b2: Mat<1, C>,
    pub name: &'static str,
}

#[differentiable]
impl<const D: usize, const H: usize, const C: usize> Mlp<D, H, C> {
    /// The softmax loss on a batch.
    #[differentiable]
    pub fn loss<const N: usize>(&self, x: &Mat<N, D>, y: &Labels<N, C>) -> f64 {
        let hidden = x.matmul(&self.w1).add_row(&self.b1).relu();
        hidden.matmul(&self.w2).add_row(&self.b2).cross_entropy(y)
    }

    /// Reads only the first layer: the other weights get zero gradients.
    #[differentiable]
    pub fn first_layer_energy<const N: usize>(&self, x: &Mat<N, D>) -> f64 {
        x.matmul(&self.w1).add_row(&self.b1).square().mean()
    }

    /// Not differentiable: an ordinary method in the same impl.
    pub fn predict<const N: usize>(&self, x: &Mat<N, D>) -> Mat<N, C> {
        x.matmul(&self.w1)
            .add_row(&self.b1)
            .relu()
            .matmul(&self.w2)
            .add_row(&self.b2)
    }
}

/// The same loss as a free function of the weights.
#[differentiable(wrt(w1, b1, w2, b2))]
#[allow(clippy::too_many_arguments)]
fn free_loss<const N: usize, const D: usize, const H: usize, const C: usize>(
    w1: &Mat<D, H>,
    b1: &Mat<1, H>,
    w2: &Mat<H, C>,
    b2: &Mat<1, C>,
    x: &Mat<N, D>,
    y: &Labels<N, C>,
) -> f64 {
    let hidden = x.matmul(w1).add_row(b1).relu();
    hidden.matmul(w2).add_row(b2).cross_entropy(y)
}

fn model(rng: &mut Rng) -> Mlp<3, 5, 4> {
    Mlp {
        w1: rng.mat(-1.0, 1.0),
        b1: rng.mat(-0.5, 0.5),
        w2: rng.mat(-1.0, 1.0),
        b2: rng.mat(-0.5, 0.5),
        name: "test",
    }
}

#[test]
fn a_method_gets_the_gradients_of_the_weights_it_reads() {
    let mut rng = Rng::new(100);
    let m = model(&mut rng);
    let x: Mat<6, 3> = rng.mat(-1.0, 1.0);
    let y: Labels<6, 4> = rng.labels();
    let (value, grads): (f64, MlpGrads<3, 5, 4>) = m.loss_backward(&x, &y, 1.0);
    // The backward computes the value with the gradient, in one pass: equal up to rounding.
    assert!((value - m.loss(&x, &y)).abs() < 1e-12);
    assert_eq!(
        m.loss(&x, &y),
        free_loss(&m.w1, &m.b1, &m.w2, &m.b2, &x, &y)
    );
    let free = free_loss_backward(&m.w1, &m.b1, &m.w2, &m.b2, &x, &y, 1.0);
    assert_eq!(value, free.value);
    assert_eq!(
        (&grads.w1, &grads.b1, &grads.w2, &grads.b2),
        (&free.w1, &free.b1, &free.w2, &free.b2)
    );
    // Against finite differences, weight by weight.
    let r = gradgen::check::gradient(
        |w1: &Mat<3, 5>| {
            Mlp {
                w1: w1.clone(),
                ..m.clone()
            }
            .loss(&x, &y)
        },
        &m.w1,
        &grads.w1,
    );
    assert!(r.passes(1e-6), "{r}");
    let r = gradgen::check::gradient(
        |b2: &Mat<1, 4>| {
            Mlp {
                b2: b2.clone(),
                ..m.clone()
            }
            .loss(&x, &y)
        },
        &m.b2,
        &grads.b2,
    );
    assert!(r.passes(1e-6), "{r}");
    // The generated check, weight by weight, under the method's names.
    let check = m.loss_gradcheck(&x, &y);
    assert!(check.passes(1e-6), "{check}");
    assert_eq!(check.function, "Mlp::loss");
    let names: Vec<&str> = check.inputs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["w1", "b1", "w2", "b2"]);
}

#[test]
fn weights_a_method_does_not_read_get_zeros() {
    let mut rng = Rng::new(101);
    let m = model(&mut rng);
    let x: Mat<6, 3> = rng.mat(-1.0, 1.0);
    let (value, grads) = m.first_layer_energy_backward(&x, 1.0);
    assert_eq!(value, m.first_layer_energy(&x));
    assert_eq!(grads.w2, Mat::zeros());
    assert_eq!(grads.b2, Mat::zeros());
    assert!(grads.w1.to_vec().iter().any(|v| v.abs() > 1e-6));
}

#[test]
fn step_moves_every_weight_against_its_gradient() {
    let mut rng = Rng::new(102);
    let mut m = model(&mut rng);
    let x: Mat<8, 3> = rng.mat(-1.0, 1.0);
    let y: Labels<8, 4> = rng.labels();
    let before = m.loss(&x, &y);
    for _ in 0..50 {
        let (_, grads) = m.loss_backward(&x, &y, 1.0);
        m.step(&grads, 0.1);
    }
    assert!(m.loss(&x, &y) < before, "{} vs {before}", m.loss(&x, &y));
    assert_eq!(m.predict(&x).to_vec().len(), 32);
    assert_eq!(m.name, "test");
}

/// A model whose loss calls its own differentiable methods: `predict` with a parameter, and
/// `head` with a value the loss computes (so `head`'s input gradient flows back too).
#[model]
struct Stacked<const D: usize, const H: usize, const C: usize> {
    w1: Mat<D, H>,
    b1: Mat<1, H>,
    w2: Mat<H, C>,
}

#[differentiable]
impl<const D: usize, const H: usize, const C: usize> Stacked<D, H, C> {
    #[differentiable]
    fn hidden<const N: usize>(&self, x: &Mat<N, D>) -> Mat<N, H> {
        x.matmul(&self.w1).add_row(&self.b1).tanh()
    }

    #[differentiable]
    fn head<const N: usize>(&self, h: &Mat<N, H>) -> Mat<N, C> {
        h.matmul(&self.w2)
    }

    /// Calls with a parameter and with a computed value, nested in an expression, and the
    /// weight `w2` read directly as well: its gradient has contributions from every path.
    #[differentiable]
    fn loss<const N: usize>(&self, x: &Mat<N, D>, y: &Labels<N, C>) -> f64 {
        let h = self.hidden(x);
        let scores = self.head(&h);
        scores.cross_entropy(y) + self.w2.square().sum() * 0.01
    }
}

#[test]
fn a_method_calling_methods_gets_the_gradients_of_every_path() {
    let mut rng = Rng::new(88);
    let model = Stacked::<4, 5, 3> {
        w1: rng.mat(-1.0, 1.0),
        b1: rng.mat(-0.5, 0.5),
        w2: rng.mat(-1.0, 1.0),
    };
    let x: Mat<6, 4> = rng.mat(-1.0, 1.0);
    let y: Labels<6, 3> = rng.labels();
    let check = model.loss_gradcheck(&x, &y);
    assert!(check.passes(1e-6), "{check}");
    let (value, grads) = model.loss_backward(&x, &y, 1.0);
    // The same loss written out in one method body.
    let h = x.matmul(&model.w1).add_row(&model.b1).tanh();
    let expected = h.matmul(&model.w2).cross_entropy(&y) + model.w2.square().sum() * 0.01;
    assert!((value - expected).abs() < 1e-12);
    assert_eq!(value, model.loss(&x, &y));
    assert!(grads.w1.as_array().iter().any(|v| v.abs() > 1e-4));
}
