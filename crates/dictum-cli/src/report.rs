//! What the commands show and leave behind besides their results: progress bars and
//! per-iteration CSV histories.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// Appends a formatted line to a command's summary (`String`), printed once its progress bar
/// is gone.
macro_rules! summary {
    ($out:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($out, $($arg)*);
    }};
}
pub(crate) use summary;

/// A progress bar of `len` steps drawn with `template` (indicatif's syntax).
pub(crate) fn progress_bar(len: u64, template: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    // Short runs finish before a bar would help; indicatif also hides it off a terminal.
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Writes `header` and one line per row to `path`, atomically.
pub(crate) fn write_csv(
    path: &Path,
    header: &str,
    rows: impl Iterator<Item = String>,
) -> crate::error::Result<()> {
    dictum::io::atomic::write_atomic(path, |w| {
        let io = |e| dictum::io::IoError::Io {
            path: path.to_path_buf(),
            source: e,
        };
        writeln!(w, "{header}").map_err(io)?;
        for row in rows {
            writeln!(w, "{row}").map_err(io)?;
        }
        Ok(())
    })?;
    Ok(())
}
