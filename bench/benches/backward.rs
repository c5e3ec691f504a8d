//! `cargo bench -p gradgen-bench --bench backward`: for each workload, the generated backward
//! (forward value included) against a careful hand-written ndarray forward + backward of the
//! same math, and, for the matmul-bound workloads, against the matrix products alone. Prints
//! criterion's medians and their ratios at the end, then the ratios measured in pairs: the two
//! calls alternate in short batches, so that a slow drift of this shared machine (a few percent
//! between runs, as large as the 5% target) hits both sides of a ratio alike.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::Criterion;
use gradgen::ndarray::linalg::general_mat_mul;
use gradgen::ndarray::Array2;
use gradgen::parallel::{mean_over_shards, shard_labels, shard_rows};
use gradgen::prelude::*;
use gradgen_bench::workloads::{
    batchnorm_fused_model, batchnorm_hand, batchnorm_loss_backward,
    batchnorm_loss_unfused_backward, elman_hand, elman_hand_with_inputs, elman_loss_backward,
    elman_weights_loss_backward, labels, mlp_hand, mlp_loss_backward, random, softmax_hand,
    softmax_loss_backward, ElmanInputs,
};

fn softmax<const N: usize, const D: usize, const C: usize>(
    c: &mut Criterion,
    pairs: &mut Pairs,
    group: &str,
) {
    let x: Mat<N, D, f32> = random(1, 1.0);
    let w: Mat<D, C, f32> = random(2, 0.1);
    let b: Mat<1, C, f32> = random(3, 0.1);
    let y: Labels<N, C> = labels();
    let (xa, wa, ba) = (x.as_array(), w.as_array(), b.as_array());
    let classes = y.to_classes().expect("every row labelled");
    let ys = classes.as_slice();
    let generated = || softmax_loss_backward(black_box(&x), &w, &b, &y, 1.0);
    let hand = || softmax_hand(black_box(xa), wa, ba, ys);
    // The products alone: X·W forward, Xᵀ·dS backward (dS stands in for the real gradient).
    let floor = || {
        let s = black_box(xa).dot(wa);
        let dw = xa.t().dot(&s);
        (s, dw)
    };
    let mut g = c.benchmark_group(group);
    g.bench_function("generated", |bch| bch.iter(generated));
    g.bench_function("hand_written", |bch| bch.iter(hand));
    g.bench_function("matmul_floor", |bch| bch.iter(floor));
    g.finish();
    if let Some(p) = pairs.filter(group) {
        p.push(
            group,
            paired(generated, hand),
            Some(paired(generated, floor)),
        );
    }
}

fn mlp<const N: usize, const D: usize, const H: usize, const C: usize>(
    c: &mut Criterion,
    pairs: &mut Pairs,
    group: &str,
) {
    let x: Mat<N, D, f32> = random(4, 1.0);
    let w1: Mat<D, H, f32> = random(5, 0.05);
    let b1: Mat<1, H, f32> = random(6, 0.1);
    let w2: Mat<H, C, f32> = random(7, 0.1);
    let b2: Mat<1, C, f32> = random(8, 0.1);
    let y: Labels<N, C> = labels();
    let (xa, w1a, b1a, w2a, b2a) = (
        x.as_array(),
        w1.as_array(),
        b1.as_array(),
        w2.as_array(),
        b2.as_array(),
    );
    let classes = y.to_classes().expect("every row labelled");
    let ys = classes.as_slice();
    let generated = || mlp_loss_backward(black_box(&x), &w1, &b1, &w2, &b2, &y, 1.0);
    let hand = || mlp_hand(black_box(xa), w1a, b1a, w2a, b2a, ys);
    // The five products: X·W1, H·W2 forward; Hᵀ·dS, dS·W2ᵀ, Xᵀ·dH backward.
    let floor = || {
        let h = black_box(xa).dot(w1a);
        let s = h.dot(w2a);
        let dw2 = h.t().dot(&s);
        let dh = s.dot(&w2a.t());
        let dw1 = xa.t().dot(&dh);
        (dw1, dw2)
    };
    let mut g = c.benchmark_group(group);
    g.bench_function("generated", |bch| bch.iter(generated));
    g.bench_function("hand_written", |bch| bch.iter(hand));
    g.bench_function("matmul_floor", |bch| bch.iter(floor));
    g.finish();
    if let Some(p) = pairs.filter(group) {
        p.push(
            group,
            paired(generated, hand),
            Some(paired(generated, floor)),
        );
    }
}

