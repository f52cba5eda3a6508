//! Progress of long jobs on stderr: an indicatif bar on a terminal, and plain `veil: ...` lines
//! otherwise (a bar is invisible in a log or a pipe, where minutes of silence look like a hang).

use std::io::{IsTerminal, Write};

use indicatif::{ProgressBar, ProgressStyle};
use veil_cryptorec::model::EpochReport;

/// Epochs between two plain progress lines.
const PLAIN_EVERY: usize = 10;

/// A progress display for one job.
pub(crate) struct Progress {
    bar: ProgressBar,
    plain: bool,
}

impl Progress {
    /// A bar over `epochs` epochs, showing the validation RMSE.
    pub(crate) fn epochs(prefix: &str, epochs: usize) -> Self {
        let bar = ProgressBar::new(epochs as u64);
        if let Ok(style) =
            ProgressStyle::with_template("{prefix} [{bar:30}] epoch {pos}/{len} {msg}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(prefix.to_owned());
        Self::with(bar)
    }

    /// A spinner for stages of unknown length.
    pub(crate) fn spinner() -> Self {
        Self::with(ProgressBar::new_spinner())
    }

    fn with(bar: ProgressBar) -> Self {
        Progress {
            bar,
            plain: !std::io::stderr().is_terminal(),
        }
    }

    /// Starts a named stage.
    pub(crate) fn stage(&self, msg: &str) {
        self.bar.set_message(msg.to_owned());
        self.bar.tick();
        if self.plain {
            line(msg);
        }
    }

    /// Reports a finished epoch.
    pub(crate) fn epoch(&self, r: EpochReport) {
        self.bar.set_position(r.epoch as u64 + 1);
        let rmse = r
            .validation_rmse
            .map(|v| format!("validation RMSE {v:.4}"))
            .unwrap_or_default();
        self.bar.set_message(rmse.clone());
        if self.plain && (r.epoch + 1) % PLAIN_EVERY == 0 {
            line(&format!("epoch {} {rmse}", r.epoch + 1));
        }
    }

    /// Removes the bar.
    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// One plain progress line on stderr (errors writing it are ignored: it is only progress).
fn line(msg: &str) {
    let _ignored = writeln!(std::io::stderr().lock(), "veil: {msg}");
}
