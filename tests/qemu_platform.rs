//! The test kernel boots on both QEMU boards with 4 cores and passes its in-kernel
//! tests; and the harness notices failures and hangs instead of passing them.

mod common;

use common::{BOARDS, assert_all_passed, boot, kernel};

#[test]
fn virt_boots_four_cores_and_every_kernel_test_passes() {
    let b = boot(&kernel(BOARDS[0]), &["--smp", "4"]);
    assert_all_passed(BOARDS[0], &b);
}

#[test]
fn vexpress_a15_boots_four_cores_and_every_kernel_test_passes() {
    let b = boot(&kernel(BOARDS[1]), &["--smp", "4"]);
    assert_all_passed(BOARDS[1], &b);
}

#[test]
fn a_failing_kernel_test_fails_the_run_and_is_named() {
    let b = boot(&kernel("virt"), &["--inject", "fail"]);
    assert_ne!(
        b.status,
        0,
        "a failing kernel test must fail the run:\n{}",
        b.tail()
    );
    let failures = b.failures();
    assert_eq!(failures.len(), 1, "{}", b.tail());
    assert!(
        failures[0].contains("deliberately_failing_test"),
        "{}",
        failures[0]
    );
    let (passed, failed) = b.verdict().expect("closing verdict");
    assert!(
        passed > 0 && failed == 1,
        "verdict {passed} passed, {failed} failed"
    );
}

#[test]
fn a_hung_guest_is_killed_and_reported_as_a_timeout() {
    let b = boot(&kernel("virt"), &["--inject", "hang", "--timeout", "10"]);
    assert_eq!(
        b.status,
        124,
        "a hang must end with the timeout status:\n{}",
        b.tail()
    );
    assert!(
        b.stderr.contains("TIMEOUT"),
        "runner must say it timed out:\n{}",
        b.tail()
    );
    assert!(
        b.verdict().is_none(),
        "a hung kernel printed a verdict?\n{}",
        b.tail()
    );
}

#[test]
fn demo_mode_boots_every_core_and_exits_cleanly() {
    let b = boot(&kernel("virt"), &["--mode", "demo"]);
    assert_eq!(b.status, 0, "{}", b.tail());
    assert_eq!(b.lines_with("online, MPIDR").len(), 4, "{}", b.tail());
    assert!(
        b.verdict().is_none(),
        "demo mode must not run the test registry:\n{}",
        b.tail()
    );
}
