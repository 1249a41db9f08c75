//! The test kernel on QEMU: it boots on every board with 4 cores and passes every
//! in-kernel test (platform smoke tests, the differential conformance suite); the harness
//! notices failures and hangs instead of passing them; user corpora run per line.

use crate::common::{
    BOARDS, Boot, assert_all_passed, boot, checked_test_boot, kernel, temp_file, test_boot,
};

/// The three whole-suite boots (virt built `release-checked`, vexpress-a15 and raspi2b
/// built `release`) and the three forced non-broadcast boots, all six at once,
/// whichever test needs one of them first: each QEMU runs on one host core, so together
/// they take about half their sum on two cores, not the sum, and no test waits for one
/// of them alone at the end (the boots get 600 s, far more than six at once need).
/// virt's suite runs in the checked build only: it is the release build plus debug
/// assertions and overflow checks (undefined behaviour the compiler can check panics
/// there instead of passing unnoticed), and the release build's suite runs on the two
/// other boards; the release virt kernel itself boots in the benchmark, the quick-start
/// comparison and the corpus, demo and non-broadcast boots.
/// A boot that fails to happen (its kernel does not build) fails the tests that need
/// it, when it is tried again, not every test that started it.
fn suite(board: &str) -> &'static Boot {
    let of = |board: &str| {
        if board == BOARDS[0] {
            checked_test_boot(board)
        } else {
            test_boot(board)
        }
    };
    std::thread::scope(|s| {
        let suites = BOARDS.map(|b| s.spawn(move || of(b)));
        let non_broadcast = BOARDS.map(|b| s.spawn(move || non_broadcast_boot(b)));
        for boot in suites {
            let _ = boot.join();
        }
        for boot in non_broadcast {
            let _ = boot.join();
        }
    });
    of(board)
}

/// The forced non-broadcast boot of `board` (see
/// `forced_non_broadcast_maintenance_passes_churn_and_probed_conformance_on_every_board`),
/// once per process.
fn non_broadcast_boot(board: &str) -> &'static Boot {
    static BOOTS: [std::sync::OnceLock<Boot>; BOARDS.len()] =
        [const { std::sync::OnceLock::new() }; BOARDS.len()];
    let i = BOARDS.iter().position(|b| *b == board).expect("a board");
    BOOTS[i].get_or_init(|| {
        let args = [
            "--non-broadcast",
            "--only",
            NON_BROADCAST_TESTS,
            "--rounds",
            NON_BROADCAST_ROUNDS,
            "--timeout",
            "600",
        ];
        boot(&kernel(board), &args)
    })
}

#[test]
fn virt_boots_four_cores_and_every_kernel_test_passes_with_debug_assertions() {
    let b = suite(BOARDS[0]);
    assert_all_passed(BOARDS[0], b);
    // The same tests as a release build, plus hotplug (virt has PSCI; the others say it
    // does not apply): what is asserted is that debug assertions lost no test.
    let (passed, _) = b.verdict().expect("verdict");
    let (release, _) = suite(BOARDS[1]).verdict().expect("vexpress-a15 verdict");
    assert_eq!(
        passed,
        release + 1,
        "virt's checked build runs vexpress-a15's tests and hotplug"
    );
}

#[test]
fn vexpress_a15_boots_four_cores_and_every_kernel_test_passes() {
    assert_all_passed(BOARDS[1], suite(BOARDS[1]));
}

#[test]
fn raspi2b_boots_four_cores_and_every_kernel_test_passes() {
    assert_all_passed(BOARDS[2], suite(BOARDS[2]));
}

/// The numbers of the conformance summary line:
/// `conformance: C cases (R checked rejections), 16 scenarios each, N runs: P passed,
/// F failed; table rows covered X/Y (Z%)`.
fn conformance_summary(out: &str) -> Option<[usize; 9]> {
    let line = out.lines().find(|l| l.contains("conformance:"))?;
    let nums: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect();
    nums.try_into().ok()
}