fn batchnorm<const N: usize, const D: usize>(c: &mut Criterion, pairs: &mut Pairs, group: &str) {
    let x: Mat<N, D, f32> = random(9, 2.0);
    let gamma: Mat<1, D, f32> = random(10, 1.0);
    let beta: Mat<1, D, f32> = random(11, 1.0);
    let gr: Mat<N, D, f32> = random(12, 1.0);
    let (xa, ga, ba, gra) = (
        x.as_array(),
        gamma.as_array(),
        beta.as_array(),
        gr.as_array(),
    );
    let generated = || batchnorm_loss_backward(black_box(&x), &gamma, &beta, &gr, 1e-5, 1.0);
    let hand = || batchnorm_hand(black_box(xa), ga, ba, gra, 1e-5);
    // Not a competitor: a model of what a loop-fusing generator would emit (BENCHMARKS.md).
    let model = || batchnorm_fused_model(black_box(xa), ga, ba, gra, 1e-5, 1.0);
    // `#[differentiable(unfused)]`: one runtime call per binding.
    let unfused = || batchnorm_loss_unfused_backward(black_box(&x), &gamma, &beta, &gr, 1e-5, 1.0);
    let mut g = c.benchmark_group(group);
    g.bench_function("generated", |bch| bch.iter(generated));
    g.bench_function("hand_written", |bch| bch.iter(hand));
    g.bench_function("fused_model", |bch| bch.iter(model));
    g.bench_function("unfused", |bch| bch.iter(unfused));
    g.finish();
    if let Some(p) = pairs.filter(group) {
        p.push(group, paired(generated, hand), None);
        let unfused = paired(unfused, hand);
        p.notes.push(format!(
            "batch norm, #[differentiable(unfused)] / hand-written: {}",
            unfused.show()
        ));
        let model = paired(model, hand);
        p.notes.push(format!(
            "batch norm, a model of a loop-fusing generator / hand-written: {}",
            model.show()
        ));
    }
}

/// The Elman RNN over `steps` steps: the generated backward of its `for` loop, the hand-written
/// backward without and with the inputs' gradients, and its matrix products alone.
fn elman<const N: usize, const D: usize, const H: usize, const C: usize>(
    c: &mut Criterion,
    pairs: &mut Pairs,
    group: &str,
    steps: usize,
) {
    let inputs = ElmanInputs::<N, D, H, C>::new(steps);
    let (xs, params, ys) = (inputs.x_views(), inputs.params(), inputs.classes());
    let i = &inputs;
    let generated = || {
        elman_loss_backward(
            black_box(&i.xs),
            &i.h0,
            &i.wx,
            &i.wh,
            &i.b,
            &i.wy,
            &i.by,
            &i.y,
            1.0,
        )
    };
    let hand = || elman_hand(black_box(&xs), &params, &ys);
    let hand_inputs = || elman_hand_with_inputs(black_box(&xs), &params, &ys);
    // The products of `elman_hand`, on its operands' shapes, with nothing between them: x·Wx and
    // h·Wh per step, then h·Wy, hᵀ·dS, dS·Wyᵀ, and xᵀ·dP, hᵀ·dP, dP·Whᵀ per step (the last
    // state stands in for every h, and the carried gradient for every dP).
    let floor = || {
        let (wx, wh, wy) = (params.wx, params.wh, params.wy);
        let mut h = params.h0.to_owned();
        let mut next = Array2::<f32>::zeros((N, H));
        for x in black_box(&xs) {
            general_mat_mul(1.0, x, &wx, 0.0, &mut next);
            general_mat_mul(1.0, &h, &wh, 1.0, &mut next);
            std::mem::swap(&mut h, &mut next);
        }
        let s = h.dot(&wy);
        let dwy = h.t().dot(&s);
        let mut d = s.dot(&wy.t());
        let mut dwx = Array2::<f32>::zeros((D, H));
        let mut dwh = Array2::<f32>::zeros((H, H));
        for x in xs.iter().rev() {
            general_mat_mul(1.0, &x.t(), &d, 1.0, &mut dwx);
            general_mat_mul(1.0, &h.t(), &d, 1.0, &mut dwh);
            general_mat_mul(1.0, &d, &wh.t(), 0.0, &mut next);
            std::mem::swap(&mut d, &mut next);
        }
        (dwy, dwx, dwh, d)
    };
    let mut g = c.benchmark_group(group);
    g.bench_function("generated", |bch| bch.iter(generated));
    g.bench_function("hand_written", |bch| bch.iter(hand));
    g.bench_function("hand_written_inputs", |bch| bch.iter(hand_inputs));
    g.bench_function("matmul_floor", |bch| bch.iter(floor));
    g.finish();
    if let Some(p) = pairs.filter(group) {
        p.push(
            group,
            paired(generated, hand),
            Some(paired(generated, floor)),
        );
    }
}

