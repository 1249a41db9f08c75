//! Turns a probe-event capture (the framed stream a kernel drains, see
//! `armv7_kprobes::trace::record`) into something to read: ftrace-like text, Chrome
//! trace-event JSON for Perfetto, or per-event latency summaries.
//!
//! ```text
//! kprobes-trace text CAPTURE              ftrace-like lines on stdout
//! kprobes-trace json CAPTURE OUT.json     trace-event JSON (open in ui.perfetto.dev)
//! kprobes-trace latency CAPTURE           count, p50, p99, max per return event
//! ```
//!
//! A damaged or truncated capture still gives every record before the damage; the tool
//! then names the byte offset on stderr and exits with status 1.

use armv7_kprobes::trace::export::Capture;
use std::io::Write;
use std::process::ExitCode;

const USAGE: &str = "usage: kprobes-trace text CAPTURE | json CAPTURE OUT.json | latency CAPTURE";

fn read(path: &str) -> Result<Capture, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    Ok(Capture::read(&bytes))
}

/// Writes `text` to stdout; a reader that stopped reading (`| head`) is not an error.
fn out(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

fn run(args: &[&str]) -> Result<Capture, String> {
    match args {
        ["text", input] => read(input).inspect(|c| out(&c.text())),
        ["json", input, output] => read(input).and_then(|c| {
            std::fs::write(output, c.chrome_json()).map_err(|e| format!("{output}: {e}"))?;
            Ok(c)
        }),
        ["latency", input] => read(input).inspect(|c| out(&c.latency_summary())),
        _ => Err(USAGE.into()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match run(&args) {
        Ok(capture) => match capture.error {
            None => ExitCode::SUCCESS,
            Some(e) => {
                eprintln!(
                    "kprobes-trace: {}: {e} ({} records before it were kept)",
                    args[1],
                    capture.records.len()
                );
                ExitCode::from(1)
            }
        },
        Err(e) => {
            eprintln!("kprobes-trace: {e}");
            ExitCode::from(2)
        }
    }
}
