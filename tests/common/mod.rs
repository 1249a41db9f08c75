//! Building the test kernel and booting it under QEMU, for the host-side tests that
//! judge what the kernel prints.
#![allow(dead_code)] // each test binary uses its own part of this module

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// The boards the kernel runs on, as the runner and the cargo features name them.
pub const BOARDS: [&str; 2] = ["virt", "vexpress-a15"];

const FIX: &str = "fix: ./qemu-runner.sh --setup";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Builds (once per test process) the release kernel for `board` and returns its ELF.
/// Panics with the one-line fix when the ARM target or QEMU is missing.
pub fn kernel(board: &str) -> PathBuf {
    kernel_with_profile(board, "release")
}

/// The kernel for `board` built with debug assertions and overflow checks (the
/// `release-checked` profile: release code plus the checks that turn undefined behaviour
/// the compiler can see into a panic).
pub fn checked_kernel(board: &str) -> PathBuf {
    kernel_with_profile(board, "release-checked")
}

fn kernel_with_profile(board: &str, profile: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<Vec<(String, PathBuf)>>> = OnceLock::new();
    let built = BUILT.get_or_init(|| Mutex::new(Vec::new()));
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    let key = format!("{board}/{profile}");
    if let Some((_, p)) = built.iter().find(|(b, _)| *b == key) {
        return p.clone();
    }
    let target_dir = root().join("target").join(format!("kernel-{board}"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(root())
        .env("CARGO_TARGET_DIR", &target_dir)
        .args(["build", "--profile", profile, "-p", "kprobes-test-kernel"])
        .args(["--target", "armv7a-none-eabi", "--features"])
        .arg(format!("board-{board}"))
        .output()
        .expect("cannot run cargo");
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        if err.contains("target may not be installed")
            || err.contains("can't find crate for `core`")
        {
            panic!("the armv7a-none-eabi Rust target is not installed; {FIX}");
        }
        panic!("building the {board} kernel ({profile}) failed:\n{err}");
    }
    let elf = target_dir
        .join("armv7a-none-eabi")
        .join(profile)
        .join("kprobes-test-kernel");
    built.push((key, elf.clone()));
    elf
}

/// What one boot printed and how it ended.
pub struct Boot {
    /// Exit status of the runner (the guest's semihosting code, 124 on timeout).
    pub status: i32,
    /// The guest console.
    pub stdout: String,
    /// The runner's and QEMU's own messages.
    pub stderr: String,
}

impl Boot {
    /// The `  N. name ... [FAILED] why` lines.
    pub fn failures(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| l.contains("... [FAILED]"))
            .collect()
    }

    /// The counts of the closing `N passed, N failed` line, if the kernel got there.
    pub fn verdict(&self) -> Option<(usize, usize)> {
        self.stdout.lines().rev().find_map(|l| {
            let (p, rest) = l.trim().split_once(" passed, ")?;
            let f = rest.strip_suffix(" failed")?;
            Some((p.parse().ok()?, f.parse().ok()?))
        })
    }

    /// Lines the kernel printed that contain `needle`.
    pub fn lines_with(&self, needle: &str) -> Vec<&str> {
        self.stdout.lines().filter(|l| l.contains(needle)).collect()
    }

    /// The last lines of the console, for assertion messages.
    pub fn tail(&self) -> String {
        let lines: Vec<&str> = self.stdout.lines().collect();
        let from = lines.len().saturating_sub(40);
        format!(
            "{}\n--- stderr ---\n{}",
            lines[from..].join("\n"),
            self.stderr
        )
    }
}

/// Boots `elf` through `qemu-runner.sh` with `args`.
pub fn boot(elf: &Path, args: &[&str]) -> Boot {
    if Command::new("qemu-system-arm")
        .arg("--version")
        .output()
        .is_err()
    {
        panic!("qemu-system-arm is not installed; {FIX}");
    }
    let out = Command::new(root().join("qemu-runner.sh"))
        .arg(elf)
        .args(args)
        .output()
        .expect("cannot run qemu-runner.sh");
    Boot {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The default test boot of `board` (4 cores, every in-kernel test), once per process.
pub fn test_boot(board: &str) -> &'static Boot {
    static BOOTS: OnceLock<Mutex<Vec<(String, &'static Boot)>>> = OnceLock::new();
    let elf = kernel(board);
    let boots = BOOTS.get_or_init(|| Mutex::new(Vec::new()));
    let mut boots = boots.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, b)) = boots.iter().find(|(b, _)| b == board) {
        return b;
    }
    let b: &'static Boot = Box::leak(Box::new(boot(&elf, &["--smp", "4"])));
    boots.push((board.to_string(), b));
    b
}

/// Writes `text` to a fresh file under the target directory and returns its path.
pub fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = root().join("target").join("test-files");
    std::fs::create_dir_all(&dir).expect("create target/test-files");
    let p = dir.join(format!("{}-{name}", std::process::id()));
    std::fs::write(&p, text).expect("write temp file");
    p
}

/// Asserts that a boot ran every in-kernel test with none failing, on 4 cores.
pub fn assert_all_passed(board: &str, b: &Boot) {
    let failures = b.failures();
    assert!(
        failures.is_empty(),
        "{board}: in-kernel tests failed:\n{}\n{}",
        failures.join("\n"),
        b.tail()
    );
    match b.verdict() {
        Some((passed, 0)) if passed > 0 => {}
        v => panic!("{board}: no clean closing verdict ({v:?}):\n{}", b.tail()),
    }
    for cpu in 0..4 {
        assert_eq!(
            b.lines_with(&format!("cpu {cpu} online, MPIDR")).len(),
            1,
            "{board}: cpu {cpu} did not check in:\n{}",
            b.tail()
        );
    }
    assert_eq!(
        b.status,
        0,
        "{board}: kernel exit status {}:\n{}",
        b.status,
        b.tail()
    );
}
