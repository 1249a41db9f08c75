//! Building the test kernel and booting it under QEMU, for the host-side tests that
//! judge what the kernel prints.
#![allow(dead_code)] // each test binary uses its own part of this module

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// The boards the kernel runs on, as the runner and the cargo features name them.
pub const BOARDS: [&str; 3] = ["virt", "vexpress-a15", "raspi2b"];

pub const FIX: &str = "fix: ./qemu-runner.sh --setup";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The target every kernel is built for.
pub const KERNEL_TARGET: &str = "armv7a-none-eabi";

/// One kernel build: a binary of a workspace package for [`KERNEL_TARGET`], with its
/// features, profile, extra `RUSTFLAGS` and target directory (under `target/`).
///
/// Builds of the same package with different features can share a target directory:
/// every dependency (the crate, aarch32-rt, ...) is built once and only the package
/// itself again, and each build's ELF is copied out under its own name, since cargo puts
/// every feature set's binary at the same path. Builds that share no artifacts (another
/// profile, other `RUSTFLAGS`) go to their own directory so they run concurrently.
#[derive(Clone, Copy, Debug)]
pub struct KernelBuild<'a> {
    /// The package (`-p`).
    pub package: &'a str,
    /// Its binary (`--bin`): the ELF's name.
    pub bin: &'a str,
    /// Its features (`--features`).
    pub features: &'a [&'a str],
    /// The cargo profile (`--profile`).
    pub profile: &'a str,
    /// `RUSTFLAGS` for the whole build (`""`: the environment's, if any).
    pub rustflags: &'a str,
    /// The target directory, a name under `target/`.
    pub target_dir: &'a str,
}

impl KernelBuild<'_> {
    /// The test kernel (package `kprobes-test-kernel`) for `board`, in `profile`
    /// (`release` or `release-checked`). Every board shares the directory of a profile.
    pub fn test_kernel(board: &str, profile: &str) -> KernelBuild<'static> {
        let features: &'static [&'static str] = match board {
            "virt" => &["board-virt"],
            "vexpress-a15" => &["board-vexpress-a15"],
            "raspi2b" => &["board-raspi2b"],
            _ => panic!("unknown board {board}"),
        };
        let (profile, target_dir) = match profile {
            "release" => ("release", "kernel"),
            "release-checked" => ("release-checked", "kernel-checked"),
            _ => panic!("no kernel directory for profile {profile}"),
        };
        KernelBuild {
            package: "kprobes-test-kernel",
            bin: "kprobes-test-kernel",
            features,
            profile,
            rustflags: "",
            target_dir,
        }
    }

    /// Builds the kernel (once per test process; concurrent callers of the same build
    /// wait for the one build) and returns its ELF. Panics with the one-line fix when the
    /// ARM target is missing.
    pub fn build(&self) -> PathBuf {
        static BUILT: Memo<PathBuf> = Mutex::new(Vec::new());
        memo(&BUILT, &format!("{self:?}"), || self.run_cargo()).clone()
    }

    fn run_cargo(&self) -> PathBuf {
        // One build at a time per target directory in this process: the ELF is copied
        // out before another feature set's build overwrites it.
        static DIRS: Memo<Mutex<()>> = Mutex::new(Vec::new());
        let dir_lock = memo(&DIRS, self.target_dir, || Mutex::new(()));
        let _dir = dir_lock.lock().unwrap_or_else(|e| e.into_inner());

        let target_dir = root().join("target").join(self.target_dir);
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.current_dir(root())
            .env("CARGO_TARGET_DIR", &target_dir)
            .args(["build", "--profile", self.profile, "-p", self.package])
            .args(["--bin", self.bin, "--target", KERNEL_TARGET])
            // No DWARF: the tests read the code, the symbol table and the console, never
            // debug info, which is much of what a full-debug build writes and links. (To
            // step a kernel under gdb, build it with plain `cargo build --release`.)
            .env(profile_env(self.profile, "DEBUG"), "false");
        if !self.rustflags.is_empty() {
            cmd.env("RUSTFLAGS", self.rustflags)
                .env_remove("CARGO_ENCODED_RUSTFLAGS");
        }
        if !self.features.is_empty() {
            cmd.arg("--features").arg(self.features.join(","));
        }
        let out = cmd.output().expect("cannot run cargo");
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            if err.contains("target may not be installed")
                || err.contains("can't find crate for `core`")
            {
                panic!("the {KERNEL_TARGET} Rust target is not installed; {FIX}");
            }
            panic!("building {self:?} failed:\n{err}");
        }
        let dir = target_dir.join(KERNEL_TARGET).join(self.profile);
        let built = dir.join(self.bin);
        // Copied out under a name of its own: another feature set's build in the same
        // directory would overwrite `built`.
        let features = if self.features.is_empty() {
            "default".to_string()
        } else {
            self.features.join("+")
        };
        let elf = dir.join(format!("{}+{features}", self.bin));
        std::fs::copy(&built, &elf)
            .unwrap_or_else(|e| panic!("copy {} to {}: {e}", built.display(), elf.display()));
        elf
    }
}

