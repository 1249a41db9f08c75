//! The quick-start kernel (`examples/quickstart`, the README's "Add probes to your
//! kernel") builds and does what it says, so it can never rot: on one core with the
//! crate's `SingleCpu` platform, and on one and four cores with its GIC platform. Each
//! boot must print every step with the right results and exit cleanly.

use crate::common::{FIX, KernelBuild};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Builds the quick-start kernel (`single-cpu` feature or not) and returns its ELF. Both
/// variants build in the release test kernels' target directory (same profile, same
/// `RUSTFLAGS`): their dependencies (aarch32-rt, the proc macros) are the test kernel's,
/// built once; only the crate (without `lab`) and the quick-start itself build again
/// (cold: 3.5 s, against 15 s in a directory of their own).
fn build(single_cpu: bool) -> PathBuf {
    let kernels = KernelBuild::test_kernel("virt", "release");
    KernelBuild {
        package: "kprobes-quickstart",
        bin: "kprobes-quickstart",
        features: if single_cpu { &["single-cpu"] } else { &[] },
        ..kernels
    }
    .build()
}

/// Boots `elf` on QEMU virt with `cpus` cores; returns (exit status, output).
fn boot(elf: &Path, cpus: usize) -> (Option<i32>, String) {
    let mut child = Command::new("qemu-system-arm")
        .args([
            "-M",
            "virt",
            "-cpu",
            "cortex-a15",
            "-m",
            "256M",
            "-nographic",
        ])
        .args(["-semihosting", "-smp", &cpus.to_string(), "-kernel"])
        .arg(elf)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start qemu-system-arm ({e}); {FIX}"));
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().expect("waiting for QEMU") {
            break s.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = child.wait_with_output().expect("reading QEMU's output");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (status, text)
}

/// The boot exited 0 after printing each step with the results the probes cause.
fn assert_every_step(cpus: usize, status: Option<i32>, out: &str) {
    let context = format!("{cpus}-core boot, exit {status:?}:\n{out}");
    assert_eq!(status, Some(0), "{context}");
    let expected = [
        format!("quick-start: {cpus} core(s) online, probing qs_add at 0x"),
        // The pre handler adds 1 to the second argument.
        "step 1: breakpoint probe: qs_add(2, 3) = 6, breakpoint".into(),
        "step 2: optimized 1 probe(s): qs_add(2, 3) = 6, optimized (direct execution)".into(),
        "step 3: return probe: qs_add(20, 30) = 51, the return handler saw 51".into(),
        "step 4: unregistered: qs_add(2, 3) = 5,".into(),
    ];
    for line in &expected {
        assert!(
            out.contains(line.as_str()),
            "missing {line:?} in the {context}"
        );
    }
    // Every online core hit the breakpoint probe; the others none.
    let hits_line = out
        .lines()
        .find(|l| l.starts_with("step 1:"))
        .expect("step 1 printed");
    let hits: Vec<u64> = hits_line
        .rsplit_once("hits [")
        .and_then(|(_, h)| h.strip_suffix(']'))
        .unwrap_or_else(|| panic!("no hit counts in {hits_line:?}"))
        .split(", ")
        .map(|n| n.parse().expect("a hit count"))
        .collect();
    assert_eq!(hits.len(), 4, "{hits_line}");
    for (cpu, &n) in hits.iter().enumerate() {
        assert_eq!(n > 0, cpu < cpus, "core {cpu}: {n} hits ({hits_line})");
    }
}

#[test]
fn quick_start_kernel_runs_every_step_on_one_core_with_single_cpu() {
    let elf = build(true);
    let (status, out) = boot(&elf, 1);
    assert_every_step(1, status, &out);
}

#[test]
fn quick_start_kernel_runs_every_step_on_one_and_four_cores() {
    let elf = build(false);
    for cpus in [1, 4] {
        let (status, out) = boot(&elf, cpus);
        assert_every_step(cpus, status, &out);
    }
}
