//! The benchmark's hand-written Elman RNN (`workloads::elman_hand`), the reference that the
//! generated backward of issue 14's `for`-loop `elman_loss` will be timed against: its loss and
//! every gradient, in f32, against central differences of the same math in f64.

use crate::common::Rng;
use crate::workloads::{elman_hand, elman_hand_with_inputs, ElmanParams};
use gradgen::check::{self, Report};
use gradgen::ndarray::{Array2, ArrayView2};
use gradgen::prelude::*;

/// The f32 gradients against an f64 estimate: their own rounding reaches 1.4e-5 of the scale
/// on the worst entry here (a small one of `dx₃`, four steps back), with room left for other
/// matmul kernels (FMA or not) to round differently; a gradient 1% off fails.
const TOL: f64 = 1e-4;

/// An input of the RNN in f64 (N = 3 rows, D = 4 inputs, H = 5 hidden units, C = 3 classes):
/// the point at which the f32 code runs, widened exactly.
#[derive(Clone)]
struct Point {
    xs: Vec<Mat<3, 4>>,
    h0: Mat<3, 5>,
    wx: Mat<4, 5>,
    wh: Mat<5, 5>,
    b: Mat<1, 5>,
    wy: Mat<5, 3>,
    by: Mat<1, 3>,
    y: Labels<3, 3>,
}

impl Point {
    /// Random f32 values, widened: `steps` inputs, weights large enough that tanh bends.
    fn random(seed: u64, steps: usize) -> Self {
        let mut rng = Rng::new(seed);
        Point {
            xs: (0..steps).map(|_| f32_point(&mut rng, 1.0)).collect(),
            h0: f32_point(&mut rng, 0.5),
            wx: f32_point(&mut rng, 0.8),
            wh: f32_point(&mut rng, 0.8),
            b: f32_point(&mut rng, 0.5),
            wy: f32_point(&mut rng, 1.0),
            by: f32_point(&mut rng, 0.5),
            y: rng.labels(),
        }
    }

    /// The loss in f64, written with gradgen's runtime ops as the body of the loop version.
    fn loss(&self) -> f64 {
        let mut h = self.h0.clone();
        for x in &self.xs {
            h = (x.matmul(&self.wx) + h.matmul(&self.wh))
                .add_row(&self.b)
                .tanh();
        }
        h.matmul(&self.wy).add_row(&self.by).cross_entropy(&self.y)
    }
}

/// A random f32 matrix, uniform in `[-scale, scale)`, widened to f64.
fn f32_point<const R: usize, const C: usize>(rng: &mut Rng, scale: f64) -> Mat<R, C> {
    rng.mat::<R, C, f32>(-scale, scale).cast()
}

/// The point's values narrowed back to f32 (exactly: they were f32 to begin with), as ndarrays.
struct Narrow {
    xs: Vec<Array2<f32>>,
    params: [Array2<f32>; 6],
    y: Vec<usize>,
}

impl Narrow {
    fn new(p: &Point) -> Self {
        Narrow {
            xs: p.xs.iter().map(narrow).collect(),
            params: [
                narrow(&p.h0),
                narrow(&p.wx),
                narrow(&p.wh),
                narrow(&p.b),
                narrow(&p.wy),
                narrow(&p.by),
            ],
            y: p.y.to_classes().expect("every row labelled"),
        }
    }

    fn views(&self) -> (Vec<ArrayView2<'_, f32>>, ElmanParams<'_>) {
        let [h0, wx, wh, b, wy, by] = &self.params;
        let params = ElmanParams {
            h0: h0.view(),
            wx: wx.view(),
            wh: wh.view(),
            b: b.view(),
            wy: wy.view(),
            by: by.view(),
        };
        (self.xs.iter().map(|x| x.view()).collect(), params)
    }
}

/// An f64 matrix that holds f32 values, as the f32 ndarray the hand-written code takes.
fn narrow<const R: usize, const C: usize>(m: &Mat<R, C>) -> Array2<f32> {
    m.cast::<f32>().into_array()
}

