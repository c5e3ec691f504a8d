//! What the fused passes of a generated backward call to share their rows among threads. Not
//! part of the stable API: `#[differentiable]` writes these calls (see a backward's expansion).
//!
//! Every pass over an `[R × C]` matrix runs compiled for the widest vector instructions the
//! CPU has ([`vectorised!`](crate::math::vectorised), the same bits in each).
//!
//! A pass over an `[R × C]` matrix whose entries number at least [`THREADED_ENTRIES`] is cut
//! into as many ranges of rows as rayon has threads (`RAYON_NUM_THREADS`); a smaller one runs
//! on the calling thread, as one range. Each range accumulates its reductions (`Σ_rows`, the
//! value's per-column sums) in accumulators of its own, the first range in the pass's own, and
//! the others' are added into them in range order: the same bits for a given number of threads,
//! and, across numbers of threads, the same sums added in another order.
//!
//! A matrix that a threaded pass is the first to write (a returned gradient) is created by it
//! ([`rows_new`]): allocated without zeroing it first, each thread zeroes its rows a few at a
//! time just before the pass writes them, so that the matrix goes to memory once, on the
//! threads, and not once more zeroed by the calling thread beforehand. That is this module's
//! one `unsafe`, and its soundness does not depend on what the pass writes.

use std::ops::{AddAssign, Range};

use crate::{Mat, Scalar};

/// The number of entries from which a pass is shared among threads. Handing work to rayon's
/// pool costs about 12 µs here (BENCHMARKS.md, "Entrywise passes on two threads"); a fused
/// pass does several operations per entry, which pays for it from about 100,000 entries.
pub const THREADED_ENTRIES: usize = 1 << 17;

/// What a range of rows accumulates: matrices (or tuples of them) that start at zero and are
/// added in order.
pub trait Accumulate: Send + Sized {
    /// Every accumulator at zero.
    fn zero() -> Self;
    /// Adds another range's accumulators.
    fn add(&mut self, other: Self);
}

impl<const R: usize, const C: usize, T: Scalar> Accumulate for Mat<R, C, T> {
    fn zero() -> Self {
        Mat::zeros()
    }
    fn add(&mut self, other: Self) {
        self.add_assign(&other);
    }
}

macro_rules! tuples {
    ($(($($name:ident $index:tt),*))*) => {$(
        impl<$($name: Accumulate),*> Accumulate for ($($name,)*) {
            #[allow(clippy::unused_unit)]
            fn zero() -> Self {
                ($($name::zero(),)*)
            }
            #[allow(unused_variables, clippy::unused_unit)]
            fn add(&mut self, other: Self) {
                $(self.$index.add(other.$index);)*
            }
        }
    )*};
}

tuples! {
    ()
    (A 0)
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
    (A 0, B 1, C 2, D 3, E 4)
    (A 0, B 1, C 2, D 3, E 4, F 5)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7)
}

/// Runs a pass compiled for AVX-512, AVX2 and the x86-64 baseline, as the CPU allows
/// ([`vectorised!`](crate::math::vectorised)): the same bits in each. The generated code marks
/// the pass `#[inline(always)]`, so that it is compiled into each version.
pub fn vectorised(pass: impl FnOnce()) {
    crate::math::vectorised!(pass());
}

/// How many ranges of rows a pass over `rows × cols` entries is cut into.
#[must_use]
pub fn parts(rows: usize, cols: usize) -> usize {
    if rows.saturating_mul(cols) < THREADED_ENTRIES {
        1
    } else {
        rayon::current_num_threads().clamp(1, rows.max(1))
    }
}

/// A pass over the rows `0..R` of an `[R × cols]` matrix: `body(rows, acc)` for each range, the
/// first with `acc`, the others with accumulators of their own, added into it in order.
///
/// The ranges are halved recursively (`rayon::join`), so the pass allocates nothing of its own
/// but the other threads' accumulators.
pub fn rows<const R: usize, A: Accumulate>(
    cols: usize,
    mut acc: A,
    body: impl Fn(Range<usize>, &mut A) + Sync,
) -> A {
    split(0..R, parts(R, cols), &mut acc, &body);
    acc
}

// Not `rows_into` with rows of nothing to write: through that extra closure the pass was no
// longer compiled into each `vectorised!` version as well (batch norm: 446 µs → 462–490 µs).
fn split<A: Accumulate>(
    range: Range<usize>,
    parts: usize,
    acc: &mut A,
    body: &(impl Fn(Range<usize>, &mut A) + Sync),
) {
    if parts <= 1 {
        crate::math::vectorised!(body(range, acc));
        return;
    }
    let left = parts / 2;
    let mid = range.start + range.len() * left / parts;
    let ((), other) = rayon::join(
        || split(range.start..mid, left, acc, body),
        || {
            let mut own = A::zero();
            split(mid..range.end, parts - left, &mut own, body);
            own
        },
    );
    acc.add(other);
}

/// [`rows`], where the pass also writes the rows of `out` (a returned gradient, or a column
/// that is summed row by row): `body(rows, out_rows, acc)`, with row `i` of the pass at
/// `out_rows[i - rows.start]`.
pub fn rows_into<const R: usize, const K: usize, T: Send, A: Accumulate>(
    cols: usize,
    out: &mut [[T; K]; R],
    mut acc: A,
    body: impl Fn(Range<usize>, &mut [[T; K]], &mut A) + Sync,
) -> A {
    split_rows(0..R, parts(R, cols), out, &mut acc, &|rows, out, acc| {
        crate::math::vectorised!(body(rows, out, acc));
    });
    acc
}

