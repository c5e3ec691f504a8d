//! Training progress: a live bar on a terminal, plain lines otherwise, and the curves as an SVG.

use std::io::IsTerminal;
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};
use plotters::prelude::*;

/// How progress is shown while training.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Show {
    /// An `indicatif` bar on stderr when it is a terminal; otherwise the progress lines on
    /// stdout as they come.
    Live,
    /// Nothing: the lines are only collected (tests).
    Quiet,
}

/// One epoch's measurements.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// The epoch (0 = before training).
    pub epoch: usize,
    /// The training loss.
    pub loss: f64,
    /// The accuracy, as a fraction.
    pub accuracy: f64,
}

/// The progress of a training run: every epoch's loss and accuracy, and the lines shown.
pub struct Progress {
    bar: Option<ProgressBar>,
    print: bool,
    every: usize,
    accuracy_label: &'static str,
    /// One line per `every` epochs (and the last), as printed.
    pub lines: Vec<String>,
    /// Every epoch's loss and accuracy, for the plot.
    pub history: Vec<Point>,
}

impl Progress {
    /// Progress over `epochs` epochs, with a line every `every` epochs; `accuracy_label` names
    /// the accuracy measured (`"test accuracy"`).
    #[must_use]
    pub fn new(show: Show, epochs: usize, every: usize, accuracy_label: &'static str) -> Self {
        let live = show == Show::Live;
        let bar = (live && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(epochs as u64);
            let style = ProgressStyle::with_template(
                "[{elapsed_precise}] {bar:30.cyan/blue} epoch {pos}/{len}  {msg}",
            )
            .expect("a valid template")
            .progress_chars("=> ");
            bar.set_style(style);
            bar
        });
        Progress {
            print: live && bar.is_none(),
            bar,
            every: every.max(1),
            accuracy_label,
            lines: Vec::new(),
            history: Vec::new(),
        }
    }

    /// Records an epoch: updates the bar, and at every `every`-th epoch (or when `last`) adds
    /// and shows a line.
    pub fn record(&mut self, epoch: usize, loss: f64, accuracy: f64, last: bool) {
        self.history.push(Point {
            epoch,
            loss,
            accuracy,
        });
        let message = format!(
            "loss {loss:.4}  {} {:>5.1}%",
            self.accuracy_label,
            100.0 * accuracy
        );
        if let Some(bar) = &self.bar {
            bar.set_position(epoch as u64);
            bar.set_message(message.clone());
        }
        if epoch.is_multiple_of(self.every) || last {
            let line = format!("epoch {epoch:>5}  {message}");
            if self.print {
                println!("{line}");
            }
            self.lines.push(line);
        }
    }

    /// Ends the bar, leaving it on the screen.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }

    /// Draws the training loss and the accuracy over the epochs, side by side, as an SVG file.
    ///
    /// # Errors
    /// A message when the file cannot be written.
    pub fn plot(&self, path: &Path, title: &str) -> Result<(), String> {
        plot(&self.history, self.accuracy_label, path, title)
            .map_err(|e| format!("cannot draw {}: {e}", path.display()))
    }
}

fn plot(
    history: &[Point],
    accuracy_label: &str,
    path: &Path,
    title: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (1000, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 22))?;
    let (left, right) = root.split_horizontally(500);
    let last = history.last().map_or(1, |p| p.epoch.max(1));
    let max_loss = history.iter().map(|p| p.loss).fold(0.0, f64::max) * 1.05;
    let loss: Vec<(usize, f64)> = history.iter().map(|p| (p.epoch, p.loss)).collect();
    curve(
        &left,
        "training loss",
        "loss",
        (0..last, 0.0..max_loss.max(1e-9)),
        loss,
        RED,
    )?;
    let min_acc = history.iter().map(|p| p.accuracy).fold(1.0, f64::min);
    let low = (100.0 * min_acc - 5.0).clamp(0.0, 95.0);
    let acc: Vec<(usize, f64)> = history
        .iter()
        .map(|p| (p.epoch, 100.0 * p.accuracy))
        .collect();
    curve(
        &right,
        accuracy_label,
        "accuracy (%)",
        (0..last, low..100.0),
        acc,
        BLUE,
    )?;
    root.present()?;
    Ok(())
}

/// One panel: a line over the epochs.
fn curve(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    caption: &str,
    y_label: &str,
    (x, y): (std::ops::Range<usize>, std::ops::Range<f64>),
    points: Vec<(usize, f64)>,
    color: RGBColor,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x, y)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(y_label)
        .draw()?;
    chart.draw_series(LineSeries::new(points, color.stroke_width(2)))?;
    Ok(())
}
