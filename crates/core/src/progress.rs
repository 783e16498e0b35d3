//! Progress bars that show only when stderr is a terminal, so logs and CI stay clean.
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A bar over `len` items (or bytes when `bytes`), hidden unless stderr is a terminal.
pub fn bar(len: u64, message: &str, bytes: bool) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let template = if bytes {
        "{msg:>12} [{bar:40}] {bytes}/{total_bytes} ({eta})"
    } else {
        "{msg:>12} [{bar:40}] {pos}/{len} ({eta})"
    };
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message.to_string());
    bar
}

/// Bars drawn together, one line each (`MultiProgress::add` them), for work running side by
/// side such as the members of an ensemble; hidden unless stderr is a terminal.
pub fn lines() -> MultiProgress {
    if std::io::stderr().is_terminal() {
        MultiProgress::new()
    } else {
        MultiProgress::with_draw_target(ProgressDrawTarget::hidden())
    }
}
