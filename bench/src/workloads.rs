//! Workloads shared by the benchmark and the test suite (`tests/main.rs` includes this file).

use gradgen::ndarray::linalg::general_mat_mul;
use gradgen::ndarray::{s, Array1, Array2, Array3, ArrayView2, Axis, Zip};
use gradgen::prelude::*;

// ---- softmax loss: N × D inputs, C classes; differentiated with respect to w and b ----

/// The softmax (cross-entropy) loss of a linear classifier.
#[differentiable(wrt(w, b))]
pub fn softmax_loss<const N: usize, const D: usize, const C: usize>(
    x: &Mat<N, D, f32>,
    w: &Mat<D, C, f32>,
    b: &Mat<1, C, f32>,
    y: &Labels<N, C>,
) -> f32 {
    x.matmul(w).add_row(b).cross_entropy(y)
}

/// Hand-written: one buffer holds the scores, then the probabilities, then their gradient.
pub fn softmax_hand(
    x: &Array2<f32>,
    w: &Array2<f32>,
    b: &Array2<f32>,
    y: &[usize],
) -> (f32, Array2<f32>, Array2<f32>) {
    let n = x.nrows() as f32;
    let mut s = x.dot(w);
    s += b;
    let loss = softmax_cross_entropy_in_place(&mut s, y, n);
    let dw = x.t().dot(&s);
    let db = s.sum_axis(Axis(0)).insert_axis(Axis(0));
    (loss, dw, db)
}

/// Turns scores into the gradient of the mean cross-entropy, `(softmax − onehot) / n`, in
/// place, and returns the loss. Subtracts each row's maximum first.
fn softmax_cross_entropy_in_place(s: &mut Array2<f32>, y: &[usize], n: f32) -> f32 {
    let mut loss = 0.0;
    for (mut row, &label) in s.rows_mut().into_iter().zip(y) {
        let m = row.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let correct = row[label];
        row.mapv_inplace(|v| (v - m).exp());
        let z = row.sum();
        loss += m + z.ln() - correct;
        row.mapv_inplace(|v| v / (z * n));
        row[label] -= 1.0 / n;
    }
    loss / n
}

// ---- two-layer ReLU net with a softmax loss; differentiated with respect to the weights ----

/// A ReLU layer of H units, then a linear layer to C classes and the softmax loss.
#[differentiable(wrt(w1, b1, w2, b2))]
pub fn mlp_loss<const N: usize, const D: usize, const H: usize, const C: usize>(
    x: &Mat<N, D, f32>,
    w1: &Mat<D, H, f32>,
    b1: &Mat<1, H, f32>,
    w2: &Mat<H, C, f32>,
    b2: &Mat<1, C, f32>,
    y: &Labels<N, C>,
) -> f32 {
    let hidden = x.matmul(w1).add_row(b1).relu();
    hidden.matmul(w2).add_row(b2).cross_entropy(y)
}

/// The four gradients of the two-layer net: w1, b1, w2, b2.
pub type MlpGrads = (Array2<f32>, Array2<f32>, Array2<f32>, Array2<f32>);

/// Hand-written two-layer net: forward, then backward with `dH` masked in place.
pub fn mlp_hand(
    x: &Array2<f32>,
    w1: &Array2<f32>,
    b1: &Array2<f32>,
    w2: &Array2<f32>,
    b2: &Array2<f32>,
    y: &[usize],
) -> (f32, MlpGrads) {
    let n = x.nrows() as f32;
    let mut h = x.dot(w1);
    h += b1;
    h.mapv_inplace(|v| v.max(0.0));
    let mut s = h.dot(w2);
    s += b2;
    let loss = softmax_cross_entropy_in_place(&mut s, y, n);
    let dw2 = h.t().dot(&s);
    let db2 = s.sum_axis(Axis(0)).insert_axis(Axis(0));
    let mut dh = s.dot(&w2.t());
    // A select, not a branch: the signs of `h` are unpredictable, and a mispredicted branch
    // per entry costs more than the whole mask.
    dh.zip_mut_with(&h, |d, &hv| *d = if hv > 0.0 { *d } else { 0.0 });
    let dw1 = x.t().dot(&dh);
    let db1 = dh.sum_axis(Axis(0)).insert_axis(Axis(0));
    (loss, (dw1, db1, dw2, db2))
}

