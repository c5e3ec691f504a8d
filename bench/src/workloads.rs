//! Workloads shared by the benchmark and the allocation test (which includes this file).

use gradgen::ndarray::{Array1, Array2, Axis, Zip};
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

/// Labels cycling through the classes.
///
/// # Panics
/// Never: every label is below `C`.
#[must_use]
pub fn labels<const N: usize, const C: usize>() -> Labels<N, C> {
    Labels::new((0..N).map(|i| (i * 7 + 3) % C).collect()).expect("labels below C")
}
