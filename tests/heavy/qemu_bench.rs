//! The probe-cost benchmark on QEMU: one command prints one table with every row, the
//! figures are sane (a probed call costs more than an unprobed one, a disabled probe
//! costs nothing), and the instruction rows are identical from one boot to the next.
//! How fast probes are is the benchmark's to report, not a test's to assert.

use crate::common::{Boot, boot, kernel};

/// One table line: `| row | unit | n | per op | over unprobed | rendezvous per op | Linux 6.1 |`
/// (the last column is a reference figure the bench prints, not a measurement).
#[derive(Debug)]
struct Row {
    name: String,
    unit: String,
    count: u32,
    per_op: f64,
    over: Option<f64>,
    rendezvous: f64,
}

fn number(s: &str) -> f64 {
    s.trim_start_matches('+')
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {s:?}"))
}

fn table(b: &Boot) -> Vec<Row> {
    b.stdout
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| row |"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            let [name, unit, count, per_op, over, rendezvous, _linux] = cells[..] else {
                panic!("a table line without 7 cells: {l}\n{}", b.tail());
            };
            Row {
                name: name.to_string(),
                unit: unit.to_string(),
                count: count.parse().unwrap(),
                per_op: number(per_op),
                over: (over != "-").then(|| number(over)),
                rendezvous: number(rendezvous),
            }
        })
        .collect()
}

fn row<'a>(rows: &'a [Row], name: &str) -> &'a Row {
    // The name, possibly followed by a parenthesised remark.
    let found: Vec<&Row> = rows
        .iter()
        .filter(|r| r.name == name || r.name.starts_with(&format!("{name} (")))
        .collect();
    assert_eq!(found.len(), 1, "row {name:?} once in {rows:#?}");
    found[0]
}