// ---- batch norm, training mode, with the loss Σ out ∘ G ----

/// Batch norm written as let-bindings, as in the `batchnorm` example.
#[differentiable(wrt(x, gamma, beta))]
pub fn batchnorm_loss<const N: usize, const D: usize>(
    x: &Mat<N, D, f32>,
    gamma: &Mat<1, D, f32>,
    beta: &Mat<1, D, f32>,
    g: &Mat<N, D, f32>,
    eps: f32,
) -> f32 {
    let mu = x.col_means();
    let xc = x.sub_row(&mu);
    let var = xc.square().col_means();
    let inv_std = (var + eps).sqrt().powi(-1);
    let xhat = xc.mul_row(&inv_std);
    let out = xhat.mul_row(gamma).add_row(beta);
    (out * g).sum()
}

/// The same, with `unfused`: one runtime call per binding, as the derivation reads (the form
/// gradgen generated before fused passes), to measure what fusion gains.
#[differentiable(wrt(x, gamma, beta), unfused)]
pub fn batchnorm_loss_unfused<const N: usize, const D: usize>(
    x: &Mat<N, D, f32>,
    gamma: &Mat<1, D, f32>,
    beta: &Mat<1, D, f32>,
    g: &Mat<N, D, f32>,
    eps: f32,
) -> f32 {
    let mu = x.col_means();
    let xc = x.sub_row(&mu);
    let var = xc.square().col_means();
    let inv_std = (var + eps).sqrt().powi(-1);
    let xhat = xc.mul_row(&inv_std);
    let out = xhat.mul_row(gamma).add_row(beta);
    (out * g).sum()
}

/// The three gradients of batch norm: x, gamma, beta.
pub type BatchnormGrads = (Array2<f32>, Array2<f32>, Array2<f32>);

/// Hand-written batch norm with the closed-form backward, as a careful engineer writes it.
///
/// With `dx̂ = G ∘ γ`, the sums the closed form needs are `Σ_rows dx̂ = γ ∘ dβ` and
/// `Σ_rows dx̂ ∘ x̂ = γ ∘ dγ`, and the loss `Σ (x̂∘γ + β) ∘ G` is `γ·dγ + β·dβ`; so one pass
/// over `G` and `x̂` gives `dγ`, `dβ` and the loss, and
/// `dx = inv_std ∘ γ ∘ (G − (dβ + x̂ ∘ dγ) / N)` is written over `x̂`, entry by entry. One
/// `[N × D]` buffer in all.
pub fn batchnorm_hand(
    x: &Array2<f32>,
    gamma: &Array2<f32>,
    beta: &Array2<f32>,
    g: &Array2<f32>,
    eps: f32,
) -> (f32, BatchnormGrads) {
    let n = x.nrows() as f32;
    let mean = x.sum_axis(Axis(0)) / n;
    let mut xhat = x - &mean;
    let mut inv_std = xhat.fold_axis(Axis(0), 0.0, |&acc, &v| acc + v * v);
    inv_std.mapv_inplace(|s| 1.0 / (s / n + eps).sqrt());
    xhat *= &inv_std;
    let mut dgamma = Array1::<f32>::zeros(x.ncols());
    let mut dbeta = Array1::<f32>::zeros(x.ncols());
    for (h, gr) in xhat.rows().into_iter().zip(g.rows()) {
        Zip::from(&mut dgamma)
            .and(&mut dbeta)
            .and(h)
            .and(gr)
            .for_each(|dg, db, &h, &gv| {
                *dg += gv * h;
                *db += gv;
            });
    }
    let (gamma, beta) = (gamma.row(0), beta.row(0));
    let loss = gamma.dot(&dgamma) + beta.dot(&dbeta);
    for (h, gr) in xhat.rows_mut().into_iter().zip(g.rows()) {
        Zip::from(h)
            .and(gr)
            .and(gamma)
            .and(&inv_std)
            .and(&dbeta)
            .and(&dgamma)
            .for_each(|h, &gv, &gm, &s, &db, &dg| *h = s * gm * (gv - (db + *h * dg) / n));
    }
    let dgamma = dgamma.insert_axis(Axis(0));
    let dbeta = dbeta.insert_axis(Axis(0));
    (loss, (xhat, dgamma, dbeta))
}