#[test]
fn conformance_suite_covers_every_row_with_5000_cases_and_no_mismatch_on_every_board() {
    let mut summaries = Vec::new();
    for board in BOARDS {
        let b = suite(board);
        let [
            cases,
            _rejections,
            scenarios,
            runs,
            passed,
            failed,
            covered,
            rows,
            percent,
        ] = conformance_summary(&b.stdout)
            .unwrap_or_else(|| panic!("{board}: no summary\n{}", b.tail()));
        assert!(cases >= 5000, "{board}: only {cases} cases");
        assert_eq!(scenarios, 16, "{board}");
        assert_eq!((passed, failed), (runs, 0), "{board}: {}", b.tail());
        assert!(
            rows > 100 && covered == rows && percent == 100,
            "{board}: covered {covered}/{rows} ({percent}%)"
        );
        summaries.push((board, conformance_summary(&b.stdout).unwrap()));
    }
    // The same cases, rejections and runs on every board: the suite is board-independent.
    for (board, summary) in &summaries[1..] {
        assert_eq!(
            summary, &summaries[0].1,
            "{board} and {} count differently",
            summaries[0].0
        );
    }
}

/// The held counts of every probed-conformance line (breakpoint, optimized step,
/// optimized direct, optimized direct in Rust) are the same on every board.
#[test]
fn probed_conformance_counts_are_the_same_on_every_board() {
    let counts = |board: &str| -> Vec<String> {
        let b = suite(board);
        let lines: Vec<String> = a32_lines(b, "probed conformance (")
            .into_iter()
            .map(|l| l.trim().to_owned())
            .collect();
        assert_eq!(
            lines.len(),
            4,
            "{board}: probed conformance lines\n{}",
            b.tail()
        );
        lines
    };
    let first = counts(BOARDS[0]);
    for board in &BOARDS[1..] {
        assert_eq!(counts(board), first, "{board} and {}", BOARDS[0]);
    }
}

/// The console lines that start with `prefix` (the A32 lab's summaries; the Thumb lab's
/// start with "thumb").
fn a32_lines<'a>(b: &'a Boot, prefix: &str) -> Vec<&'a str> {
    b.stdout
        .lines()
        .filter(|l| l.trim_start().starts_with(prefix))
        .collect()
}

/// The Thumb lab (the T16/T32 engines against the CPU, and the same cases through Thumb
/// breakpoint probes) runs on every board with no failure, covers every row, and counts
/// the same everywhere.
#[test]
fn thumb_lab_counts_are_the_same_on_every_board_with_no_failure() {
    let lines = |board: &str| -> Vec<String> {
        let b = suite(board);
        let lines: Vec<String> = ["thumb conformance lab:", "thumb probed conformance ("]
            .iter()
            .flat_map(|prefix| a32_lines(b, prefix))
            .map(|l| l.trim().to_owned())
            .collect();
        // The native lab, the breakpoint pass and the optimized pass.
        assert_eq!(lines.len(), 3, "{board}: Thumb lab lines\n{}", b.tail());
        assert!(
            lines[1].contains("(Breakpoint)") && lines[2].contains("(Optimized;"),
            "{board}: {lines:?}"
        );
        for l in &lines {
            assert!(l.contains(" 0 failed"), "{board}: {l}");
        }
        assert!(
            lines[0].contains("rows covered 216/216"),
            "{board}: {}",
            lines[0]
        );
        lines
    };
    let first = lines(BOARDS[0]);
    for board in &BOARDS[1..] {
        assert_eq!(lines(board), first, "{board} and {}", BOARDS[0]);
    }
}

#[test]
fn a_failing_kernel_test_fails_the_run_and_is_named() {
    // With two real tests before it, not the whole suite: what is checked is the
    // failure's effect on the run, and a whole-suite boot costs half a minute of CPU.
    let b = boot(
        &kernel("virt"),
        &[
            "--inject",
            "fail",
            "--only",
            "heap_allocates,ipi_from_core0",
        ],
    );
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
        passed == 2 && failed == 1,
        "verdict {passed} passed, {failed} failed"
    );
}

