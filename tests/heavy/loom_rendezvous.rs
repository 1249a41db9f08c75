//! Runs the loom model checks of the rendezvous protocol and of the trace ring as part of
//! plain `cargo test`.
//!
//! loom replaces the protocol's atomics only when the library is compiled with
//! `--cfg loom`, which this test build is not. So this test builds the library's loom
//! tests in a second cargo invocation, with its own target directory (`<target>/loom`)
//! so the two builds never invalidate each other's artifacts, in the `loom` profile
//! (optimized, no debug info), and then checks that every expected model ran and passed:
//! a filter that matched nothing cannot pass.
//!
//! The models run in two processes at once, split so that both take about as long: the
//! first runs the models of [`first_process`], the second all the others one after the
//! other. Run in one process, libtest starts them in name order and the long ones would
//! end up one after the other. (At each model's own bound the three-CPU models take
//! 16 s (nested call refused), 13 s (all-CPUs mode) and 9 s (one-CPU mode), the others
//! under 2 s together: 17 s against 23 s; the whole series in one process was 38 s.)
//!
//! Each model runs at the preemption bound its code sets (2; 1 for the three-CPU
//! registry-lock model, whose three spinning CPUs explode the state space: 1 s at bound
//! 1, 87 s at 2) unless `LOOM_MAX_PREEMPTIONS` is set, which bounds every model alike.
//! `.ci/run` sets it to 2, so CI also runs that model at 2.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
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

/// The registry-lock model with three CPUs: under a second at its own bound (1), the
/// longest by far (87 s) when `LOOM_MAX_PREEMPTIONS=2` bounds it like the others.
const REGISTRY_LOCK_3: &str = "loom_registry_lock_waiters_never_block_a_rendezvous_3_cpus";

/// The model with three CPUs that takes longest at each model's own bound (16 s).
const NESTED_3: &str = "loom_nested_call_refused_3_cpus";

/// The models the first process runs: the registry-lock model with three CPUs, alone
/// when `LOOM_MAX_PREEMPTIONS` is set (it then takes longer than all the others
/// together), and with the longest other model when each model has its own bound.
fn first_process(preemptions: Option<&str>) -> Vec<String> {
    let models: &[&str] = if preemptions.is_some() {
        &[REGISTRY_LOCK_3]
    } else {
        &[REGISTRY_LOCK_3, NESTED_3]
    };
    models.iter().map(|m| format!("{MODULE}{m}")).collect()
}

const MODULE: &str = "stop_machine::loom_tests::";

/// The trace ring's models in `src/trace/ring/loom_tests.rs`, all of which must run and
/// pass too (together well under a second: they run with the short rendezvous models).
const RING_MODELS: [&str; 5] = [
    "loom_ring_drop_newest_producer_and_drainer",
    "loom_ring_drop_newest_ring_of_two",
    "loom_ring_overwrite_oldest_never_yields_a_torn_record",
    "loom_ring_overwrite_oldest_drainer_lapped_by_the_producer",
    "loom_ring_two_drainers_take_each_record_once",
];

const RING_MODULE: &str = "trace::ring::loom_tests::";

/// Builds the library's loom test binary and returns its path.
fn build(target: &Path, rustflags: &str) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["test", "--profile", "loom", "--lib", "--no-run"])
        .args(["-p", env!("CARGO_PKG_NAME"), "--message-format=json"])
        .env("RUSTFLAGS", rustflags)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env("CARGO_TARGET_DIR", target)
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "building the loom tests failed ({})\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    // The one test executable: `"executable":"<path>"` in its compiler-artifact message.
    let executables: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains(r#""reason":"compiler-artifact""#))
        .filter_map(|l| l.split(r#""executable":""#).nth(1)?.split('"').next())
        .collect();
    assert_eq!(
        executables.len(),
        1,
        "expected one loom test executable:\n{stdout}"
    );
    PathBuf::from(executables[0])
}

#[test]
fn rendezvous_protocol_passes_the_loom_model_check() {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target tmp dir lies inside the target dir")
        .join("loom");
    let rustflags = match std::env::var("RUSTFLAGS") {
        Ok(flags) if !flags.trim().is_empty() => format!("{flags} --cfg loom"),
        _ => "--cfg loom".into(),
    };
    // Passed on only when set: otherwise each model's own bound applies.
    let preemptions = std::env::var("LOOM_MAX_PREEMPTIONS").ok();

    let started = Instant::now();
    let exe = build(&target, &rustflags);
    let built = started.elapsed();

    let first = first_process(preemptions.as_deref());
    let run = |args: &[&str]| {
        let mut cmd = Command::new(&exe);
        cmd.args(args).env_remove("LOOM_MAX_PREEMPTIONS");
        if let Some(p) = &preemptions {
            cmd.env("LOOM_MAX_PREEMPTIONS", p);
        }
        cmd.output().expect("the loom test binary runs")
    };
    // The first process's models; every other model, one at a time, in the second.
    let outputs: Vec<Output> = std::thread::scope(|s| {
        let alone = s.spawn(|| {
            let mut args = vec!["--exact", "--test-threads=1"];
            args.extend(first.iter().map(String::as_str));
            run(&args)
        });
        let rest = s.spawn(|| {
            let mut args = vec![MODULE, RING_MODULE, "--test-threads=1"];
            for m in &first {
                args.extend(["--skip", m.as_str()]);
            }
            run(&args)
        });
        [alone, rest]
            .map(|h| h.join().expect("runner thread"))
            .into()
    });
    let elapsed = started.elapsed();

    let mut passed: Vec<String> = Vec::new();
    let mut transcript = String::new();
    for output in &outputs {
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "the loom run failed ({})\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
            output.status
        );
        passed.extend(
            stdout
                .lines()
                .filter_map(|line| line.strip_prefix("test ")?.strip_suffix(" ... ok"))
                .map(str::to_owned),
        );
        transcript.push_str(&stdout);
    }

    let expected = MODELS
        .iter()
        .map(|m| format!("{MODULE}{m}"))
        .chain(RING_MODELS.iter().map(|m| format!("{RING_MODULE}{m}")));
    for name in expected {
        assert!(
            passed.contains(&name),
            "loom model {name} did not run and pass\n--- stdout\n{transcript}"
        );
    }
    assert_eq!(
        passed.len(),
        MODELS.len() + RING_MODELS.len(),
        "loom ran models this test does not know (or one twice): {passed:?}"
    );
    println!(
        "loom: {} rendezvous and trace-ring models passed in {elapsed:.1?} (build {built:.1?}; \
         preemption bound: {})",
        passed.len(),
        preemptions.map_or("each model's own".into(), |p| format!(
            "{p} (LOOM_MAX_PREEMPTIONS)"
        ))
    );
}
