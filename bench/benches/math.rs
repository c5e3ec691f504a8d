//! `cargo bench -p gradgen-bench --bench math`: `gradgen::math`'s `exp`, `ln`, `tanh` and
//! `sigmoid` against the standard library's, applied entry by entry to 64·128 values (an Elman
//! RNN's hidden state at N = 64, H = 128), in `f32` and `f64`. Each is the loop an elementwise
//! kernel runs: read one slice, write another. Three versions of it:
//!
//! - `std`: the standard library's function (a call into the C math library per entry);
//! - `gradgen`: `gradgen::math`'s, in a loop compiled for the build's target (SSE2 in the
//!   default build);
//! - `gradgen_vectorised`: the same loop inside `math::vectorised!`, which picks AVX-512 or
//!   AVX2 at run time: what a default build (`cargo add gradgen`) gets on this machine.
//!
//! Criterion times each, and `gradgen_mapv` (ndarray's allocating `mapv`, as `Mat` ops run it).
//! At the end, the three are also timed in rounds of batches of about 1 ms, their order rotated
//! every round, and the table gives the median ns per entry and the median per-round ratio to
//! `std`, which a slow drift of this shared machine does not bias. Build with
//! `RUSTFLAGS="-C target-cpu=native"` to compile every loop for this CPU (with FMA).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use gradgen::math;
use gradgen::ndarray::Array2;

const ROWS: usize = 64;
const COLS: usize = 128;
const LEN: usize = ROWS * COLS;

/// The stable sigmoid through the standard library's `exp`, as gradgen's op table writes it.
fn sigmoid_std<T: gradgen::Scalar>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        x.exp() / (T::one() + x.exp())
    }
}

/// Evenly spread inputs over `range`, in a scrambled order so that branches cannot predict.
fn inputs<T: gradgen::Scalar>(range: (f64, f64)) -> Vec<T> {
    #[allow(clippy::cast_precision_loss)]
    (0..LEN)
        .map(|i| {
            let u = ((i * 2_654_435_761) % LEN) as f64 / LEN as f64;
            T::from_f64(range.0 + (range.1 - range.0) * u)
        })
        .collect()
}

/// `out[i] = f(input[i])`: the loop under test, inlined for each `f`.
#[inline(always)]
fn apply<T: Copy>(f: impl Fn(T) -> T, input: &[T], out: &mut [T]) {
    for (o, &x) in out.iter_mut().zip(input) {
        *o = f(x);
    }
}

/// Criterion and the rotated timing of one function: the standard library's `$std` and
/// gradgen's `$ours`, closures on `$t`, on `LEN` inputs from `$range`. A macro, not a generic
/// function, so that every loop gets a closure of its own: one closure called from several
/// loops may stay a call (tanh and sigmoid in `f64` are large), as a kernel's would not.
macro_rules! bench {
    ($c:expr, $rows:expr, $name:literal, $t:ty, $range:expr, $std:expr, $ours:expr) => {{
        let input = inputs::<$t>($range);
        let mut out = vec![0.0; LEN];
        let group_name = format!("{}_{}", $name, stringify!($t));
        let mut g = $c.benchmark_group(&group_name);
        g.throughput(Throughput::Elements(LEN as u64));
        g.bench_function("std", |b| {
            b.iter(|| apply($std, black_box(&input), &mut out));
        });
        g.bench_function("gradgen", |b| {
            b.iter(|| apply($ours, black_box(&input), &mut out));
        });
        g.bench_function("gradgen_vectorised", |b| {
            b.iter(|| math::vectorised!(apply($ours, black_box(&input), &mut out)));
        });
        let m = Array2::from_shape_vec((ROWS, COLS), input.clone()).expect("64·128 entries");
        g.bench_function("gradgen_mapv", |b| b.iter(|| black_box(&m).mapv($ours)));
        g.finish();
        if measured(&group_name) {
            let (mut out1, mut out2) = (out.clone(), out.clone());
            let [t_std, t_ours, t_vec] = rotated([
                &mut || apply($std, black_box(&input), &mut out),
                &mut || apply($ours, black_box(&input), &mut out1),
                &mut || math::vectorised!(apply($ours, black_box(&input), &mut out2)),
            ]);
            $rows.push(Row {
                name: group_name,
                t_std,
                t_ours,
                t_vec,
            });
        }
    }};
}

/// One line of the closing table: ns per entry and the ratio to `std` (medians).
struct Row {
    name: String,
    t_std: Timing,
    t_ours: Timing,
    t_vec: Timing,
}

