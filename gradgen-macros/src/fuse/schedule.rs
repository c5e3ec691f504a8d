//! Part of stage 4b (fuse): which pass computes what.
//!
//! Input: the quantities. Output: the passes, in order, each a list of lines: a value
//! recomputed where it is read (an `[R × C]` value that is not returned), a stored quantity's
//! own terms, or a reduction's term summed into its quantity. Guarantees: a line comes after
//! every line it reads in its pass, and a pass reads a stored quantity only once an earlier
//! pass completed it; passes over the small shapes come first whenever they can make
//! progress, so that the large passes are as few as the reductions allow; and a reduction that
//! alone makes a large pass read a matrix is left to a later large pass, when the schedule then
//! takes no more of them (they are bound by the memory they read). `None` when no
//! schedule exists (which a function the table accepts does not produce).

use std::cell::RefCell;

use super::{Class, Graph, Term};

/// One line of a pass.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Line {
    /// An `[R × C]` value computed where it is read: `let xc = x[i][j] - mu[0][j];`.
    Inline(usize),
    /// A stored quantity's own terms (or, for a mean, the division by its count).
    Own(usize),
    /// Part `.1` of quantity `.0` summed into it.
    Part(usize, usize),
}

/// One loop over the entries of `domain`'s shape (no loop for scalars).
pub struct Pass {
    pub domain: Class,
    pub lines: Vec<Line>,
}

#[derive(Clone)]
struct State {
    done: Vec<bool>,
    part_done: Vec<Vec<bool>>,
}

/// The passes that compute the value and the returned gradients.
pub fn schedule(g: &Graph) -> Option<Vec<Pass>> {
    let needed = needed(g);
    let st = State {
        done: g.qs.iter().map(|q| q.given || q.is_zero()).collect(),
        part_done: g.qs.iter().map(|q| vec![false; q.parts.len()]).collect(),
    };
    let mut passes = Vec::new();
    run(g, &needed, st, &mut passes, true)?;
    Some(passes)
}

/// Adds the passes from `st` to the end. With `lighten`, each pass over `[R × C]` leaves to a
/// later one any reduction that is alone in making it read a matrix, when that takes no more
/// passes over `[R × C]` in all: the passes are bound by the memory they read.
fn run(
    g: &Graph,
    needed: &[bool],
    mut st: State,
    passes: &mut Vec<Pass>,
    lighten: bool,
) -> Option<()> {
    while !finished(g, needed, &st) {
        if passes.len() > 4 * g.qs.len() + 8 {
            return None;
        }
        let mut pass = next(g, needed, &st, &[])?;
        if lighten && pass.domain == Class::Big {
            pass = lighter(g, needed, &st, pass);
        }
        apply(g, &mut st, &pass);
        passes.push(pass);
    }
    Some(())
}

/// The next pass: over the smallest shape that can make progress.
fn next(g: &Graph, needed: &[bool], st: &State, deferred: &[(usize, usize)]) -> Option<Pass> {
    [Class::Scalar, Class::Row, Class::Col, Class::Big]
        .into_iter()
        .map(|d| build(g, needed, st, d, deferred))
        .find(|p| !p.lines.is_empty())
}

/// How many passes over `[R × C]` the schedule takes from `st` with `first` as its next pass.
fn big_passes(g: &Graph, needed: &[bool], st: &State, first: &Pass) -> Option<usize> {
    let mut st = st.clone();
    apply(g, &mut st, first);
    let mut rest = Vec::new();
    run(g, needed, st, &mut rest, false)?;
    let big = rest.iter().filter(|p| p.domain == Class::Big).count();
    Some(big + usize::from(first.domain == Class::Big))
}

/// `pass` without the reductions that can wait for a later pass over `[R × C]` that reads their
/// matrices anyway (batch norm's `Σ_rows g` waits for the variance's pass, so that μ's reads
/// `x` alone).
fn lighter(g: &Graph, needed: &[bool], st: &State, pass: Pass) -> Pass {
    let Some(total) = big_passes(g, needed, st, &pass) else {
        return pass;
    };
    let mut deferred: Vec<(usize, usize)> = Vec::new();
    let mut best = pass;
    'search: loop {
        for line in alone(g, &best) {
            let Line::Part(q, pi) = line else {
                continue;
            };
            let mut trial = deferred.clone();
            trial.push((q, pi));
            let Some(lighter) = next(g, needed, st, &trial).filter(|p| p.domain == Class::Big)
            else {
                continue;
            };
            if big_passes(g, needed, st, &lighter).is_some_and(|n| n <= total) {
                deferred = trial;
                best = lighter;
                continue 'search;
            }
        }
        return best;
    }
}

/// The lines of a pass that alone make it read some `[R × C]` matrix. A value recomputed in
/// the pass (`Inline`) does not count as another reader: it is there for the lines that read
/// it, which read its matrices too.
fn alone(g: &Graph, pass: &Pass) -> Vec<Line> {
    let streams: Vec<Vec<usize>> = pass.lines.iter().map(|&l| streams(g, l)).collect();
    pass.lines
        .iter()
        .enumerate()
        .filter(|&(k, _)| {
            streams[k].iter().any(|m| {
                !pass
                    .lines
                    .iter()
                    .zip(&streams)
                    .enumerate()
                    .any(|(other, (line, s))| {
                        other != k && !matches!(line, Line::Inline(_)) && s.contains(m)
                    })
            })
        })
        .map(|(_, &line)| line)
        .collect()
}

/// The terms a line of a pass evaluates.
pub fn line_terms(g: &Graph, line: Line) -> Vec<&Term> {
    match line {
        Line::Inline(q) | Line::Own(q) => g.qs[q].own.iter().collect(),
        Line::Part(q, pi) => vec![&g.qs[q].parts[pi].term],
    }
}