/// A model of what a loop-fusing code generator would emit for `batchnorm_loss`; not gradgen's
/// output, and not a reference to beat: a measurement of the fix that BENCHMARKS.md proposes.
///
/// It follows the generated derivation step by step (the same chain rule through the same
/// bindings, no algebra beyond it, `d_out` honoured), but recomputes every elementwise value
/// (`x − μ`, `x̂`, `out`, `d_out₂`, `d_x̂`, `d_xc`) inside the pass that reads it instead of
/// storing it, and splits passes only where a reduction must finish first: μ; the variance;
/// the value with `dβ`, `dγ` and `d inv_std`; `d_xc` with `dμ`; `dμ / N` added to `d_x`.
pub fn batchnorm_fused_model(
    x: &Array2<f32>,
    gamma: &Array2<f32>,
    beta: &Array2<f32>,
    g: &Array2<f32>,
    eps: f32,
    d_out: f32,
) -> (f32, BatchnormGrads) {
    let (rows, d) = x.dim();
    let n = rows as f32;
    // mu = mean_rows x
    let mu = x.sum_axis(Axis(0)) / n;
    let mu = mu.as_slice().expect("contiguous");
    // var = mean_rows (x − mu)², then sum_2 = var + eps and sum_2_sqrt = √sum_2 in its buffer
    let mut sqrt = vec![0.0f32; d];
    for xr in x.rows() {
        let xr = xr.to_slice().expect("contiguous rows");
        for ((v, &xv), &m) in sqrt.iter_mut().zip(xr).zip(mu) {
            let xc = xv - m;
            *v += xc * xc;
        }
    }
    sqrt.iter_mut().for_each(|v| *v = (*v / n + eps).sqrt());
    // inv_std = sum_2_sqrt⁻¹
    let mut inv_std: Vec<f32> = sqrt.iter().map(|s| s.powi(-1)).collect();
    // Every row slice is cut to `d` entries, so that the indexed loops carry no bounds checks.
    let mu = &mu[..d];
    let gam = &gamma.as_slice().expect("contiguous")[..d];
    let bet = &beta.as_slice().expect("contiguous")[..d];
    // The value (accumulated per column, then summed) and the reductions of the first backward
    // steps: d_out₂ = d_out·g, dβ = Σ d_out₂, dγ = Σ d_out₂ ∘ x̂, d_x̂ = d_out₂ ∘ γ,
    // d inv_std = Σ d_x̂ ∘ (x − μ).
    let mut value_cols = vec![0.0f32; d];
    let mut d_beta = Array1::<f32>::zeros(d);
    let mut d_gamma = Array1::<f32>::zeros(d);
    let mut d_inv_std = vec![0.0f32; d];
    {
        let db = &mut d_beta.as_slice_mut().expect("contiguous")[..d];
        let dg = &mut d_gamma.as_slice_mut().expect("contiguous")[..d];
        let (vc, di) = (&mut value_cols[..d], &mut d_inv_std[..d]);
        let inv = &inv_std[..d];
        for (xr, gr) in x.rows().into_iter().zip(g.rows()) {
            let (xr, gr) = (
                &xr.to_slice().expect("rows")[..d],
                &gr.to_slice().expect("rows")[..d],
            );
            for j in 0..d {
                let xc = xr[j] - mu[j];
                let xhat = xc * inv[j];
                let out = xhat * gam[j] + bet[j];
                vc[j] += out * gr[j];
                let d_out2 = d_out * gr[j];
                db[j] += d_out2;
                dg[j] += d_out2 * xhat;
                di[j] += d_out2 * gam[j] * xc;
            }
        }
    }
    let value: f32 = value_cols.iter().sum();
    // d_sum_2_sqrt = d_inv_std ∘ −sum_2_sqrt⁻², d_sum_2 = d_sum_2_sqrt / (2·sum_2_sqrt) = d_var,
    // in d_inv_std's buffer.
    let mut d_var = d_inv_std;
    for (dv, &s) in d_var.iter_mut().zip(&sqrt) {
        *dv = *dv * -s.powi(-2) / (2.0 * s);
    }
    // d_xc = d_x̂ ∘ inv_std + 2·d_var / N ∘ (x − μ), written as d_x; dμ = −Σ d_xc.
    let mut d_x = Array2::<f32>::zeros((rows, d));
    // Loop-invariant factors hoisted out of the entry loops, as any optimising generator
    // would, each in the buffer of a row that is dead afterwards: the coefficient of g in d_xc
    // (in inv_std's) and that of x − μ (in d_var's).
    for (c, &gm) in inv_std.iter_mut().zip(gam) {
        *c *= d_out * gm;
    }
    let mut coef_xc = d_var;
    coef_xc.iter_mut().for_each(|dv| *dv = 2.0 * *dv / n);
    let (coef_g, coef_xc) = (&inv_std[..d], &coef_xc[..d]);
    let mut d_mu = vec![0.0f32; d];
    let dm = &mut d_mu[..d];
    for ((mut dr, xr), gr) in d_x.rows_mut().into_iter().zip(x.rows()).zip(g.rows()) {
        let dr = &mut dr.as_slice_mut().expect("rows")[..d];
        let (xr, gr) = (
            &xr.to_slice().expect("rows")[..d],
            &gr.to_slice().expect("rows")[..d],
        );
        for j in 0..d {
            let d_xc = coef_g[j] * gr[j] + coef_xc[j] * (xr[j] - mu[j]);
            dr[j] = d_xc;
            dm[j] -= d_xc;
        }
    }
    // d_x += dμ / N repeated over the rows.
    d_mu.iter_mut().for_each(|m| *m /= n);
    for mut dr in d_x.rows_mut() {
        let dr = dr.as_slice_mut().expect("rows");
        for (v, &m) in dr.iter_mut().zip(&d_mu) {
            *v += m;
        }
    }
    (
        value,
        (
            d_x,
            d_gamma.insert_axis(Axis(0)),
            d_beta.insert_axis(Axis(0)),
        ),
    )
}