/// The Elman RNN's weight gradients over its batch of 64: one backward on one core (its
/// 64 × 128 products are too small to share among threads), and two shards of 32, each
/// on a core of its own (`gradgen::parallel`). The shards are cut once, outside the timing, as
/// a data loader would hand them out.
fn elman_shards(c: &mut Criterion, steps: usize) {
    let i = ElmanInputs::<64, 32, 128, 4>::new(steps);
    let whole = || {
        elman_weights_loss_backward(
            black_box(&i.xs),
            &i.h0,
            &i.wx,
            &i.wh,
            &i.b,
            &i.wy,
            &i.by,
            &i.y,
            1.0,
        )
    };
    let steps_cut: Vec<Vec<Mat<32, 32, f32>>> =
        i.xs.iter()
            .map(shard_rows::<64, 32, 32, f32>)
            .collect::<Result<_, _>>()
            .expect("64 rows in shards of 32");
    let h0s = shard_rows::<64, 32, 128, f32>(&i.h0).expect("64 rows in shards of 32");
    let ys = shard_labels::<64, 32, 4>(&i.y).expect("64 rows in shards of 32");
    let shards: Vec<_> = (0..2)
        .map(|s| {
            let xs: Vec<Mat<32, 32, f32>> = steps_cut.iter().map(|step| step[s].clone()).collect();
            (xs, &h0s[s], &ys[s])
        })
        .collect();
    let sharded = || {
        mean_over_shards(black_box(&shards), |(xs, h0, y)| {
            let g = elman_weights_loss_backward(xs, h0, &i.wx, &i.wh, &i.b, &i.wy, &i.by, y, 1.0);
            (g.value, g)
        })
        .expect("two shards")
    };
    let mut g = c.benchmark_group("elman_shards");
    g.bench_function("whole_batch", |bch| bch.iter(whole));
    g.bench_function("two_shards", |bch| bch.iter(sharded));
    g.finish();
}

const WORKLOADS: [(&str, &str); 5] = [
    ("softmax_small", "softmax loss, N=64 D=32 C=10"),
    ("softmax_large", "softmax loss, N=4096 D=784 C=10"),
    ("mlp", "two-layer ReLU net, N=256 D=784 H=256 C=10"),
    ("batchnorm", "batch norm, N=1024 D=512, loss Σ out∘G"),
    ("elman", "Elman RNN, N=64 D=32 H=128 C=4 T=50"),
];

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let mut pairs = Pairs::from_args();
    softmax::<64, 32, 10>(&mut c, &mut pairs, WORKLOADS[0].0);
    softmax::<4096, 784, 10>(&mut c, &mut pairs, WORKLOADS[1].0);
    mlp::<256, 784, 256, 10>(&mut c, &mut pairs, WORKLOADS[2].0);
    batchnorm::<1024, 512>(&mut c, &mut pairs, WORKLOADS[3].0);
    elman::<64, 32, 128, 4>(&mut c, &mut pairs, WORKLOADS[4].0, 50);
    elman_shards(&mut c, 50);
    c.final_summary();
    report();
    pairs.report();
}

/// The paired ratios of the workloads this run measures (criterion's name filter, if one is
/// given, applies to them too; `--test` and `--list` measure none).
struct Pairs {
    filter: Option<String>,
    skip: bool,
    results: Vec<(String, Ratio, Option<Ratio>)>,
    notes: Vec<String>,
}

impl Pairs {
    fn from_args() -> Self {
        let args: Vec<String> = std::env::args().skip(1).collect();
        // Criterion's options that take a value: that value is not a name filter.
        const WITH_VALUE: [&str; 14] = [
            "--save-baseline",
            "--baseline",
            "--load-baseline",
            "--sample-size",
            "--warm-up-time",
            "--measurement-time",
            "--nresamples",
            "--noise-threshold",
            "--confidence-level",
            "--significance-level",
            "--profile-time",
            "--color",
            "--output-format",
            "--plotting-backend",
        ];
        let filter = args
            .iter()
            .enumerate()
            .find(|(i, a)| {
                !a.starts_with('-') && (*i == 0 || !WITH_VALUE.contains(&args[i - 1].as_str()))
            })
            .map(|(_, a)| a.clone());
        Pairs {
            filter,
            skip: args.iter().any(|a| a == "--test" || a == "--list"),
            results: Vec::new(),
            notes: Vec::new(),
        }
    }

    fn filter(&mut self, group: &str) -> Option<&mut Self> {
        let wanted = self
            .filter
            .as_ref()
            .is_none_or(|f| group.contains(f.as_str()));
        (wanted && !self.skip).then_some(self)
    }

