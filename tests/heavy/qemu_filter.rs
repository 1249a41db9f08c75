//! The runner's test filter (`--only`) and round count (`--rounds`): only the named
//! tests run, a filter that selects nothing fails the run, and the rounds reach the
//! stress tests.

use crate::common::{boot, kernel};

#[test]
fn only_the_matching_kernel_tests_run_and_an_empty_selection_fails() {
    let elf = kernel("virt");
    let b = boot(
        &elf,
        &["--smp", "2", "--only", "heap_allocates,ipi_from_every"],
    );
    assert_eq!(b.status, 0, "{}", b.tail());
    assert_eq!(b.verdict(), Some((2, 0)), "{}", b.tail());
    assert_eq!(b.lines_with("heap_allocates_and_frees ... [ok]").len(), 1);
    assert_eq!(
        b.lines_with("ipi_from_every_core_reaches_every_other ... [ok]")
            .len(),
        1
    );

    let none = boot(&elf, &["--smp", "2", "--only", "no_such_test"]);
    assert_ne!(
        none.status,
        0,
        "a filter matching nothing passed:\n{}",
        none.tail()
    );
    assert_eq!(
        none.lines_with("no test name contains").len(),
        1,
        "{}",
        none.tail()
    );
}

#[test]
fn the_rounds_argument_reaches_the_stress_tests() {
    let b = boot(
        &kernel("virt"),
        &["--smp", "2", "--rounds", "7", "--only", "kprobe_churn"],
    );
    assert_eq!(b.verdict(), Some((1, 0)), "{}", b.tail());
    assert_eq!(b.lines_with("churn: 7 rounds").len(), 1, "{}", b.tail());
}