/// The environment variable that sets `key` of cargo profile `profile`.
fn profile_env(profile: &str, key: &str) -> String {
    format!(
        "CARGO_PROFILE_{}_{key}",
        profile.to_uppercase().replace('-', "_")
    )
}

/// Values computed once per test process, by key.
type Memo<T> = Mutex<Vec<(String, &'static OnceLock<T>)>>;

/// The value for `key`, computed by `f` once per process. Callers of another key never
/// wait for this one; callers of the same key wait for the first one's result (a panic
/// in `f` fails each caller in turn).
fn memo<T>(table: &Memo<T>, key: &str, f: impl FnOnce() -> T) -> &'static T {
    let cell: &'static OnceLock<T> = {
        let mut cells = table.lock().unwrap_or_else(|e| e.into_inner());
        match cells.iter().find(|(k, _)| k == key) {
            Some((_, cell)) => cell,
            None => {
                let cell: &'static OnceLock<T> = Box::leak(Box::new(OnceLock::new()));
                cells.push((key.to_owned(), cell));
                cell
            }
        }
    };
    cell.get_or_init(f)
}

/// Builds (once per test process) the release kernel for `board` and returns its ELF.
/// Panics with the one-line fix when the ARM target or QEMU is missing.
pub fn kernel(board: &str) -> PathBuf {
    KernelBuild::test_kernel(board, "release").build()
}

/// The kernel for `board` built with debug assertions and overflow checks (the
/// `release-checked` profile: release code plus the checks that turn undefined behaviour
/// the compiler can see into a panic).
///
/// It is also the build with v0 symbol mangling (`-C symbol-mangling-version=v0`), which
/// the never-probe scan checks its patterns against: one ARM build of the crate fewer
/// than a build of each, and the suite that runs on it proves the kernel works so.
pub fn checked_kernel(board: &str) -> PathBuf {
    KernelBuild {
        rustflags: V0_MANGLING,
        ..KernelBuild::test_kernel(board, "release-checked")
    }
    .build()
}

/// The rustflags of [`checked_kernel`].
pub const V0_MANGLING: &str = "-C symbol-mangling-version=v0";

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

/// The timeout of a whole-suite boot: alone one takes under a minute, but `cargo test`
/// boots every board's suite (and the checked build's) at once on a 2-core machine that
/// may be busy with other work, and a guest killed at 95 % proves nothing.
const SUITE_TIMEOUT: &str = "600";

/// The default test boot of `board` (4 cores, every in-kernel test), once per process.
pub fn test_boot(board: &str) -> &'static Boot {
    static BOOTS: Memo<Boot> = Mutex::new(Vec::new());
    memo(&BOOTS, board, || {
        boot(&kernel(board), &["--smp", "4", "--timeout", SUITE_TIMEOUT])
    })
}

/// The default test boot of the `release-checked` kernel for `board`, once per process.
pub fn checked_test_boot(board: &str) -> &'static Boot {
    static BOOTS: Memo<Boot> = Mutex::new(Vec::new());
    memo(&BOOTS, board, || {
        boot(
            &checked_kernel(board),
            &["--smp", "4", "--timeout", SUITE_TIMEOUT],
        )
    })
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