/// An f32 gradient as the f64 matrix the check compares.
fn wide<const R: usize, const C: usize>(grad: &Array2<f32>) -> Mat<R, C> {
    Mat::<R, C, f32>::from_array(grad.clone())
        .expect("the gradient has its input's shape")
        .cast()
}

/// Judges `analytic` against central differences of the loss in the entries of one input,
/// which `set` writes into a copy of the point.
fn judge<const R: usize, const C: usize>(
    point: &Point,
    at: &Mat<R, C>,
    analytic: &Array2<f32>,
    set: impl Fn(&mut Point, &Mat<R, C>),
) -> Report {
    let loss_at = |v: &Mat<R, C>| {
        let mut q = point.clone();
        set(&mut q, v);
        q.loss()
    };
    check::gradient(loss_at, at, &wide(analytic))
}

#[test]
fn every_gradient_of_the_hand_written_elman_rnn_matches_finite_differences() {
    // No step (the loss of h0 alone), one, and four.
    for (seed, steps) in [(150, 0), (151, 1), (152, 4)] {
        let point = Point::random(seed, steps);
        let narrow = Narrow::new(&point);
        let (xs, params) = narrow.views();
        let (loss, g, dxs) = elman_hand_with_inputs(&xs, &params, &narrow.y);
        let value = point.loss();
        assert!(
            (f64::from(loss) - value).abs() <= 1e-6 * value,
            "T = {steps}: loss {loss} vs {value}"
        );
        let reports = [
            (
                "h0",
                judge(&point, &point.h0, &g.h0, |q, v| q.h0 = v.clone()),
            ),
            (
                "wx",
                judge(&point, &point.wx, &g.wx, |q, v| q.wx = v.clone()),
            ),
            (
                "wh",
                judge(&point, &point.wh, &g.wh, |q, v| q.wh = v.clone()),
            ),
            ("b", judge(&point, &point.b, &g.b, |q, v| q.b = v.clone())),
            (
                "wy",
                judge(&point, &point.wy, &g.wy, |q, v| q.wy = v.clone()),
            ),
            (
                "by",
                judge(&point, &point.by, &g.by, |q, v| q.by = v.clone()),
            ),
        ];
        for (name, report) in reports {
            assert!(report.passes(TOL), "T = {steps}, d{name}: {report}");
        }
        assert_eq!(dxs.len(), steps);
        for (t, dx) in dxs.iter().enumerate() {
            let report = judge(&point, &point.xs[t], dx, |q, v| q.xs[t] = v.clone());
            assert!(report.passes(TOL), "T = {steps}, dx{}: {report}", t + 1);
        }
    }
}

#[test]
fn the_tolerance_rejects_a_gradient_one_percent_off() {
    let point = Point::random(152, 4);
    let narrow = Narrow::new(&point);
    let (xs, params) = narrow.views();
    let (_, g) = elman_hand(&xs, &params, &narrow.y);
    let off = &g.wh * 1.01;
    let report = judge(&point, &point.wh, &off, |q, v| q.wh = v.clone());
    assert!(!report.passes(TOL), "{report}");
}

#[test]
fn the_input_gradients_change_nothing_else() {
    let point = Point::random(153, 5);
    let narrow = Narrow::new(&point);
    let (xs, params) = narrow.views();
    let (loss, g) = elman_hand(&xs, &params, &narrow.y);
    let (loss_too, g_too, _) = elman_hand_with_inputs(&xs, &params, &narrow.y);
    assert_eq!(loss.to_bits(), loss_too.to_bits());
    for (a, b) in [
        (&g.h0, &g_too.h0),
        (&g.wx, &g_too.wx),
        (&g.wh, &g_too.wh),
        (&g.b, &g_too.b),
        (&g.wy, &g_too.wy),
        (&g.by, &g_too.by),
    ] {
        assert_eq!(a, b);
    }
}
