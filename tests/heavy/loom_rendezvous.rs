//! Runs the loom model check of the rendezvous protocol as part of plain `cargo test`.
//!
//! loom replaces the protocol's atomics only when the library is compiled with
//! `--cfg loom`, which this test build is not. So this test builds and runs the
//! library's loom tests in a second cargo invocation, with its own target directory
//! (`<target>/loom`) so the two builds never invalidate each other's artifacts, and
//! then checks that every expected model ran and passed: a filter that matched nothing
//! cannot pass.
//!
//! The preemption bound defaults to 2 (set `LOOM_MAX_PREEMPTIONS` to explore more).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// The models in `src/stop_machine/loom_tests.rs`, all of which must run and pass.
const MODELS: [&str; 11] = [
    "loom_one_cpu_mode_2_cpus",
    "loom_all_cpus_mode_2_cpus",
    "loom_one_cpu_mode_3_cpus",
    "loom_all_cpus_mode_3_cpus",
    "loom_nested_call_refused_2_cpus",
    "loom_nested_call_refused_3_cpus",
    "loom_concurrent_initiators_serialized_2_cpus",
    "loom_registry_lock_waiters_never_block_a_rendezvous_2_cpus",
    "loom_registry_lock_waiters_never_block_a_rendezvous_3_cpus",
    "loom_cpu_coming_online_during_a_rendezvous",
    "loom_cpu_going_offline_while_invited",
];

const MODULE: &str = "stop_machine::loom_tests::";

#[test]
fn rendezvous_protocol_passes_the_loom_model_check() {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target tmp dir lies inside the target dir")
        .join("loom");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let rustflags = match std::env::var("RUSTFLAGS") {
        Ok(flags) if !flags.trim().is_empty() => format!("{flags} --cfg loom"),
        _ => "--cfg loom".into(),
    };
    let preemptions = std::env::var("LOOM_MAX_PREEMPTIONS").unwrap_or_else(|_| "2".into());

    let started = Instant::now();
    let output = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "test",
            "--release",
            "--lib",
            "-p",
            env!("CARGO_PKG_NAME"),
            MODULE,
        ])
        .env("RUSTFLAGS", &rustflags)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env("CARGO_TARGET_DIR", &target)
        .env("LOOM_MAX_PREEMPTIONS", &preemptions)
        .output()
        .expect("cargo runs");
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the loom run failed ({})\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );

    let passed: Vec<&str> = stdout
        .lines()
        .filter_map(|line| line.strip_prefix("test ")?.strip_suffix(" ... ok"))
        .collect();
    for model in MODELS {
        let name = format!("{MODULE}{model}");
        assert!(
            passed.contains(&name.as_str()),
            "loom model {name} did not run and pass\n--- stdout\n{stdout}"
        );
    }
    assert_eq!(
        passed.len(),
        MODELS.len(),
        "loom ran models this test does not know: {passed:?}"
    );
    println!(
        "loom: {} rendezvous models passed in {elapsed:.1?} (LOOM_MAX_PREEMPTIONS={preemptions})",
        passed.len()
    );
}