    fn push(&mut self, group: &str, to_hand: Ratio, to_floor: Option<Ratio>) {
        self.results.push((group.to_owned(), to_hand, to_floor));
    }

    fn report(&self) {
        if self.results.is_empty() {
            return;
        }
        println!("\npaired ratios: median [quartiles] of {ROUNDS} alternating batches");
        println!("{:<46} {:>24} {:>24}", "workload", "gen/hand", "gen/floor");
        for (group, to_hand, to_floor) in &self.results {
            let title = WORKLOADS
                .iter()
                .find(|(id, _)| id == group)
                .map_or(group.as_str(), |(_, t)| t);
            let floor = to_floor
                .as_ref()
                .map_or_else(|| "-".to_owned(), Ratio::show);
            println!("{title:<46} {:>24} {floor:>24}", to_hand.show());
        }
        for note in &self.notes {
            println!("{note}");
        }
    }
}

/// The distribution of `time(a) / time(b)` over paired batches.
struct Ratio {
    median: f64,
    q1: f64,
    q3: f64,
}

impl Ratio {
    fn show(&self) -> String {
        format!("{:.3} [{:.3}, {:.3}]", self.median, self.q1, self.q3)
    }
}

const ROUNDS: usize = 101;

/// Times `a` against `b` in pairs of batches of about 3 ms each, alternating which goes first,
/// and returns the distribution of the per-pair ratios.
fn paired<A, B>(mut a: impl FnMut() -> A, mut b: impl FnMut() -> B) -> Ratio {
    let start = Instant::now();
    black_box(a());
    let once = start.elapsed().max(Duration::from_nanos(100));
    let calls = (Duration::from_millis(3).as_secs_f64() / once.as_secs_f64()).clamp(1.0, 1e5);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let calls = calls as usize;
    let mut batch_a = || {
        let t = Instant::now();
        for _ in 0..calls {
            black_box(a());
        }
        t.elapsed().as_secs_f64()
    };
    let mut batch_b = || {
        let t = Instant::now();
        for _ in 0..calls {
            black_box(b());
        }
        t.elapsed().as_secs_f64()
    };
    for _ in 0..5 {
        batch_a();
        batch_b();
    }
    let mut ratios: Vec<f64> = (0..ROUNDS)
        .map(|round| {
            if round % 2 == 0 {
                let ta = batch_a();
                ta / batch_b()
            } else {
                let tb = batch_b();
                batch_a() / tb
            }
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    Ratio {
        median: ratios[ROUNDS / 2],
        q1: ratios[ROUNDS / 4],
        q3: ratios[3 * ROUNDS / 4],
    }
}

/// The medians criterion saved, as a table with the ratios.
fn report() {
    let Some(dir) = criterion_dir() else {
        println!("(no criterion results found: run without --test to measure)");
        return;
    };
    println!("\nmedians (f32, this machine)");
    println!(
        "{:<46} {:>12} {:>12} {:>12} {:>10} {:>10}",
        "workload", "generated", "hand", "matmuls", "gen/hand", "gen/floor"
    );
    for (id, title) in WORKLOADS {
        let median = |f: &str| read_median(&dir.join(id).join(f).join("new/estimates.json"));
        let (gen, hand, floor) = (
            median("generated"),
            median("hand_written"),
            median("matmul_floor"),
        );
        let show = |t: Option<f64>| t.map_or_else(|| "-".to_owned(), format_ns);
        let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => format!("{:.3}", a / b),
            _ => "-".to_owned(),
        };
        println!(
            "{:<46} {:>12} {:>12} {:>12} {:>10} {:>10}",
            title,
            show(gen),
            show(hand),
            show(floor),
            ratio(gen, hand),
            ratio(gen, floor)
        );
    }
}

fn criterion_dir() -> Option<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        std::env::var_os("CARGO_TARGET_DIR").map(|t| PathBuf::from(t).join("criterion")),
        Some(manifest.join("../target/criterion")),
        Some(manifest.join("target/criterion")),
    ];
    candidates.into_iter().flatten().find(|d| d.is_dir())
}

/// The median's point estimate (ns) in criterion's `estimates.json`.
fn read_median(path: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(path).ok()?;
    let median = &text[text.find("\"median\"")?..];
    let start = median.find("\"point_estimate\":")? + "\"point_estimate\":".len();
    let rest = &median[start..];
    let end = rest.find([',', '}'])?;
    rest[..end].trim().parse().ok()
}

fn format_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.1} µs", ns / 1e3)
    }
}
