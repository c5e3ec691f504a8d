//! The examples' command-line options: `--plot FILE.svg`, `--save FILE`, `--load FILE` and
//! flags, checked so that a typo is an error and not a silently ignored option.

use std::path::PathBuf;

/// The options an example was given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Args {
    /// `--plot FILE.svg`: where to draw the training curves.
    pub plot: Option<PathBuf>,
    /// `--save FILE`: where to write the trained weights.
    pub save: Option<PathBuf>,
    /// `--load FILE`: weights to evaluate instead of training.
    pub load: Option<PathBuf>,
    /// The flags given (options without a value), such as `--derivation`.
    pub flags: Vec<String>,
}

impl Args {
    /// Reads the process's arguments. `takes` lists the options this example accepts, as
    /// `"--plot"` (with a value) or `"--derivation"` (a flag, also listed in `flags`).
    ///
    /// # Errors
    /// A message naming the unknown option or the option without its value, and the
    /// accepted ones.
    pub fn parse(takes: &[&str], flags: &[&str]) -> Result<Args, String> {
        Self::parse_from(std::env::args().skip(1), takes, flags)
    }

    /// [`parse`](Args::parse) from a given list of arguments (without the program name).
    ///
    /// # Errors
    /// As [`parse`](Args::parse).
    pub fn parse_from(
        args: impl IntoIterator<Item = String>,
        takes: &[&str],
        flags: &[&str],
    ) -> Result<Args, String> {
        let usage = || {
            let mut all: Vec<String> = takes.iter().map(|t| format!("{t} FILE")).collect();
            all.extend(flags.iter().map(|f| (*f).to_owned()));
            all.join(", ")
        };
        let mut out = Args::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if flags.contains(&arg.as_str()) {
                out.flags.push(arg);
                continue;
            }
            let slot = match arg.as_str() {
                "--plot" if takes.contains(&"--plot") => &mut out.plot,
                "--save" if takes.contains(&"--save") => &mut out.save,
                "--load" if takes.contains(&"--load") => &mut out.load,
                _ => return Err(format!("unknown option `{arg}`: expected {}", usage())),
            };
            let value = args
                .next()
                .ok_or_else(|| format!("`{arg}` needs a file name: {arg} FILE"))?;
            *slot = Some(PathBuf::from(value));
        }
        Ok(out)
    }

    /// Whether `flag` was given.
    #[must_use]
    pub fn has(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }
}
