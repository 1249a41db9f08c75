//! The stress tests that prove slot reuse sound, under true parallelism: QEMU's
//! multi-threaded TCG with two vCPUs (one per host core here), where a CPU can be
//! interrupted inside a trampoline and found there rendezvous after rendezvous — which
//! round-robin TCG never shows. Probe churn, optimize churn and slot alternation must
//! give no wrong result on any board; on virt, so must CPU hotplug (1,000 power-ons
//! of core 1 while core 0 churns probes), which under true parallelism once lost 3–8 %
//! of its power-ons to a second CPU_ON issued before QEMU had carried out the first.

mod common;

use common::{BOARDS, boot, kernel};

/// Rounds per stress test in these boots: each boot takes seconds, not minutes (under
/// multi-threaded TCG a rendezvous waits for the host to schedule every vCPU). The full
/// 10,000-round runs are `./qemu-runner.sh KERNEL --mttcg --smp 2 --only churn`.
const ROUNDS: &str = "1000";

/// One parallel boot at a time: two vCPUs per boot already take both host cores, and
/// under multi-threaded TCG a rendezvous waits for every vCPU to be scheduled (QEMU
/// 7.2 makes YIELD a no-op), so two boots at once would each crawl.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn parallel_stress(board: &str) {
    // Hotplug exists on virt only (vexpress-a15 and raspi2b park their secondaries; they
    // have no PSCI).
    let (only, tests) = if board == "virt" {
        ("kprobe_churn,optimize_churn,alternation,hotplug", 4)
    } else {
        ("kprobe_churn,optimize_churn,alternation", 3)
    };
    let elf = kernel(board);
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let b = boot(
        &elf,
        &[
            "--mttcg",
            "--smp",
            "2",
            "--rounds",
            ROUNDS,
            "--only",
            only,
            "--timeout",
            "600",
        ],
    );
    let failures = b.failures();
    assert!(
        failures.is_empty(),
        "{board}: under multi-threaded TCG:\n{}\n{}",
        failures.join("\n"),
        b.tail()
    );
    assert_eq!(
        b.verdict(),
        Some((tests, 0)),
        "{board}: probe churn, optimize churn, slot alternation (and hotplug on virt) must \
         run and pass:\n{}",
        b.tail()
    );
    if board == "virt" {
        assert!(
            b.lines_with("hotplug: 1000 power-ons").len() == 1,
            "virt: no hotplug line for 1000 power-ons:\n{}",
            b.tail()
        );
    }
    for what in ["churn: ", "optimize churn: ", "slot alternation: "] {
        assert!(
            b.lines_with(what)
                .iter()
                .any(|l| l.contains(&format!("{ROUNDS} rounds"))),
            "{board}: no {what:?} line for {ROUNDS} rounds:\n{}",
            b.tail()
        );
    }
    assert_eq!(
        b.status,
        0,
        "{board}: exit status {}:\n{}",
        b.status,
        b.tail()
    );
}

#[test]
fn virt_stress_tests_under_parallel_vcpus_give_only_right_results() {
    parallel_stress(BOARDS[0]);
}

#[test]
fn vexpress_a15_stress_tests_under_parallel_vcpus_give_only_right_results() {
    parallel_stress(BOARDS[1]);
}

#[test]
fn raspi2b_stress_tests_under_parallel_vcpus_give_only_right_results() {
    parallel_stress(BOARDS[2]);
}