/// [`rows_into`] for a matrix the pass creates: what `Mat::zeros()` and then `rows_into` give,
/// but each thread zeroes its rows a few at a time, just before the pass writes them, so that
/// they are written to memory once rather than zeroed by the calling thread first. Returns the
/// matrix and the accumulators.
pub fn rows_new<const R: usize, const C: usize, T: Scalar, A: Accumulate>(
    mut acc: A,
    body: impl Fn(Range<usize>, &mut [[T; C]], &mut A) + Sync,
) -> (Mat<R, C, T>, A) {
    if R == 0 || C == 0 {
        return (Mat::zeros(), acc);
    }
    // About 16 KiB at a time: zeroed in the first level of cache, and overwritten there.
    let Some(entries) = R.checked_mul(C) else {
        unreachable!("a matrix of more than usize::MAX entries does not fit in memory")
    };
    let chunk = (16 * 1024 / C.saturating_mul(std::mem::size_of::<T>()).max(1)).max(1);
    let mut data: Vec<T> = Vec::with_capacity(entries);
    let (rows, _) = data.spare_capacity_mut()[..entries].as_chunks_mut::<C>();
    split_rows(0..R, parts(R, C), rows, &mut acc, &|range, out, acc| {
        for (k, part) in out.chunks_mut(chunk).enumerate() {
            for entry in part.as_flattened_mut() {
                entry.write(T::zero());
            }
            // SAFETY: `[MaybeUninit<T>; C]` has the layout of `[T; C]`, and every entry of
            // `part` was initialised just above.
            let part = unsafe { &mut *(std::ptr::from_mut(part) as *mut [[T; C]]) };
            let start = range.start + k * chunk;
            crate::math::vectorised!(body(start..start + part.len(), part, acc));
        }
    });
    // SAFETY: `split_rows` hands every row of `0..R` to the closure above exactly once, which
    // initialises each of its entries before anything reads it. (If `body` panics, the
    // vector is dropped with length 0.)
    unsafe { data.set_len(entries) };
    match ndarray::Array2::from_shape_vec((R, C), data) {
        Ok(data) => (Mat::from_array_unchecked(data), acc),
        Err(_) => unreachable!("R × C entries"),
    }
}

/// The rows of `range`, with `out`'s (one element per row), cut into `parts` ranges halved
/// recursively (`rayon::join`); `leaf(rows, out_rows, acc)` for each, the first with `acc`,
/// the others with accumulators of their own, added into it in order.
fn split_rows<O: Send, A: Accumulate>(
    range: Range<usize>,
    parts: usize,
    out: &mut [O],
    acc: &mut A,
    leaf: &(impl Fn(Range<usize>, &mut [O], &mut A) + Sync),
) {
    if parts <= 1 {
        leaf(range, out, acc);
        return;
    }
    let left = parts / 2;
    let mid = range.start + range.len() * left / parts;
    let (first, second) = out.split_at_mut(mid - range.start);
    let ((), other) = rayon::join(
        || split_rows(range.start..mid, left, first, acc, leaf),
        || {
            let mut own = A::zero();
            split_rows(mid..range.end, parts - left, second, &mut own, leaf);
            own
        },
    );
    acc.add(other);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_passes_stay_on_the_calling_thread() {
        assert_eq!(parts(10, 3), 1);
        assert_eq!(parts(1000, 1000), rayon::current_num_threads().min(1000));
        let mut seen = Vec::new();
        let seen_ref = std::sync::Mutex::new(&mut seen);
        rows::<10, _>(3, (), |r, ()| seen_ref.lock().unwrap().push(r));
        assert_eq!(seen, vec![0..10]);
    }

    #[test]
    fn every_row_is_written_once_and_every_sum_added_once() {
        let mut out = [[0.0f64; 2]; 300];
        let sums: Mat<1, 2> =
            rows_into::<300, 2, f64, Mat<1, 2>>(1000, &mut out, Mat::zeros(), |rows, out, acc| {
                for i in rows.clone() {
                    out[i - rows.start] = [i as f64, 1.0];
                    acc[(0, 0)] += 1.0;
                    acc[(0, 1)] += i as f64;
                }
            });
        assert!(out
            .iter()
            .enumerate()
            .all(|(i, r)| r[0] == i as f64 && r[1] == 1.0));
        assert_eq!(sums[(0, 0)], 300.0);
        assert_eq!(sums[(0, 1)], (0..300).sum::<usize>() as f64);
        let counted: (Mat<1, 1>,) = rows::<300, _>(1000, (Mat::full(5.0),), |rows, (acc,)| {
            acc[(0, 0)] += rows.len() as f64;
        });
        assert_eq!(counted.0[(0, 0)], 305.0);
    }

    #[test]
    fn a_new_matrix_is_zero_where_the_pass_does_not_write() {
        // 1024 × 160 f64 (more than THREADED_ENTRIES): chunks of 12 rows, and on more than one
        // thread ranges of their own. Each row's column 0 is written, column 1 added to (from
        // zero), the rest left alone.
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a pool");
            let (m, sums): (Mat<1024, 160>, Mat<1, 1>) = pool.install(|| {
                rows_new::<1024, 160, f64, Mat<1, 1>>(Mat::zeros(), |rows, out, acc| {
                    for i in rows.clone() {
                        out[i - rows.start][0] = i as f64;
                        out[i - rows.start][1] += 2.0;
                        acc[(0, 0)] += 1.0;
                    }
                })
            });
            for i in 0..1024 {
                assert_eq!(m[(i, 0)], i as f64);
                assert_eq!(m[(i, 1)], 2.0);
                assert!((2..160).all(|j| m[(i, j)] == 0.0));
            }
            assert_eq!(sums[(0, 0)], 1024.0);
        }
        let (empty, ()): (Mat<0, 3>, ()) = rows_new::<0, 3, f64, ()>((), |_, _, ()| {});
        assert_eq!(empty.to_vec().len(), 0);
    }
}