// ---- Elman RNN: T steps of h = tanh(x·Wx + h·Wh + b), then a softmax loss on the last h ----

/// The Elman RNN as a `for` loop: the generated backward is measured against [`elman_hand`].
#[differentiable(wrt(h0, wx, wh, b, wy, by))]
#[allow(clippy::too_many_arguments)]
pub fn elman_loss<const N: usize, const D: usize, const H: usize, const C: usize>(
    xs: &[Mat<N, D, f32>],
    h0: &Mat<N, H, f32>,
    wx: &Mat<D, H, f32>,
    wh: &Mat<H, H, f32>,
    b: &Mat<1, H, f32>,
    wy: &Mat<H, C, f32>,
    by: &Mat<1, C, f32>,
    y: &Labels<N, C>,
) -> f32 {
    let mut h = h0.clone();
    for x in xs {
        h = (x.matmul(wx) + h.matmul(wh)).add_row(b).tanh();
    }
    h.matmul(wy).add_row(by).cross_entropy(y)
}

/// [`elman_loss`] differentiated with respect to its weights only (`h0` is a constant): what
/// data-parallel shards share, so that their gradients average to the batch's
/// (`gradgen::parallel`).
#[differentiable(wrt(wx, wh, b, wy, by))]
#[allow(clippy::too_many_arguments)]
pub fn elman_weights_loss<const N: usize, const D: usize, const H: usize, const C: usize>(
    xs: &[Mat<N, D, f32>],
    h0: &Mat<N, H, f32>,
    wx: &Mat<D, H, f32>,
    wh: &Mat<H, H, f32>,
    b: &Mat<1, H, f32>,
    wy: &Mat<H, C, f32>,
    by: &Mat<1, C, f32>,
    y: &Labels<N, C>,
) -> f32 {
    let mut h = h0.clone();
    for x in xs {
        h = (x.matmul(wx) + h.matmul(wh)).add_row(b).tanh();
    }
    h.matmul(wy).add_row(by).cross_entropy(y)
}

