//! One generated backward call allocates no more (count and bytes) than the careful hand-written
//! ndarray forward + backward of the same math, on each benchmark workload (bench/). The
//! numbers are in BENCHMARKS.md; `cargo test --test suite allocations:: -- --nocapture` prints them.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use gradgen::prelude::*;

use crate::workloads::*;

/// Counts the allocations of the threads that ask for it (tests run in parallel).
struct Counting;

static COUNT: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);

static POOL_ENABLED: AtomicBool = AtomicBool::new(false);

thread_local! {
    static ENABLED: Cell<bool> = const { Cell::new(false) };
    /// Set on the threads of the pools that `measure_on` builds: their allocations count
    /// while `POOL_ENABLED` is set, whichever thread of the pool makes them.
    static POOL_THREAD: Cell<bool> = const { Cell::new(false) };
}

fn record(size: usize) {
    let pool = || POOL_THREAD.with(Cell::get) && POOL_ENABLED.load(Ordering::Relaxed);
    if ENABLED.with(Cell::get) || pool() {
        COUNT.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(size, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// The counters are shared: one measurement at a time.
static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// `(allocations, bytes)` of one call, on the calling thread: the hand-written code's, whose
/// products (ndarray's matrixmultiply, without its `threading`) run on the calling thread. The
/// counters are shared, so measurements are serialised. The call is made once before it is
/// measured: what a first call sets up once per process is not a cost of each call.
fn measure<R>(f: impl Fn() -> R) -> (usize, usize) {
    let _guard = LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    drop(f());
    COUNT.store(0, Ordering::SeqCst);
    BYTES.store(0, Ordering::SeqCst);
    ENABLED.with(|e| e.set(true));
    let result = f();
    ENABLED.with(|e| e.set(false));
    drop(result);
    (COUNT.load(Ordering::SeqCst), BYTES.load(Ordering::SeqCst))
}

/// `measure` in a rayon pool of `threads` threads, counting every allocation its threads make:
/// gradgen shares large products and fused passes among the threads of the pool it is called
/// in, and a thread that helps may allocate too. Every thread of the pool makes the call once
/// before it is measured: faer's products keep their packing memory in a buffer per thread
/// that calls them, allocated on its first product (twice the L3 cache's size as the CPU
/// reports it: 960 MiB of address space on this VM, whose pages are touched only as far as a
/// product packs), which is not a cost of each call.
fn measure_on<R: Send>(threads: usize, f: impl Fn() -> R + Sync) -> (usize, usize) {
    let _guard = LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .start_handler(|_| POOL_THREAD.with(|p| p.set(true)))
        .build()
        .expect("a thread pool");
    pool.broadcast(|_| drop(f()));
    COUNT.store(0, Ordering::SeqCst);
    BYTES.store(0, Ordering::SeqCst);
    POOL_ENABLED.store(true, Ordering::SeqCst);
    let result = pool.install(&f);
    POOL_ENABLED.store(false, Ordering::SeqCst);
    drop(result);
    (COUNT.load(Ordering::SeqCst), BYTES.load(Ordering::SeqCst))
}

/// The generated backward's allocations on one thread and on two against the hand-written
/// code's (one thread: ndarray's matrixmultiply without its `threading`). No more bytes on
/// either, and no more allocations on one. On two, each product shared among the threads adds
/// small allocations of rayon's and faer's (the jobs and their bookkeeping: 11 to 22, and 1 to
/// 4 KB, per product here), printed but not bounded: their number depends on how the threads
/// meet.
fn compare(name: &str, generated: [(usize, usize); 2], hand: (usize, usize)) {
    let [one, two] = generated;
    println!(
        "{name:<16} generated: {:>3} allocations, {:>10} bytes (two threads: {:>3}, {:>10})   hand-written: {:>3} allocations, {:>10} bytes",
        one.0, one.1, two.0, two.1, hand.0, hand.1
    );
    assert!(
        one.0 <= hand.0 && one.1 <= hand.1 && two.1 <= hand.1,
        "{name}: the generated backward allocates more than the hand-written one: {generated:?} vs {hand:?}"
    );
}

/// The generated call measured on a pool of one thread and on a pool of two.
fn generated<R: Send>(f: impl Fn() -> R + Sync) -> [(usize, usize); 2] {
    [measure_on(1, &f), measure_on(2, &f)]
}

fn softmax<const N: usize, const D: usize, const C: usize>(name: &str) {
    let x: Mat<N, D, f32> = random(1, 1.0);
    let w: Mat<D, C, f32> = random(2, 0.1);
    let b: Mat<1, C, f32> = random(3, 0.1);
    let y: Labels<N, C> = labels();
    let ys = y.to_classes().expect("every row labelled");
    let generated = generated(|| softmax_loss_backward(&x, &w, &b, &y, 1.0));
    let hand = measure(|| softmax_hand(x.as_array(), w.as_array(), b.as_array(), &ys));
    // Same math: the values and gradients agree.
    let g = softmax_loss_backward(&x, &w, &b, &y, 1.0);
    let (loss, dw, db) = softmax_hand(x.as_array(), w.as_array(), b.as_array(), &ys);
    assert!((g.value - loss).abs() < 1e-4 * loss.abs().max(1.0));
    assert!(g
        .w
        .as_array()
        .iter()
        .zip(&dw)
        .all(|(a, b)| (a - b).abs() < 1e-4));
    assert!(g
        .b
        .as_array()
        .iter()
        .zip(&db)
        .all(|(a, b)| (a - b).abs() < 1e-4));
    compare(name, generated, hand);
}

#[test]
fn softmax_small() {
    softmax::<64, 32, 10>("softmax_small");
}

#[test]
fn softmax_large() {
    softmax::<4096, 784, 10>("softmax_large");
}

#[test]
fn mlp() {
    let x: Mat<256, 784, f32> = random(4, 1.0);
    let w1: Mat<784, 256, f32> = random(5, 0.05);
    let b1: Mat<1, 256, f32> = random(6, 0.1);
    let w2: Mat<256, 10, f32> = random(7, 0.1);
    let b2: Mat<1, 10, f32> = random(8, 0.1);
    let y: Labels<256, 10> = labels();
    let generated = generated(|| mlp_loss_backward(&x, &w1, &b1, &w2, &b2, &y, 1.0));
    let (xa, w1a, b1a, w2a, b2a) = (
        x.as_array(),
        w1.as_array(),
        b1.as_array(),
        w2.as_array(),
        b2.as_array(),
    );
    let ys = y.to_classes().expect("every row labelled");
    let hand = measure(|| mlp_hand(xa, w1a, b1a, w2a, b2a, &ys));
    let g = mlp_loss_backward(&x, &w1, &b1, &w2, &b2, &y, 1.0);
    let (loss, (dw1, db1, dw2, db2)) = mlp_hand(xa, w1a, b1a, w2a, b2a, &ys);
    assert!((g.value - loss).abs() < 1e-4 * loss.abs().max(1.0));
    for (ours, theirs) in [
        (g.w1.as_array(), &dw1),
        (g.b1.as_array(), &db1),
        (g.w2.as_array(), &dw2),
        (g.b2.as_array(), &db2),
    ] {
        assert!(ours.iter().zip(theirs).all(|(a, b)| (a - b).abs() < 1e-4));
    }
    compare("mlp", generated, hand);
}

#[test]
fn batchnorm() {
    let x: Mat<1024, 512, f32> = random(9, 2.0);
    let gamma: Mat<1, 512, f32> = random(10, 1.0);
    let beta: Mat<1, 512, f32> = random(11, 1.0);
    let g: Mat<1024, 512, f32> = random(12, 1.0);
    let [generated, two] = generated(|| batchnorm_loss_backward(&x, &gamma, &beta, &g, 1e-5, 1.0));
    let unfused = measure(|| batchnorm_loss_unfused_backward(&x, &gamma, &beta, &g, 1e-5, 1.0));
    let (xa, ga, ba, gra) = (
        x.as_array(),
        gamma.as_array(),
        beta.as_array(),
        g.as_array(),
    );
    let hand = measure(|| batchnorm_hand(xa, ga, ba, gra, 1e-5));
    let ours = batchnorm_loss_backward(&x, &gamma, &beta, &g, 1e-5, 1.0);
    let (loss, (dx, dgamma, dbeta)) = batchnorm_hand(xa, ga, ba, gra, 1e-5);
    assert!(
        (ours.value - loss).abs() < 1e-3 * loss.abs().max(1.0),
        "{} vs {loss}",
        ours.value
    );
    assert!(ours
        .x
        .as_array()
        .iter()
        .zip(&dx)
        .all(|(a, b)| (a - b).abs() < 1e-3));
    assert!(ours
        .gamma
        .as_array()
        .iter()
        .zip(&dgamma)
        .all(|(a, b)| (a - b).abs() < 1e-2));
    assert!(ours
        .beta
        .as_array()
        .iter()
        .zip(&dbeta)
        .all(|(a, b)| (a - b).abs() < 1e-2));
    // The model of a loop-fusing generator (BENCHMARKS.md) computes the same value and
    // gradients, with one [N × D] buffer: within 0.5% of the closed form's bytes.
    let model = measure(|| batchnorm_fused_model(xa, ga, ba, gra, 1e-5, 1.0));
    let (m_loss, (m_dx, m_dgamma, m_dbeta)) = batchnorm_fused_model(xa, ga, ba, gra, 1e-5, 1.0);
    assert!(
        (m_loss - loss).abs() < 1e-3 * loss.abs().max(1.0),
        "{m_loss} vs {loss}"
    );
    for (ours, model) in [
        (ours.x.as_array(), &m_dx),
        (ours.gamma.as_array(), &m_dgamma),
        (ours.beta.as_array(), &m_dbeta),
    ] {
        assert!(ours.iter().zip(model).all(|(a, b)| (a - b).abs() < 1e-2));
    }
    // With d_out ≠ 1 it scales every gradient, as the generated backward does.
    let scaled = batchnorm_fused_model(xa, ga, ba, gra, 1e-5, -2.0).1;
    assert!(scaled
        .0
        .iter()
        .zip(&m_dx)
        .all(|(s, m)| (s + 2.0 * m).abs() < 1e-4));
    println!(
        "batchnorm (fused-loop model): {:>3} allocations, {:>10} bytes",
        model.0, model.1
    );
    assert!(model.1 * 1000 <= hand.1 * 1005, "{model:?} vs {hand:?}");
    // The fused backward (`examples/expanded/batchnorm.rs`) keeps one [N × D] buffer, the
    // returned d_x, as the closed form does (5 allocations, 2,105,344 bytes: one [N × D]
    // buffer that holds x̂ and then dx, and four [1 × D] rows). Not within it by seven rows
    // (14,336 bytes, 0.68%): the chain rule through these bindings stores μ, the variance,
    // inv_std, d_var, dμ, the value's per-column sums and the three sums that dβ, dγ,
    // d inv_std and dμ share (Σ G, Σ (x − μ)∘G, Σ (x − μ)), where the closed form's algebra
    // folds them into μ and inv_std. Bounded at today's count, and within 0.7%. On two
    // threads, each of the three passes that sums by column gives its second range rows of
    // its own to sum into (six more [1 × D] rows: 12,288 bytes), added into the first's.
    println!(
        "batchnorm        generated: {:>3} allocations, {:>10} bytes (two threads: {:>3}, {:>10})   hand-written: {:>3} allocations, {:>10} bytes",
        generated.0, generated.1, two.0, two.1, hand.0, hand.1
    );
    assert!(
        generated.0 <= 12 && generated.1 <= 2_119_680 && generated.1 * 1000 <= hand.1 * 1007,
        "batchnorm regressed: {generated:?} against {hand:?}"
    );
    assert!(
        two.0 <= generated.0 + 6 && two.1 <= generated.1 + 6 * 512 * 4,
        "batchnorm on two threads regressed: {two:?} against {generated:?} on one"
    );
    // `#[differentiable(unfused)]`, one runtime call per binding, keeps three [N × D]
    // matrices: x − μ and x̂, which its backward reads, and x̂∘γ + β, whose buffer then holds
    // the gradient.
    println!(
        "batchnorm        unfused:   {:>3} allocations, {:>10} bytes",
        unfused.0, unfused.1
    );
    assert!(
        unfused.0 <= 10 && unfused.1 <= 6_305_792,
        "batchnorm, unfused, regressed: {unfused:?}"
    );
    let same = batchnorm_loss_unfused_backward(&x, &gamma, &beta, &g, 1e-5, 1.0);
    assert!((same.value - ours.value).abs() < 1e-3 * ours.value.abs().max(1.0));
    assert!(same
        .x
        .to_vec()
        .iter()
        .zip(ours.x.to_vec())
        .all(|(a, b)| (a - b).abs() < 1e-4));
}

/// The Elman RNN at the benchmark's sizes (N=64, D=32, H=128, C=4, T=50): the generated
/// backward of its `for` loop (`workloads::elman_loss`) against the hand-written reference.
/// The reference allocates nothing per step but one buffer per matrix product
/// (matrixmultiply's packing buffer), plus the eight arrays it keeps or returns (the hidden
/// states, the scores, `dh` and the five other gradients: dWx, dWh, db, dWy, dby).
#[test]
fn elman() {
    const STEPS: usize = 50;
    let inputs = ElmanInputs::<64, 32, 128, 4>::new(STEPS);
    let (xs, params, ys) = (inputs.x_views(), inputs.params(), inputs.classes());
    let hand = measure(|| elman_hand(&xs, &params, &ys));
    let with_inputs = measure(|| elman_hand_with_inputs(&xs, &params, &ys));
    let i = &inputs;
    let [generated, two] = generated(|| {
        elman_loss_backward(&i.xs, &i.h0, &i.wx, &i.wh, &i.b, &i.wy, &i.by, &i.y, 1.0)
    });
    println!(
        "elman            generated: {:>3} allocations, {:>10} bytes (two threads: {:>3}, {:>10})   hand-written: {:>3} allocations, {:>10} bytes; with the inputs' gradients: {:>3} allocations, {:>10} bytes",
        generated.0, generated.1, two.0, two.1, hand.0, hand.1, with_inputs.0, with_inputs.1
    );
    // Products: the scores, dWy and dh once; x·Wx, h·Wh forward and xᵀ·d, hᵀ·d, d·Whᵀ
    // backward per step; d·Wxᵀ per step for the inputs, each in an array of its own, in a Vec.
    let products = 3 + 5 * STEPS;
    assert!(hand.0 <= 8 + products, "{hand:?}");
    // The generated loop allocates the reference's eight arrays and nothing else but one thing:
    // it keeps the states in a Vec of T matrices (one allocation for the Vec, one per step
    // for its slot, x·Wx, which becomes the state) where the reference has one [T+1, N, H]
    // array: the same bytes, plus the Vec's T matrix headers. x·Wx + h·Wh is one buffer
    // (`add_matmul`), dWx, dWh and db are added in place, d pre·Whᵀ is written over the step's
    // dead state (`into_matmul_t_of`), and no product allocates: faer packs these small ones
    // into its per-thread buffer, where matrixmultiply allocates a packing buffer per product
    // (most of the reference's bytes). Its products are too small to share among threads, so
    // two threads allocate exactly what one does.
    let (n, d, h, c) = (64, 32, 128, 4);
    let arrays = 4 * ((STEPS + 1) * n * h + n * c + n * h + d * h + h * h + h + h * c + c);
    let header = std::mem::size_of::<Mat<64, 128, f32>>();
    // (With the `blas` feature the reference's products allocate nothing either, and it
    // allocates just its arrays: hence `hand.1 + header * STEPS`, not `hand.1`.)
    assert!(
        generated.1 <= arrays + header * STEPS && generated.1 <= hand.1 + header * STEPS,
        "generated {generated:?}, hand-written {hand:?}, arrays {arrays} bytes"
    );
    assert!(
        generated.0 <= 8 + STEPS + 1,
        "generated {generated:?}, hand-written {hand:?}"
    );
    assert_eq!(two, generated);
    assert!(
        with_inputs.0 <= 8 + products + 2 * STEPS + 1,
        "{with_inputs:?}"
    );
}