#[test]
fn a_hung_guest_is_killed_and_reported_as_a_timeout() {
    let b = boot(&kernel("virt"), &["--inject", "hang", "--timeout", "3"]);
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
    let capture = temp_file("demo.kptf", "");
    let b = boot(
        &kernel("virt"),
        &["--mode", "demo", "--capture", capture.to_str().unwrap()],
    );
    assert_eq!(b.status, 0, "{}", b.tail());
    assert_eq!(b.lines_with("online, MPIDR").len(), 4, "{}", b.tail());
    let listed = b.lines_with("Enabled");
    assert_eq!(
        listed.len(),
        3,
        "the demo lists its 3 probes:\n{}",
        b.tail()
    );
    let row = |mechanism: &str| {
        let rows: Vec<&str> = listed
            .iter()
            .copied()
            .filter(|l| l.contains(mechanism))
            .collect();
        assert_eq!(rows.len(), 1, "one {mechanism} probe:\n{}", b.tail());
        rows[0]
            .split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    // Columns: address, state, hits, missed, probe, mechanism.
    let add = row("optimized (direct execution)");
    assert_eq!(
        (add[2].as_str(), add[3].as_str()),
        ("4000", "4000"),
        "kp_add: 4 cores x 1000 hits, and 4000 missed calls from the pop handler:\n{}",
        b.tail()
    );
    let pop = row("optimized (stepped)");
    assert_eq!(pop[2], "4000", "4 cores x 1000 pops:\n{}", b.tail());
    let cond = row("breakpoint");
    assert_eq!(
        cond[2],
        "2000",
        "the conditional probe fires half the time:\n{}",
        b.tail()
    );
    assert!(
        b.verdict().is_none(),
        "demo mode must not run the test registry:\n{}",
        b.tail()
    );
    // Then its probe events, defined as text: every hit recorded (the rings hold the
    // demo's 1,000 calls per core), the conditional one when its condition passed.
    for line in [
        "demo: add: 4000 hits, 4000 records",
        "demo: cond_add: 2000 hits, 2000 records",
        "demo: push_ret: 4000 hits, 4000 records",
    ] {
        assert_eq!(b.lines_with(line).len(), 1, "{line}\n{}", b.tail());
    }
    // The runner turned the capture into Perfetto's JSON (one trace event per line, a
    // track per CPU) and printed the return event's latencies.
    let json = std::fs::read_to_string(capture.with_extension("json")).expect("demo JSON");
    assert!(
        json.starts_with('{') && json.contains("\"traceEvents\":["),
        "{json:.200}"
    );
    for (event, count) in [
        ("\"name\":\"add\",\"cat\":\"entry\",\"ph\":\"i\"", 4000),
        ("\"name\":\"cond_add\",\"cat\":\"entry\",\"ph\":\"i\"", 2000),
        (
            "\"name\":\"push_ret\",\"cat\":\"return\",\"ph\":\"X\"",
            4000,
        ),
    ] {
        assert_eq!(
            json.lines().filter(|l| l.contains(event)).count(),
            count,
            "{event}"
        );
    }
    for cpu in 0..4 {
        assert!(
            json.contains(&format!("\"args\":{{\"name\":\"CPU {cpu}\"}}")),
            "CPU {cpu} track"
        );
    }
    let latency = b
        .stdout
        .lines()
        .filter(|l| l.starts_with("push_ret "))
        .count();
    assert_eq!(latency, 1, "the latency summary's row:\n{}", b.tail());
}

/// The events mode: definitions from a file (comments and blank lines skipped, a memory
/// fetch among them), a workload on every core while core 0 drains, every hit accounted
/// for, and a capture the host tool reads. A bad definition stops the boot before any
/// event is defined, naming the line and the column.
#[test]
fn events_mode_traces_definitions_from_a_file_and_refuses_a_bad_one() {
    let defs = temp_file(
        "events.txt",
        "# two entry events and a return event\n\
         p:add kp_add a=%r0 b=%r1:u32\n\
         \n\
         p:saved kp_push+4 lr=+4(%sp):x32\n\
         r:push_ret kp_push ret=$retval:u32\n",
    );
    let capture = temp_file("events.kptf", "");
    let b = boot(
        &kernel("virt"),
        &[
            "--events",
            defs.to_str().unwrap(),
            "--capture",
            capture.to_str().unwrap(),
            "--rounds",
            "2000",
        ],
    );
    assert_eq!(b.status, 0, "{}", b.tail());
    for (name, hits) in [("add", 8000), ("saved", 8000), ("push_ret", 8000)] {
        let line = b
            .lines_with(&format!("events: {name}: {hits} hits, "))
            .first()
            .copied()
            .unwrap_or_else(|| panic!("{name}\n{}", b.tail()));
        let records: u64 = line
            .rsplit_once(", ")
            .and_then(|(_, r)| r.strip_suffix(" records"))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{line}"));
        assert!(records > 0 && records <= hits, "{line}");
    }
    let json = std::fs::read_to_string(capture.with_extension("json")).expect("events JSON");
    assert!(json.contains("\"name\":\"saved\""), "{json:.300}");

    let bad = temp_file("bad-events.txt", "p:add kp_add a=%r0\np:oops kp_push %q9\n");
    let b = boot(&kernel("virt"), &["--events", bad.to_str().unwrap()]);
    assert_eq!(b.status, 1, "{}", b.tail());
    let err = b.lines_with("events failed: `p:oops kp_push %q9`");
    assert_eq!(err.len(), 1, "{}", b.tail());
    assert!(err[0].contains("column"), "{}", err[0]);
    assert!(b.lines_with("events: event").is_empty(), "{}", b.tail());
}

#[test]
fn the_example_corpus_passes_line_by_line_on_every_board() {
    let corpus = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/example.txt");
    let lines = std::fs::read_to_string(corpus).unwrap();
    let instructions = lines
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .count();
    for board in BOARDS {
        let b = boot(&kernel(board), &["--corpus", corpus]);
        assert_eq!(b.status, 0, "{board}:\n{}", b.tail());
        assert_eq!(
            b.verdict(),
            Some((instructions, 0)),
            "{board}:\n{}",
            b.tail()
        );
    }
}

#[test]
fn a_corpus_line_whose_expectation_is_wrong_fails_and_is_named_by_line() {
    let corpus = temp_file(
        "wrong.txt",
        "# two right, two wrong\n\
         e0810002 accept r1=1 r2=2\n\
         e1900f9f accept\n\
         e5912004 accept r1=buf+8\n\
         e0810002 reject\n",
    );
    let b = boot(&kernel("virt"), &["--corpus", corpus.to_str().unwrap()]);
    assert_eq!(b.status, 1, "{}", b.tail());
    assert_eq!(b.verdict(), Some((2, 2)), "{}", b.tail());
    let f = b.failures();
    assert!(
        f[0].contains("line 3 e1900f9f") && f[0].contains("exclusive"),
        "{}",
        f[0]
    );
    assert!(
        f[1].contains("line 5 e0810002") && f[1].contains("expected reject"),
        "{}",
        f[1]
    );
}

#[test]
fn a_corpus_line_that_would_leave_the_lab_is_refused_before_it_runs() {
    // `str r0, [r1]` with r1 outside the buffer: stepped first, refused, never run.
    let corpus = temp_file("escape.txt", "e5810000 accept r1=0x40000000\n");
    let b = boot(&kernel("virt"), &["--corpus", corpus.to_str().unwrap()]);
    assert_eq!(b.verdict(), Some((0, 1)), "{}", b.tail());
    assert!(b.failures()[0].contains("not run natively"), "{}", b.tail());
}

#[test]
fn a_malformed_corpus_is_refused_before_boot_with_its_line() {
    let corpus = temp_file("malformed.txt", "e0810002 accept\nzz accept\n");
    let b = boot(&kernel("virt"), &["--corpus", corpus.to_str().unwrap()]);
    assert_eq!(b.status, 2, "{}", b.tail());
    assert!(b.stderr.contains("line 2"), "{}", b.tail());
    assert!(
        b.stdout.is_empty(),
        "the kernel must not boot:\n{}",
        b.tail()
    );
}

/// The hotplug test is registered on virt only (vexpress-a15 and raspi2b have no PSCI);
/// it must have run there with its full count, and the others must say that it does
/// not apply.
#[test]
fn hotplug_runs_1000_power_cycles_on_virt_and_is_reported_not_applicable_elsewhere() {
    let virt = suite(BOARDS[0]);
    let line = virt
        .lines_with("hotplug: ")
        .first()
        .copied()
        .unwrap_or_else(|| panic!("virt: no hotplug summary\n{}", virt.tail()));
    assert!(
        line.contains("1000 power-ons") && line.contains(" 0 wrong") && line.ends_with("[ok]"),
        "virt: {line}"
    );
    assert_eq!(
        virt.lines_with("hotplug_cores_1_to_3_off_and_on").len(),
        1,
        "{}",
        virt.tail()
    );
    for board in &BOARDS[1..] {
        let b = suite(board);
        assert_eq!(
            b.lines_with(&format!("hotplug test: does not apply on {board}"))
                .len(),
            1,
            "{}",
            b.tail()
        );
    }
}

/// A kernel booted on a board it was not built for is refused with a message naming
/// both, before QEMU starts (booted, it would hang silently until the timeout).
#[test]
fn a_kernel_booted_on_another_board_is_refused_with_a_clear_message() {
    for (built, other) in [(BOARDS[0], BOARDS[2]), (BOARDS[2], BOARDS[1])] {
        let b = boot(&kernel(built), &["--board", other, "--timeout", "20"]);
        assert_eq!(b.status, 2, "{built} on {other}:\n{}", b.tail());
        assert!(
            b.stderr.contains(&format!("was built for {built}"))
                && b.stderr.contains(&format!("not {other}"))
                && b.stderr.contains(&format!("--features board-{other}")),
            "{built} on {other}:\n{}",
            b.tail()
        );
        assert!(
            b.stdout.is_empty(),
            "the kernel must not boot:\n{}",
            b.tail()
        );
    }
}

/// The tests a forced non-broadcast boot runs: conformance through breakpoint probes and
/// through optimized probes running in their slots (between them every kind of text
/// write: breakpoint words, slot fills, branches; the other optimized variants write
/// the same words), probe churn, optimize churn.
const NON_BROADCAST_TESTS: &str = "probed_instr,in_the_slot,kprobe_churn,optimize_churn";

/// Rounds of the two churns in those boots: each round's rendezvous runs the per-CPU
/// path on every core (the suite's own boots run 10,000).
const NON_BROADCAST_ROUNDS: &str = "2000";

/// The probed-conformance lines of the mechanisms `NON_BROADCAST_TESTS` runs.
const NON_BROADCAST_MECHANISMS: [&str; 2] = [
    "probed conformance (Breakpoint)",
    "probed conformance (OptimizedDirect)",
];

/// QEMU's Cortex-A7 and A15 report broadcast cache maintenance (ID_MMFR3), so without
/// this the crate's per-CPU path (every CPU stores the words and runs ICIALLU and BPIALL
/// itself inside the rendezvous) would only ever run against host fakes. `--non-broadcast`
/// makes the kernel's cache operations say "not broadcast": on every board, 4 vCPUs run
/// probe churn, optimize churn and conformance through every kind of probe that way, and
/// every core's count of whole-I-cache invalidations shows it took the path.
#[test]
fn forced_non_broadcast_maintenance_passes_churn_and_probed_conformance_on_every_board() {
    let _ = suite(BOARDS[0]);
    let boots: Vec<(&str, &Boot)> = BOARDS.iter().map(|&b| (b, non_broadcast_boot(b))).collect();
    for (board, b) in &boots {
        assert!(b.failures().is_empty(), "{board}:\n{}", b.tail());
        assert_eq!(b.verdict(), Some((4, 0)), "{board}:\n{}", b.tail());
        assert_eq!(b.status, 0, "{board}:\n{}", b.tail());
        assert_eq!(
            b.lines_with("cache maintenance: forced NOT broadcast")
                .len(),
            1,
            "{board}:\n{}",
            b.tail()
        );
        for what in [
            format!("churn: {NON_BROADCAST_ROUNDS} rounds"),
            format!("optimize churn: {NON_BROADCAST_ROUNDS} rounds"),
        ] {
            let found = b
                .stdout
                .lines()
                .filter(|l| l.trim_start().starts_with(what.as_str()));
            assert_eq!(found.count(), 1, "{board}: {what}\n{}", b.tail());
        }
        let line = b
            .lines_with("per-CPU cache maintenance: I-cache invalidations by core [")
            .first()
            .copied()
            .unwrap_or_else(|| panic!("{board}: no per-CPU counts\n{}", b.tail()));
        let counts: Vec<u64> = line
            .rsplit_once('[')
            .and_then(|(_, rest)| rest.strip_suffix(']'))
            .map(|list| list.split(", ").filter_map(|n| n.parse().ok()).collect())
            .unwrap_or_default();
        assert!(
            counts.len() == 4 && counts.iter().all(|&n| n > 0),
            "{board}: every one of 4 cores must have maintained its own caches: {line}"
        );
    }
    // The same cases through probes as in the broadcast boots.
    for (board, b) in &boots {
        for mechanism in NON_BROADCAST_MECHANISMS {
            let forced: Vec<&str> = a32_lines(b, mechanism);
            let normal: Vec<&str> = a32_lines(suite(board), mechanism);
            assert_eq!(forced.len(), 1, "{board}: {mechanism}\n{}", b.tail());
            assert_eq!(forced, normal, "{board}: forced non-broadcast vs broadcast");
        }
    }
}