/// The differentiated inputs of the Elman RNN, borrowed: the initial state `h0` [N × H], the
/// input weights `wx` [D × H], the recurrent weights `wh` [H × H], the bias `b` [1 × H], and
/// the output layer `wy` [H × C], `by` [1 × C].
///
/// A struct rather than six more parameters, so that a call reads `elman_hand(&xs, &params, &y)`
/// and cannot swap two [1 × ·] biases or the two square-ish weights unnoticed.
#[derive(Clone, Copy)]
pub struct ElmanParams<'a> {
    /// The initial hidden state, [N × H].
    pub h0: ArrayView2<'a, f32>,
    /// The input-to-hidden weights, [D × H].
    pub wx: ArrayView2<'a, f32>,
    /// The hidden-to-hidden weights, [H × H].
    pub wh: ArrayView2<'a, f32>,
    /// The hidden bias, [1 × H].
    pub b: ArrayView2<'a, f32>,
    /// The hidden-to-class weights, [H × C].
    pub wy: ArrayView2<'a, f32>,
    /// The class bias, [1 × C].
    pub by: ArrayView2<'a, f32>,
}

/// The gradients of the Elman RNN's loss with respect to [`ElmanParams`], field by field.
pub struct ElmanGrads {
    /// With respect to the initial hidden state, [N × H].
    pub h0: Array2<f32>,
    /// With respect to the input weights, [D × H].
    pub wx: Array2<f32>,
    /// With respect to the recurrent weights, [H × H].
    pub wh: Array2<f32>,
    /// With respect to the hidden bias, [1 × H].
    pub b: Array2<f32>,
    /// With respect to the output weights, [H × C].
    pub wy: Array2<f32>,
    /// With respect to the class bias, [1 × C].
    pub by: Array2<f32>,
}

/// Hand-written Elman RNN, forward and backward: `h_0 = h0`,
/// `h_t = tanh(x_t·Wx + h_{t−1}·Wh + b)` for `t = 1..=T` (`T = xs.len()`, each `x_t` [N × D]),
/// and the loss is the mean cross-entropy of `h_T·Wy + by` against the labels `y` (one per row,
/// every row labelled). That is the math of the `for`-loop function `elman_loss` of issue 14,
/// whose generated backward this is the reference for. Returns the loss and the gradients of
/// the six parameters, not those of the inputs (see [`elman_hand_with_inputs`]).
///
/// # Panics
/// When the shapes do not fit together, or a label is not below C.
#[must_use]
pub fn elman_hand(xs: &[ArrayView2<f32>], p: &ElmanParams, y: &[usize]) -> (f32, ElmanGrads) {
    elman(xs, p, y, None)
}

/// [`elman_hand`], plus the gradient of every input `x_t` [N × D], in sequence order.
///
/// A separate function, not a flag, because it returns more: the T extra `[N × D]` products
/// and arrays are paid only by the caller that wants them.
///
/// # Panics
/// As [`elman_hand`].
#[must_use]
pub fn elman_hand_with_inputs(
    xs: &[ArrayView2<f32>],
    p: &ElmanParams,
    y: &[usize],
) -> (f32, ElmanGrads, Vec<Array2<f32>>) {
    let mut dxs = Vec::with_capacity(xs.len());
    let (loss, grads) = elman(xs, p, y, Some(&mut dxs));
    (loss, grads, dxs)
}