/// The median ns per entry of one version, and the median of its per-round ratio to the first.
#[derive(Clone, Copy)]
struct Timing {
    ns: f64,
    ratio: f64,
}

/// Whether this run measures `group`: not under `--test` or `--list`, and only groups that
/// criterion's name filter (the first argument that is not an option or an option's value)
/// selects.
fn measured(group: &str) -> bool {
    const WITH_VALUE: [&str; 8] = [
        "--save-baseline",
        "--baseline",
        "--load-baseline",
        "--sample-size",
        "--warm-up-time",
        "--measurement-time",
        "--profile-time",
        "--output-format",
    ];
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--test" || a == "--list") {
        return false;
    }
    let filter = args.iter().enumerate().find(|(i, a)| {
        !a.starts_with('-') && (*i == 0 || !WITH_VALUE.contains(&args[i - 1].as_str()))
    });
    filter.is_none_or(|(_, f)| group.contains(f.as_str()))
}

const ROUNDS: usize = 51;

/// Times the versions in rounds of one batch of about 1 ms each, the order rotated every
/// round; the first 3 rounds warm up. Each version's median ns per entry, and the median of
/// its per-round ratio to the first version.
fn rotated<const K: usize>(fs: [&mut dyn FnMut(); K]) -> [Timing; K] {
    let start = Instant::now();
    (fs[0])();
    let once = start.elapsed().max(Duration::from_nanos(100));
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let calls = (1e-3 / once.as_secs_f64()).clamp(1.0, 1e5) as usize;
    let mut ns = vec![Vec::new(); K];
    for round in 0..ROUNDS + 3 {
        let mut this = [0.0; K];
        for k in 0..K {
            let i = (k + round) % K;
            let t = Instant::now();
            for _ in 0..calls {
                (fs[i])();
            }
            #[allow(clippy::cast_precision_loss)]
            let per_entry = t.elapsed().as_secs_f64() * 1e9 / (calls * LEN) as f64;
            this[i] = per_entry;
        }
        if round >= 3 {
            for (v, t) in ns.iter_mut().zip(this) {
                v.push(t);
            }
        }
    }
    std::array::from_fn(|i| {
        let mut ratios: Vec<f64> = ns[i].iter().zip(&ns[0]).map(|(t, t0)| t / t0).collect();
        Timing {
            ns: median(&mut ns[i]),
            ratio: median(&mut ratios),
        }
    })
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[allow(clippy::redundant_closure)] // each closure is inlined into its loop
fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let mut rows = Vec::new();
    let r = &mut rows;
    bench!(c, r, "exp", f32, (-10.0, 10.0), |x: f32| x.exp(), |x| {
        math::exp(x)
    });
    bench!(c, r, "ln", f32, (1e-3, 100.0), |x: f32| x.ln(), |x| {
        math::ln(x)
    });
    bench!(c, r, "tanh", f32, (-4.0, 4.0), |x: f32| x.tanh(), |x| {
        math::tanh(x)
    });
    bench!(c, r, "sigmoid", f32, (-8.0, 8.0), sigmoid_std::<f32>, |x| {
        math::sigmoid(x)
    });
    bench!(c, r, "exp", f64, (-10.0, 10.0), |x: f64| x.exp(), |x| {
        math::exp(x)
    });
    bench!(c, r, "ln", f64, (1e-3, 100.0), |x: f64| x.ln(), |x| {
        math::ln(x)
    });
    bench!(c, r, "tanh", f64, (-4.0, 4.0), |x: f64| x.tanh(), |x| {
        math::tanh(x)
    });
    bench!(c, r, "sigmoid", f64, (-8.0, 8.0), sigmoid_std::<f64>, |x| {
        math::sigmoid(x)
    });
    c.final_summary();
    if rows.is_empty() {
        return;
    }
    let native = cfg!(target_feature = "avx2");
    println!(
        "\nns per entry (ratio to std), {LEN} entries, medians of {ROUNDS} rotated rounds; {}",
        if native {
            "built for AVX2 or better"
        } else {
            "built for the x86-64 baseline (SSE2)"
        }
    );
    println!(
        "{:<12} {:>16} {:>16} {:>20}",
        "function", "std", "gradgen", "gradgen vectorised!"
    );
    let show = |t: Timing| format!("{:.3} ({:.3})", t.ns, t.ratio);
    for r in &rows {
        println!(
            "{:<12} {:>16} {:>16} {:>20}",
            r.name,
            show(r.t_std),
            show(r.t_ours),
            show(r.t_vec)
        );
    }
}