/// The stored `[R × C]` matrices a line reads, directly or through values it recomputes.
fn streams(g: &Graph, line: Line) -> Vec<usize> {
    let terms = line_terms(g, line);
    let mut stack: Vec<usize> = terms.into_iter().flat_map(Term::reads).collect();
    let (mut seen, mut out) = (Vec::new(), Vec::new());
    while let Some(r) = stack.pop() {
        if seen.contains(&r) || g.qs[r].class != Class::Big {
            continue;
        }
        seen.push(r);
        if g.qs[r].stored() {
            out.push(r);
        } else {
            stack.extend(g.qs[r].reads());
        }
    }
    out
}

/// The quantities the value and the returned gradients read, transitively.
fn needed(g: &Graph) -> Vec<bool> {
    let mut needed = vec![false; g.qs.len()];
    let mut stack: Vec<usize> = (0..g.qs.len()).filter(|&q| g.qs[q].output).collect();
    while let Some(q) = stack.pop() {
        if !needed[q] {
            needed[q] = true;
            stack.extend(g.qs[q].reads());
        }
    }
    needed
}

fn finished(g: &Graph, needed: &[bool], st: &State) -> bool {
    (0..g.qs.len()).all(|q| !needed[q] || !g.qs[q].stored() || st.done[q])
}

struct Building<'a> {
    g: &'a Graph,
    st: &'a State,
    domain: Class,
    here: Vec<bool>,
    lines: Vec<Line>,
    /// What `can` found since the pass last changed: a value read along many paths is looked
    /// at once, not once per path.
    memo: RefCell<Vec<Option<bool>>>,
}

impl Building<'_> {
    /// Quantity `q` can be read in this pass: complete, computed in it already, or an
    /// `[R × C]` value it can recompute.
    fn can(&self, q: usize) -> bool {
        if let Some(known) = self.memo.borrow()[q] {
            return known;
        }
        let quantity = &self.g.qs[q];
        let can = self.st.done[q]
            || self.here[q]
            || (!quantity.stored()
                && quantity.class == self.domain
                && quantity.parts.is_empty()
                && quantity.reads().all(|r| self.can(r)));
        self.memo.borrow_mut()[q] = Some(can);
        can
    }

    fn push(&mut self, line: Line) {
        self.lines.push(line);
        self.memo.borrow_mut().fill(None);
    }

    /// Adds the lines that recompute `q` where this pass needs them.
    fn make(&mut self, q: usize) {
        if self.st.done[q] || self.here[q] {
            return;
        }
        let reads: Vec<usize> = self.g.qs[q].reads().collect();
        for r in reads {
            self.make(r);
        }
        self.here[q] = true;
        self.push(Line::Inline(q));
    }

    fn add(&mut self, line: Line, reads: Vec<usize>) {
        for r in reads {
            self.make(r);
        }
        self.push(line);
    }

    /// Adds every line of quantity `q` that can run in this pass; whether one was added.
    fn step(&mut self, q: usize, taken: &mut [Vec<bool>]) -> bool {
        let (g, domain) = (self.g, self.domain);
        let quantity = &g.qs[q];
        let mut progress = false;
        for (pi, part) in quantity.parts.iter().enumerate() {
            let reads: Vec<usize> = part.term.reads().collect();
            if part.domain == domain
                && !self.st.part_done[q][pi]
                && !taken[q][pi]
                && reads.iter().all(|&r| self.can(r))
            {
                self.add(Line::Part(q, pi), reads);
                taken[q][pi] = true;
                progress = true;
            }
        }
        let reads: Vec<usize> = quantity.own.iter().flat_map(super::Term::reads).collect();
        if quantity.stored()
            && quantity.class == domain
            && !self.here[q]
            && (!quantity.own.is_empty() || quantity.mean.is_some())
            && self.st.part_done[q].iter().all(|&d| d)
            && reads.iter().all(|&r| self.can(r))
        {
            self.here[q] = true;
            self.add(Line::Own(q), reads);
            progress = true;
        }
        progress
    }
}

/// One pass over `domain`: everything that can run in it.
fn build(
    g: &Graph,
    needed: &[bool],
    st: &State,
    domain: Class,
    deferred: &[(usize, usize)],
) -> Pass {
    let mut b = Building {
        g,
        st,
        domain,
        here: vec![false; g.qs.len()],
        lines: Vec::new(),
        memo: RefCell::new(vec![None; g.qs.len()]),
    };
    let mut taken: Vec<Vec<bool>> = st.part_done.iter().map(|p| vec![false; p.len()]).collect();
    // A deferred reduction counts as taken: this pass does not sum it.
    for &(q, pi) in deferred {
        taken[q][pi] = true;
    }
    loop {
        let mut progress = false;
        for (q, &need) in needed.iter().enumerate() {
            if need && !st.done[q] {
                progress |= b.step(q, &mut taken);
            }
        }
        if !progress {
            break;
        }
    }
    Pass {
        domain,
        lines: b.lines,
    }
}

/// Marks what a pass completed: its reductions' parts, its stored quantities, and the
/// quantities that are only sums of parts, once every part is in.
fn apply(g: &Graph, st: &mut State, pass: &Pass) {
    for line in &pass.lines {
        match *line {
            Line::Part(q, pi) => st.part_done[q][pi] = true,
            Line::Own(q) => st.done[q] = true,
            Line::Inline(_) => {}
        }
    }
    for (q, quantity) in g.qs.iter().enumerate() {
        if quantity.stored()
            && quantity.own.is_empty()
            && quantity.mean.is_none()
            && st.part_done[q].iter().all(|&d| d)
        {
            st.done[q] = true;
        }
    }
}