/// The Elman RNN's forward and backward; pushes the inputs' gradients to `dxs` when given.
///
/// What makes it fast, and allocate nothing per step but the products' own packing buffers:
/// - every hidden state lives in one `[T+1, N, H]` array, allocated once. A step writes `b`
///   into its slot and accumulates both products there (`general_mat_mul` with β = 1), then
///   applies tanh in place: no temporary for `x·Wx`, `h·Wh` or their sum;
/// - the backward reuses those slots: once step t's tanh derivative `1 − h_t²` is taken,
///   `h_t` is dead, so `d pre_t = dh ∘ (1 − h_t²)` overwrites it in place;
/// - `dWx`, `dWh` and `db` are accumulated across the steps in place (`general_mat_mul`
///   with β = 1 reads `x_tᵀ` and `h_{t−1}ᵀ` as transposed views, no copies; `db` adds the rows);
/// - one `[N × H]` buffer carries `dh` from step to step (`d pre_t · Whᵀ` overwrites it,
///   β = 0), and after the first step it is `d h0`, returned as it is;
/// - the scores' buffer holds the softmax, then its gradient (`softmax_cross_entropy_in_place`).
fn elman(
    xs: &[ArrayView2<f32>],
    p: &ElmanParams,
    y: &[usize],
    mut dxs: Option<&mut Vec<Array2<f32>>>,
) -> (f32, ElmanGrads) {
    let steps = xs.len();
    let (n, hidden) = p.h0.dim();
    let mut hs = elman_states(xs, p);
    let last = hs.index_axis(Axis(0), steps);
    // The scores' buffer becomes their gradient in place.
    let mut ds = last.dot(&p.wy);
    ds += &p.by;
    let loss = softmax_cross_entropy_in_place(&mut ds, y, n as f32);
    let dwy = last.t().dot(&ds);
    let dby = ds.sum_axis(Axis(0)).insert_axis(Axis(0));
    let mut dh = ds.dot(&p.wy.t());
    let mut dwx = Array2::<f32>::zeros(p.wx.dim());
    let mut dwh = Array2::<f32>::zeros((hidden, hidden));
    let mut db = Array1::<f32>::zeros(hidden);
    for t in (1..=steps).rev() {
        let (prev, mut d_pre) = hs.multi_slice_mut((s![t - 1, .., ..], s![t, .., ..]));
        // d pre_t = dh ∘ (1 − h_t²), over h_t, which nothing reads afterwards.
        Zip::from(&mut d_pre)
            .and(&dh)
            .for_each(|h, &d| *h = d * (1.0 - *h * *h));
        general_mat_mul(1.0, &xs[t - 1].t(), &d_pre, 1.0, &mut dwx);
        general_mat_mul(1.0, &prev.t(), &d_pre, 1.0, &mut dwh);
        for row in d_pre.rows() {
            db += &row;
        }
        if let Some(dxs) = dxs.as_deref_mut() {
            dxs.push(d_pre.dot(&p.wx.t()));
        }
        general_mat_mul(1.0, &d_pre, &p.wh.t(), 0.0, &mut dh);
    }
    if let Some(dxs) = dxs {
        dxs.reverse();
    }
    let grads = ElmanGrads {
        h0: dh,
        wx: dwx,
        wh: dwh,
        b: db.insert_axis(Axis(0)),
        wy: dwy,
        by: dby,
    };
    (loss, grads)
}