#[test]
fn bench_prints_one_table_with_every_row_and_sane_figures() {
    let b = boot(&kernel("virt"), &["--mode", "bench"]);
    assert_eq!(b.status, 0, "{}", b.tail());
    assert!(b.stdout.contains("| row | unit |"), "header:\n{}", b.tail());
    assert!(
        b.stdout
            .contains("checked to count one per guest instruction"),
        "{}",
        b.tail()
    );
    let rows = table(&b);
    let mut names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), rows.len(), "every row once: {rows:#?}");
    let unprobed = row(&rows, "unprobed call");
    let breakpoint = row(&rows, "breakpoint probe, empty pre handler");
    let disabled = row(&rows, "disabled probe");
    assert_eq!(unprobed.per_op, 3.0, "blx + add + bx lr: {unprobed:?}");
    assert_eq!(unprobed.over, Some(0.0));
    assert!(breakpoint.per_op > unprobed.per_op, "{breakpoint:?}");
    assert_eq!(
        breakpoint.over,
        Some(breakpoint.per_op - unprobed.per_op),
        "overhead is the difference"
    );
    assert_eq!(
        disabled.per_op, unprobed.per_op,
        "a disabled probe's word is back"
    );
    let event = row(
        &rows,
        "probe event, two register fetch args (%r0, %r1), breakpoint probe",
    );
    assert!(
        event.per_op > breakpoint.per_op && event.rendezvous == 0.0,
        "an event is its probe and the recording: {event:?}"
    );
    assert!(
        b.stdout
            .contains("bench: a probe event with two register fetch args costs +"),
        "the event's cost over the bare probe is printed:\n{}",
        b.tail()
    );
    // Thumb: the unprobed Thumb call is as cheap as the A32 one (blx, one instruction,
    // bx lr), so the Thumb probes' overheads compare directly with the A32 rows.
    let thumb_unprobed = row(&rows, "Thumb: unprobed call");
    assert_eq!(thumb_unprobed.per_op, unprobed.per_op, "{thumb_unprobed:?}");
    for size in ["a 16-bit instruction (udf)", "a 32-bit instruction (udf.w)"] {
        let r = row(
            &rows,
            &format!("Thumb: breakpoint probe on {size}, empty pre handler"),
        );
        assert!(
            r.per_op > thumb_unprobed.per_op && r.rendezvous == 0.0,
            "a Thumb hit traps and steps: {r:?}"
        );
    }
    // An optimized 32-bit Thumb probe branches instead of trapping: cheaper than its
    // breakpoint, and running the copy of the original cheaper than stepping it.
    let thumb_wide = row(
        &rows,
        "Thumb: breakpoint probe on a 32-bit instruction (udf.w), empty pre handler",
    );
    let thumb_direct = row(
        &rows,
        "Thumb: optimized probe on a 32-bit instruction (b.w, run in the slot), empty pre handler",
    );
    let thumb_step = row(
        &rows,
        "Thumb: optimized probe on a 32-bit branch (b.w over b.w, stepped), empty pre handler",
    );
    assert!(
        thumb_unprobed.per_op < thumb_direct.per_op
            && thumb_direct.per_op < thumb_step.per_op
            && thumb_direct.per_op < thumb_wide.per_op
            && thumb_direct.rendezvous == 0.0
            && thumb_step.rendezvous == 0.0,
        "optimized Thumb probes: {thumb_direct:?} {thumb_step:?} vs {thumb_wide:?}"
    );
    let kretprobe = row(&rows, "kretprobe, empty return handler");
    let kretprobe_opt = row(&rows, "kretprobe, empty return handler, optimized entry");
    assert!(
        kretprobe.per_op > breakpoint.per_op && kretprobe_opt.per_op < kretprobe.per_op,
        "a return probe costs its entry probe and the return path: {kretprobe:?} {kretprobe_opt:?}"
    );
    assert_eq!(kretprobe.rendezvous, 0.0, "{kretprobe:?}");
    for others in ["1 other probe", "100 other probes", "10,000 other probes"] {
        let r = row(&rows, &format!("breakpoint hit, {others} registered"));
        assert!(r.per_op > unprobed.per_op, "{r:?}");
        assert_eq!(r.rendezvous, 0.0, "a hit runs no rendezvous: {r:?}");
    }
    let direct = row(
        &rows,
        "optimized probe, direct execution, empty pre handler",
    );
    let stepped = row(
        &rows,
        "optimized probe, step path, empty pre and post handlers",
    );
    assert!(
        unprobed.per_op < direct.per_op && direct.per_op < breakpoint.per_op,
        "an optimized hit costs more than none and less than a trap: {direct:?}"
    );
    assert!(
        direct.per_op < stepped.per_op,
        "running the instruction in the trampoline is cheaper than stepping it: {stepped:?}"
    );
    // The fast paths (one enabled probe at the site) cost no more than the general
    // path they stand in for, and a hit does not grow with the number of probes.
    let general_breakpoint = row(
        &rows,
        "general path: breakpoint, two empty pre handlers at one address",
    );
    let general_direct = row(
        &rows,
        "general path: optimized direct, two empty pre handlers at one address",
    );
    assert!(
        breakpoint.per_op <= general_breakpoint.per_op && direct.per_op <= general_direct.per_op,
        "a fast path costs more than the general one: {breakpoint:?} {general_breakpoint:?} \
         {direct:?} {general_direct:?}"
    );
    for others in ["1 other probe", "100 other probes", "10,000 other probes"] {
        let r = row(&rows, &format!("breakpoint hit, {others} registered"));
        assert_eq!(
            r.per_op, breakpoint.per_op,
            "a hit costs the same however many probes are registered: {r:?}"
        );
    }
    assert_eq!(
        row(&rows, "register + arm one probe, 10,000 others registered").per_op,
        row(&rows, "register + arm one probe").per_op,
        "registering does not grow with the number of probes"
    );
    for batch in ["1 probe", "100 probes", "1,000 probes"] {
        let r = row(&rows, &format!("optimize {batch} (one batch)"));
        assert_eq!(r.rendezvous, 1.0, "one batch, one rendezvous: {r:?}");
    }
    for op in [
        "register + arm one probe",
        "register + arm one probe, 10,000 others registered",
        "unregister + disarm one probe",
        "one rendezvous, 1 CPU",
    ] {
        let r = row(&rows, op);
        assert_eq!(r.rendezvous, 1.0, "{r:?}");
        assert!(r.per_op > 0.0 && r.over.is_none(), "{r:?}");
    }
    for r in rows.iter().filter(|r| r.name.starts_with("breakdown:")) {
        assert!(
            r.per_op > 0.0 && r.per_op < breakpoint.per_op,
            "a part costs less than the whole: {r:?}"
        );
    }
    let smp = row(&rows, "one rendezvous, 4 CPUs");
    assert_eq!(smp.unit, "ns wall", "labelled as not instructions: {smp:?}");
    assert!(smp.per_op > 0.0 && smp.rendezvous == 1.0, "{smp:?}");
    assert!(
        rows.iter()
            .filter(|r| r.name != smp.name)
            .all(|r| r.unit == "insn" && r.count > 0),
        "{rows:#?}"
    );
    assert!(
        b.stdout.contains("not instructions"),
        "the wall-clock row is explained:\n{}",
        b.tail()
    );
}

#[test]
fn bench_instruction_rows_are_identical_from_boot_to_boot_and_board_to_board() {
    let elf = kernel("virt");
    let first = boot(&elf, &["--mode", "bench-insn"]);
    let second = boot(&elf, &["--mode", "bench-insn"]);
    let vexpress = boot(&kernel("vexpress-a15"), &["--mode", "bench-insn"]);
    for b in [&first, &second, &vexpress] {
        assert_eq!(b.status, 0, "{}", b.tail());
    }
    let lines = |b: &Boot| -> Vec<String> {
        b.stdout
            .lines()
            .filter(|l| l.starts_with("| "))
            .map(String::from)
            .collect()
    };
    assert!(lines(&first).len() > 5, "{}", first.tail());
    assert_eq!(
        lines(&first),
        lines(&second),
        "icount figures must not vary"
    );
    // The hit paths are the crate's code on the same CPU model: every per-call row is
    // the same on vexpress-a15 (operations may differ: they include the board's IPIs).
    let (virt_rows, vexpress_rows) = (table(&first), table(&vexpress));
    assert_eq!(
        virt_rows.iter().map(|r| &r.name).collect::<Vec<_>>(),
        vexpress_rows.iter().map(|r| &r.name).collect::<Vec<_>>(),
        "both boards print every row"
    );
    for (v, x) in virt_rows.iter().zip(&vexpress_rows) {
        if v.over.is_some() {
            assert_eq!(
                (v.per_op, v.over),
                (x.per_op, x.over),
                "{}: virt and vexpress-a15 differ",
                v.name
            );
        }
    }
}
