//! The in-kernel test registry: numbered `[ok]` lines, a closing verdict, an exit code.
//!
//! Output format (the host harness in `tests/` parses it):
//! ```text
//!   1. all_cores_online ... [ok]
//!   2. heap_allocates ... [FAILED] what went wrong
//! 1 passed, 1 failed
//! ```
//! The line's name is printed before the test runs, so a panic or a hang still names it.

use alloc::string::String;

/// What a test returns: `Err` carries a message for the `[FAILED]` line.
pub type TestResult = Result<(), String>;

/// One in-kernel test.
#[derive(Clone, Copy)]
pub struct Test {
    /// Name, as the `[ok]` line prints it.
    pub name: &'static str,
    /// The test body, run on core 0 (it may use the other cores).
    pub run: fn() -> TestResult,
}

/// Fails the current test with a formatted message unless `cond` holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(alloc::format!("{} ({}:{})", format_args!($($msg)+), file!(), line!()));
        }
    };
}

/// Runs `tests` in order, prints the verdict and returns the number that failed.
pub fn run(tests: &[Test]) -> usize {
    let (mut passed, mut failed) = (0, 0);
    for (i, t) in tests.iter().enumerate() {
        crate::kprint!("{:3}. {} ... ", i + 1, t.name);
        match (t.run)() {
            Ok(()) => {
                passed += 1;
                crate::kprintln!("[ok]");
            }
            Err(msg) => {
                failed += 1;
                crate::kprintln!("[FAILED] {msg}");
            }
        }
    }
    crate::kprintln!("{passed} passed, {failed} failed");
    failed
}