/// The hidden states `h_0, …, h_T` of the Elman RNN, in one `[T+1, N, H]` array (one
/// allocation for the whole sequence): each step starts from `b` in every row and accumulates
/// `x_t·Wx` and `h_{t−1}·Wh` into its own slot, then takes the tanh there.
fn elman_states(xs: &[ArrayView2<f32>], p: &ElmanParams) -> Array3<f32> {
    let (n, hidden) = p.h0.dim();
    let mut hs = Array3::<f32>::zeros((xs.len() + 1, n, hidden));
    hs.index_axis_mut(Axis(0), 0).assign(&p.h0);
    for (t, x) in xs.iter().enumerate() {
        let (prev, mut h) = hs.multi_slice_mut((s![t, .., ..], s![t + 1, .., ..]));
        h.assign(&p.b);
        general_mat_mul(1.0, x, &p.wx, 1.0, &mut h);
        general_mat_mul(1.0, &prev, &p.wh, 1.0, &mut h);
        h.mapv_inplace(f32::tanh);
    }
    hs
}

// ---- inputs ----

/// A random matrix with entries uniform in [-scale, scale), the same for the same seed on every
/// machine (`gradgen::init`'s seeded generator).
///
/// # Panics
/// When `scale` is not a positive finite number.
#[must_use]
pub fn random<const R: usize, const C: usize>(seed: u64, scale: f32) -> Mat<R, C, f32> {
    let scale = f64::from(scale);
    gradgen::init::uniform(&mut gradgen::init::rng(seed), -scale, scale)
        .expect("a positive finite scale")
}

/// The inputs of the Elman RNN: `steps` inputs `x_t` [N × D] with entries in [-1, 1), an
/// initial state and weights scaled so that the pre-activations have a standard deviation of
/// about 0.5 at D = 32, H = 128 (in tanh's bend: neither saturated nor linear), and labels
/// cycling through the classes.
pub struct ElmanInputs<const N: usize, const D: usize, const H: usize, const C: usize> {
    /// The inputs, in sequence order.
    pub xs: Vec<Mat<N, D, f32>>,
    /// The initial hidden state.
    pub h0: Mat<N, H, f32>,
    /// The input-to-hidden weights.
    pub wx: Mat<D, H, f32>,
    /// The hidden-to-hidden weights.
    pub wh: Mat<H, H, f32>,
    /// The hidden bias.
    pub b: Mat<1, H, f32>,
    /// The hidden-to-class weights.
    pub wy: Mat<H, C, f32>,
    /// The class bias.
    pub by: Mat<1, C, f32>,
    /// One label per row, every row labelled.
    pub y: Labels<N, C>,
}

impl<const N: usize, const D: usize, const H: usize, const C: usize> ElmanInputs<N, D, H, C> {
    /// The same inputs for the same `steps` on every machine.
    #[must_use]
    pub fn new(steps: usize) -> Self {
        ElmanInputs {
            xs: (0..steps as u64).map(|t| random(100 + t, 1.0)).collect(),
            h0: random(13, 0.5),
            wx: random(14, 0.2),
            wh: random(15, 0.1),
            b: random(16, 0.1),
            wy: random(17, 0.2),
            by: random(18, 0.1),
            y: labels(),
        }
    }

    /// The inputs as views, for [`elman_hand`]: one `Vec` of views, no copy of the data.
    #[must_use]
    pub fn x_views(&self) -> Vec<ArrayView2<'_, f32>> {
        self.xs.iter().map(Mat::view).collect()
    }

    /// The parameters as views, for [`elman_hand`].
    #[must_use]
    pub fn params(&self) -> ElmanParams<'_> {
        ElmanParams {
            h0: self.h0.view(),
            wx: self.wx.view(),
            wh: self.wh.view(),
            b: self.b.view(),
            wy: self.wy.view(),
            by: self.by.view(),
        }
    }

    /// The labels as class indices, for [`elman_hand`].
    ///
    /// # Panics
    /// Never: every row is labelled.
    #[must_use]
    pub fn classes(&self) -> Vec<usize> {
        self.y.to_classes().expect("every row labelled")
    }
}

/// Labels cycling through the classes.
///
/// # Panics
/// Never: every label is below `C`.
#[must_use]
pub fn labels<const N: usize, const C: usize>() -> Labels<N, C> {
    Labels::new((0..N).map(|i| (i * 7 + 3) % C).collect()).expect("labels below C")
}
