//! Text patching against the fake platform: the exact maintenance sequence per CPU,
//! broadcast and not, batches, the fast path, and every refusal.

use super::*;
use crate::fakes::{CacheOp, FakeCacheOps, FakePlatform};
use crate::platform::CpuSet;
use crate::stop_machine::tests::within_deadline;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::thread;
use std::vec::Vec;
use std::{format, vec};

const TEXT: usize = 0x8000;
const TEXT_WORDS: usize = 64;
const SLOTS: usize = 0x10_0000;
const SLOT_WORDS: usize = 16;

/// `b` to itself, under condition `cond`.
fn branch(cond: u32, imm24: u32) -> u32 {
    (cond << 28) | 0x0a00_0000 | (imm24 & 0x00ff_ffff)
}

const NOP: u32 = 0xe320_f000;
const BREAKPOINT: u32 = 0xe7f0_01f8;
const MOV_R0_R1: u32 = 0xe1a0_0001;

fn fake(cpus: usize) -> FakePlatform {
    FakePlatform::new(TEXT, TEXT_WORDS, SLOTS, SLOT_WORDS, cpus)
}

/// Runs `initiator` as CPU 0 while CPUs `1..cpus` serve IPIs; returns its result and
/// how many rendezvous each of them took part in.
fn with_idle_cpus<R>(
    fake: &FakePlatform,
    rv: &Rendezvous<FakeCacheOps>,
    cpus: usize,
    initiator: impl FnOnce() -> R,
) -> (R, Vec<usize>) {
    let stop = AtomicBool::new(false);
    thread::scope(|s| {
        let idle: Vec<_> = (1..cpus)
            .map(|cpu| {
                let stop = &stop;
                s.spawn(move || fake.serve_ipis_until(cpu, rv, stop))
            })
            .collect();
        FakePlatform::become_cpu(0);
        let result = initiator();
        stop.store(true, SeqCst);
        (
            result,
            idle.into_iter().map(|h| h.join().unwrap()).collect(),
        )
    })
}

/// The sequence for one word; `bp` is BPIALLIS (broadcast) or BPIALL (local, which is
/// preceded by ICIALLU: slot words another CPU wrote must not be stale here).
fn one_word_sequence(addr: usize, word: u32, bp: CacheOp) -> Vec<CacheOp> {
    let mut ops = vec![
        CacheOp::Store { addr, word },
        CacheOp::Dccmvau(addr),
        CacheOp::DsbIsh,
        CacheOp::Icimvau(addr),
    ];
    if bp == CacheOp::Bpiall {
        ops.push(CacheOp::Iciallu);
    }
    ops.extend([bp, CacheOp::DsbIsh, CacheOp::Isb]);
    ops
}

fn with_exit_isb(mut ops: Vec<CacheOp>) -> Vec<CacheOp> {
    ops.push(CacheOp::Isb);
    ops
}

#[test]
fn patcher_reads_maintenance_broadcast_once_at_start() {
    let fake = fake(1);
    let broadcast = Rendezvous::new(FakeCacheOps::new(true));
    let local = Rendezvous::new(FakeCacheOps::new(false));
    assert!(TextPatcher::new(&broadcast, &fake).maintenance_is_broadcast());
    assert!(!TextPatcher::new(&local, &fake).maintenance_is_broadcast());
}

#[test]
fn broadcast_patch_writes_once_with_the_full_maintenance_sequence() {
    within_deadline(|| {
        let fake = fake(4);
        let rv = Rendezvous::new(FakeCacheOps::new(true));
        let patcher = TextPatcher::new(&rv, &fake);
        let addr = TEXT + 0x10;
        let (result, joined) = with_idle_cpus(&fake, &rv, 4, || patcher.patch(addr, BREAKPOINT));
        result.unwrap();
        assert_eq!(fake.word(addr), BREAKPOINT);
        assert_eq!(joined, [1, 1, 1], "every CPU was parked for the write");
        let ops = rv.cache_ops();
        assert_eq!(
            ops.log(0),
            with_exit_isb(one_word_sequence(addr, BREAKPOINT, CacheOp::Bpiallis))
        );
        for cpu in 1..4 {
            assert_eq!(ops.log(cpu), [CacheOp::Isb], "CPU {cpu} only synchronizes");
        }
    });
}

#[test]
fn local_maintenance_patch_writes_and_maintains_on_every_cpu() {
    within_deadline(|| {
        let fake = fake(4);
        let rv = Rendezvous::new(FakeCacheOps::new(false));
        let patcher = TextPatcher::new(&rv, &fake);
        let addr = TEXT + 0x20;
        let (result, _) = with_idle_cpus(&fake, &rv, 4, || patcher.patch(addr, BREAKPOINT));
        result.unwrap();
        assert_eq!(fake.word(addr), BREAKPOINT);
        for cpu in 0..4 {
            assert_eq!(
                rv.cache_ops().log(cpu),
                with_exit_isb(one_word_sequence(addr, BREAKPOINT, CacheOp::Bpiall)),
                "CPU {cpu}"
            );
        }
    });
}

#[test]
fn batch_applies_every_word_in_one_rendezvous() {
    within_deadline(|| {
        let fake = fake(2);
        let rv = Rendezvous::new(FakeCacheOps::new(true));
        let patcher = TextPatcher::new(&rv, &fake);
        let (a, b, c) = (TEXT, TEXT + 4 * (TEXT_WORDS - 1), SLOTS + 8);
        let words = [(a, BREAKPOINT), (b, branch(0xe, 5)), (c, MOV_R0_R1)];
        let (result, joined) = with_idle_cpus(&fake, &rv, 2, || patcher.patch_batch(&words));
        result.unwrap();
        assert_eq!(joined, [1]);
        assert_eq!(fake.take_ipis(), [CpuSet::single(1)], "one rendezvous");
        for (addr, word) in words {
            assert_eq!(fake.word(addr), word);
        }
        assert_eq!(
            rv.cache_ops().log(0),
            [
                CacheOp::Store {
                    addr: a,
                    word: BREAKPOINT
                },
                CacheOp::Dccmvau(a),
                CacheOp::Store {
                    addr: b,
                    word: branch(0xe, 5)
                },
                CacheOp::Dccmvau(b),
                CacheOp::Store {
                    addr: c,
                    word: MOV_R0_R1
                },
                CacheOp::Dccmvau(c),
                CacheOp::DsbIsh,
                CacheOp::Icimvau(a),
                CacheOp::Icimvau(b),
                CacheOp::Icimvau(c),
                CacheOp::Bpiallis,
                CacheOp::DsbIsh,
                CacheOp::Isb,
                CacheOp::Isb,
            ]
        );
    });
}

#[test]
fn empty_batch_starts_no_rendezvous() {
    let fake = fake(2);
    let rv = Rendezvous::new(FakeCacheOps::new(true));
    FakePlatform::become_cpu(0);
    TextPatcher::new(&rv, &fake).patch_batch(&[]).unwrap();
    assert!(fake.take_ipis().is_empty());
    assert!(rv.cache_ops().log(0).is_empty());
}

/// Every refusal happens before anything is written or any CPU is stopped.
fn assert_refused(
    fake: &FakePlatform,
    rv: &Rendezvous<FakeCacheOps>,
    result: Result<(), PatchError>,
    expected: PatchError,
) {
    assert_eq!(result, Err(expected));
    assert!(fake.take_ipis().is_empty(), "no CPU was stopped");
    for cpu in 0..2 {
        assert!(rv.cache_ops().log(cpu).is_empty(), "nothing was written");
    }
}

#[test]
fn misaligned_address_is_refused() {
    let fake = fake(2);
    let rv = Rendezvous::new(FakeCacheOps::new(true));
    FakePlatform::become_cpu(0);
    let patcher = TextPatcher::new(&rv, &fake);
    let r = patcher.patch(TEXT + 2, NOP);
    assert_refused(&fake, &rv, r, PatchError::Misaligned { addr: TEXT + 2 });
    let r = patcher.patch_live_branch(TEXT + 1, NOP);
    assert_refused(&fake, &rv, r, PatchError::Misaligned { addr: TEXT + 1 });
}

#[test]
fn address_outside_text_and_slots_is_refused() {
    let fake = fake(2);
    let rv = Rendezvous::new(FakeCacheOps::new(true));
    FakePlatform::become_cpu(0);
    let patcher = TextPatcher::new(&rv, &fake);
    let text_end = TEXT + 4 * TEXT_WORDS;
    let slots_end = SLOTS + 4 * SLOT_WORDS;
    for addr in [TEXT - 4, text_end, slots_end, SLOTS - 4, usize::MAX - 3] {
        let r = patcher.patch(addr, NOP);
        assert_refused(&fake, &rv, r, PatchError::OutsideText { addr });
    }
    // One bad word refuses the whole batch.
    let r = patcher.patch_batch(&[(TEXT, NOP), (text_end, NOP)]);
    assert_refused(&fake, &rv, r, PatchError::OutsideText { addr: text_end });
    assert_eq!(fake.word(TEXT), NOP);
    let r = patcher.patch_live_branch(slots_end, NOP);
    assert_refused(&fake, &rv, r, PatchError::OutsideText { addr: slots_end });
}

#[test]
fn duplicate_address_in_a_batch_is_refused() {
    let fake = fake(2);
    let rv = Rendezvous::new(FakeCacheOps::new(false));
    FakePlatform::become_cpu(0);
    let patcher = TextPatcher::new(&rv, &fake);
    let r = patcher.patch_batch(&[(TEXT, BREAKPOINT), (TEXT + 4, NOP), (TEXT, MOV_R0_R1)]);
    assert_refused(&fake, &rv, r, PatchError::DuplicateAddress { addr: TEXT });
    assert_eq!(fake.word(TEXT), NOP, "nothing was written");
}

#[test]
fn refused_rendezvous_is_reported_and_nothing_written() {
    let fake = fake(2);
    let rv = Rendezvous::new(FakeCacheOps::new(true));
    FakePlatform::become_cpu(0);
    let patcher = TextPatcher::new(&rv, &fake);
    let saved = fake.mask_interrupts();
    let r = patcher.patch(TEXT, BREAKPOINT);
    fake.restore_interrupts(saved);
    assert_refused(
        &fake,
        &rv,
        r,
        PatchError::Rendezvous(RendezvousError::InterruptsMasked { cpu: 0 }),
    );
    assert_eq!(fake.word(TEXT), NOP);
}

#[test]
fn patching_from_a_rendezvous_callback_is_refused_not_deadlocked() {
    within_deadline(|| {
        let fake = fake(2);
        let rv = Rendezvous::new(FakeCacheOps::new(true));
        let patcher = TextPatcher::new(&rv, &fake);
        let inner = std::sync::Mutex::new(Vec::new());
        let (result, _) = with_idle_cpus(&fake, &rv, 2, || {
            rv.run(&fake, RunOn::OneCpu(1), &|cpu| {
                inner.lock().unwrap().push(patcher.patch(TEXT, BREAKPOINT));
                inner
                    .lock()
                    .unwrap()
                    .push(patcher.patch_live_branch(TEXT, branch(0xe, 1)));
                assert_eq!(cpu, 1);
            })
        });
        result.unwrap();
        let nested = PatchError::Rendezvous(RendezvousError::NestedInCallback { cpu: 1 });
        assert_eq!(inner.into_inner().unwrap(), [Err(nested), Err(nested)]);
        assert_eq!(fake.word(TEXT), NOP);
    });
}

#[test]
fn live_branch_retargets_a_branch_without_stopping_anyone() {
    let fake = fake(4);
    let rv = Rendezvous::new(FakeCacheOps::new(true));
    FakePlatform::become_cpu(2);
    let patcher = TextPatcher::new(&rv, &fake);
    let addr = TEXT + 8;
    fake.set_word(addr, branch(0x0, 0x10));
    patcher
        .patch_live_branch(addr, branch(0x0, 0xfff0))
        .unwrap();
    assert_eq!(fake.word(addr), branch(0x0, 0xfff0));
    assert!(fake.take_ipis().is_empty(), "no rendezvous");
    assert_eq!(
        rv.cache_ops().log(2),
        one_word_sequence(addr, branch(0x0, 0xfff0), CacheOp::Bpiallis)
    );
}

#[test]
fn live_branch_swaps_a_branch_and_a_nop_both_ways() {
    let fake = fake(1);
    let rv = Rendezvous::new(FakeCacheOps::new(true));
    FakePlatform::become_cpu(0);
    let patcher = TextPatcher::new(&rv, &fake);
    let addr = TEXT + 12;
    fake.set_word(addr, NOP);
    patcher.patch_live_branch(addr, branch(0xb, 7)).unwrap();
    assert_eq!(fake.word(addr), branch(0xb, 7));
    patcher.patch_live_branch(addr, NOP).unwrap();
    assert_eq!(fake.word(addr), NOP);
    patcher.patch_live_branch(addr, branch(0xe, 9)).unwrap();
    // The NOP hint under a condition is still a NOP.
    patcher.patch_live_branch(addr, 0x1320_f000).unwrap();
    assert_eq!(fake.word(addr), 0x1320_f000);
}

#[test]
fn live_branch_refuses_changes_the_architecture_does_not_allow() {
    let fake = fake(1);
    let rv = Rendezvous::new(FakeCacheOps::new(true));
    FakePlatform::become_cpu(0);
    let patcher = TextPatcher::new(&rv, &fake);
    let addr = TEXT + 16;
    let bl = 0xeb00_0004;
    let blx_imm = 0xfa00_0004;
    let cases = [
        (branch(0x0, 1), branch(0x1, 1)), // condition changes
        (branch(0xe, 1), BREAKPOINT),     // branch -> breakpoint
        (BREAKPOINT, branch(0xe, 1)),     // breakpoint -> branch
        (MOV_R0_R1, branch(0xe, 1)),      // original -> branch
        (NOP, MOV_R0_R1),                 // nop -> original
        (NOP, NOP),                       // neither side is a branch
        (bl, branch(0xe, 4)),             // BL is not B
        (branch(0xe, 4), blx_imm),        // BLX(imm) is not B
    ];
    for (old, new) in cases {
        fake.set_word(addr, old);
        assert_eq!(
            patcher.patch_live_branch(addr, new),
            Err(PatchError::NotLiveModifiable { addr, old, new }),
            "{old:#010x} -> {new:#010x}"
        );
        assert_eq!(fake.word(addr), old);
    }
    assert!(rv.cache_ops().log(0).is_empty(), "nothing was written");
}

#[test]
fn live_branch_without_broadcast_maintenance_parks_every_cpu() {
    within_deadline(|| {
        let fake = fake(4);
        let rv = Rendezvous::new(FakeCacheOps::new(false));
        let patcher = TextPatcher::new(&rv, &fake);
        let addr = TEXT + 4;
        fake.set_word(addr, branch(0xe, 3));
        let (result, joined) =
            with_idle_cpus(&fake, &rv, 4, || patcher.patch_live_branch(addr, NOP));
        result.unwrap();
        assert_eq!(joined, [1, 1, 1]);
        for cpu in 0..4 {
            assert_eq!(
                rv.cache_ops().log(cpu),
                with_exit_isb(one_word_sequence(addr, NOP, CacheOp::Bpiall)),
                "CPU {cpu}"
            );
        }
        // The check still applies.
        let r = with_idle_cpus(&fake, &rv, 4, || {
            patcher.patch_live_branch(addr, BREAKPOINT)
        })
        .0;
        assert_eq!(
            r,
            Err(PatchError::NotLiveModifiable {
                addr,
                old: NOP,
                new: BREAKPOINT
            })
        );
    });
}

/// Four CPUs each keep rewriting their own word, alternating the full path and the
/// fast path, while answering each other's rendezvous.
#[test]
fn concurrent_patchers_are_serialized_and_every_word_ends_as_written() {
    within_deadline(|| {
        const ROUNDS: u32 = 300;
        for broadcast in [true, false] {
            let fake = fake(4);
            let rv = Rendezvous::new(FakeCacheOps::new(broadcast));
            let patcher = TextPatcher::new(&rv, &fake);
            let finished = std::sync::atomic::AtomicUsize::new(0);
            thread::scope(|s| {
                for cpu in 0..4usize {
                    let (fake, rv, patcher, finished) = (&fake, &rv, &patcher, &finished);
                    s.spawn(move || {
                        FakePlatform::become_cpu(cpu);
                        let addr = TEXT + 4 * cpu;
                        for round in 0..ROUNDS {
                            if fake.take_pending_ipi() {
                                rv.ipi_entry(fake);
                            }
                            patcher.patch(addr, branch(0xe, round)).unwrap();
                            patcher
                                .patch_live_branch(addr, branch(0xe, round + 1))
                                .unwrap();
                        }
                        finished.fetch_add(1, SeqCst);
                        while finished.load(SeqCst) < 4 {
                            if fake.take_pending_ipi() {
                                rv.ipi_entry(fake);
                            }
                            thread::yield_now();
                        }
                    });
                }
            });
            for cpu in 0..4 {
                assert_eq!(
                    fake.word(TEXT + 4 * cpu),
                    branch(0xe, ROUNDS),
                    "broadcast {broadcast}"
                );
            }
        }
    });
}

#[test]
fn unpublished_slot_words_are_written_and_maintained_here_without_a_rendezvous() {
    for broadcast in [true, false] {
        let fake = fake(4);
        let rv = Rendezvous::new(FakeCacheOps::new(broadcast));
        let patcher = TextPatcher::new(&rv, &fake);
        FakePlatform::become_cpu(0);
        let words = [NOP, MOV_R0_R1, BREAKPOINT];
        patcher.write_unpublished(SLOTS + 8, &words).unwrap();
        for (i, w) in words.iter().enumerate() {
            assert_eq!(fake.word(SLOTS + 8 + 4 * i), *w);
        }
        assert!(fake.take_ipis().is_empty(), "no CPU was stopped");
        let log = rv.cache_ops().log(0);
        let mut want: Vec<CacheOp> = Vec::new();
        for (i, &word) in words.iter().enumerate() {
            let addr = SLOTS + 8 + 4 * i;
            want.extend([CacheOp::Store { addr, word }, CacheOp::Dccmvau(addr)]);
        }
        want.push(CacheOp::DsbIsh);
        want.extend((0..3).map(|i| CacheOp::Icimvau(SLOTS + 8 + 4 * i)));
        if broadcast {
            want.push(CacheOp::Bpiallis);
        } else {
            want.extend([CacheOp::Iciallu, CacheOp::Bpiall]);
        }
        want.extend([CacheOp::DsbIsh, CacheOp::Isb]);
        assert_eq!(log, want, "broadcast {broadcast}");
        for cpu in 1..4 {
            assert!(rv.cache_ops().log(cpu).is_empty());
        }
    }
}

#[test]
fn unpublished_words_outside_the_slot_region_are_refused_and_nothing_written() {
    let fake = fake(1);
    let rv = Rendezvous::new(FakeCacheOps::new(true));
    let patcher = TextPatcher::new(&rv, &fake);
    FakePlatform::become_cpu(0);
    // Text is not slot memory; neither is the word past the region's end.
    assert_eq!(
        patcher.write_unpublished(TEXT, &[NOP]),
        Err(PatchError::NotSlotMemory { addr: TEXT })
    );
    let last = SLOTS + 4 * (SLOT_WORDS - 1);
    assert_eq!(
        patcher.write_unpublished(last, &[NOP, NOP]),
        Err(PatchError::NotSlotMemory { addr: last + 4 })
    );
    assert_eq!(
        patcher.write_unpublished(SLOTS + 2, &[NOP]),
        Err(PatchError::Misaligned { addr: SLOTS + 2 })
    );
    assert!(rv.cache_ops().log(0).is_empty(), "nothing was written");
    assert_eq!(fake.word(last), 0);
}

#[test]
fn every_patch_error_names_its_cause() {
    let cases = [
        (
            PatchError::Misaligned { addr: 0x8002 },
            "0x8002 is not word aligned",
        ),
        (
            PatchError::OutsideText { addr: 0x10 },
            "neither kernel text nor slot memory",
        ),
        (
            PatchError::DuplicateAddress { addr: 0x8000 },
            "writes 0x8000 more than once",
        ),
        (
            PatchError::NotLiveModifiable {
                addr: 0x8000,
                old: NOP,
                new: BREAKPOINT,
            },
            "0xe320f000 -> 0xe7f001f8 at 0x8000 is not a live-modifiable",
        ),
        (
            PatchError::MisalignedHalfword { addr: 0x8001 },
            "0x8001 is not halfword aligned",
        ),
        (
            PatchError::NotSlotMemory { addr: 0x8000 },
            "0x8000 is not in the instruction-slot region",
        ),
        (
            PatchError::Rendezvous(RendezvousError::InterruptsMasked { cpu: 1 }),
            "text patch not started: CPU 1 tried to start a rendezvous with interrupts masked",
        ),
    ];
    for (error, text) in cases {
        let shown = format!("{error}");
        assert!(shown.contains(text), "{shown:?} should contain {text:?}");
    }
    use core::error::Error;
    let wrapped = PatchError::from(RendezvousError::NestedInCallback { cpu: 2 });
    assert_eq!(
        wrapped,
        PatchError::Rendezvous(RendezvousError::NestedInCallback { cpu: 2 })
    );
    assert!(wrapped.source().is_some());
    assert!(PatchError::Misaligned { addr: 2 }.source().is_none());
}

/// The Thumb breakpoints' halfwords (`udf #0x18`, `udf.w #0x18` as hw1, hw2).
const T16_BKPT: u16 = 0xde18;
const T32_BKPT: (u16, u16) = (0xf7f0, 0xa018);

/// A 16-bit halfword goes into its half of the word and leaves the other half as it
/// was: the low half at a word address, the high half at 2 mod 4.
#[test]
fn a_halfword_replaces_its_half_of_the_word_only() {
    within_deadline(|| {
        let fake = fake(2);
        let rv = Rendezvous::new(FakeCacheOps::new(true));
        let patcher = TextPatcher::new(&rv, &fake);
        let (low, high) = (TEXT + 0x10, TEXT + 0x16);
        let (result, _) = with_idle_cpus(&fake, &rv, 2, || {
            patcher.patch_halfwords(&[(low, T16_BKPT), (high, T16_BKPT)])
        });
        result.unwrap();
        assert_eq!(fake.word(TEXT + 0x10), (NOP & 0xffff_0000) | 0xde18);
        assert_eq!(fake.word(TEXT + 0x14), (NOP & 0x0000_ffff) | 0xde18_0000);
        // And back: the original halves return, the words are as before.
        let (result, _) = with_idle_cpus(&fake, &rv, 2, || {
            patcher.patch_halfwords(&[(low, NOP as u16), (high, (NOP >> 16) as u16)])
        });
        result.unwrap();
        assert_eq!([fake.word(TEXT + 0x10), fake.word(TEXT + 0x14)], [NOP, NOP]);
    });
}

/// A 32-bit Thumb instruction at 2 mod 4 straddles two words: its first halfword is the
/// high half of one, its second the low half of the next. Both words are written in one
/// rendezvous and both get the whole maintenance sequence.
#[test]
fn a_straddling_32_bit_breakpoint_writes_and_maintains_both_words() {
    within_deadline(|| {
        let fake = fake(4);
        let rv = Rendezvous::new(FakeCacheOps::new(true));
        let patcher = TextPatcher::new(&rv, &fake);
        let at = TEXT + 0x1e; // across a word and a 32-byte cache-line boundary
        let (w0, w1) = (at - 2, at + 2);
        let (result, joined) = with_idle_cpus(&fake, &rv, 4, || {
            patcher.patch_halfwords(&[(at, T32_BKPT.0), (at + 2, T32_BKPT.1)])
        });
        result.unwrap();
        assert_eq!(joined, [1, 1, 1], "every CPU was parked");
        let (first, second) = (
            (NOP & 0x0000_ffff) | (u32::from(T32_BKPT.0) << 16),
            (NOP & 0xffff_0000) | u32::from(T32_BKPT.1),
        );
        assert_eq!([fake.word(w0), fake.word(w1)], [first, second]);
        assert_eq!(
            rv.cache_ops().log(0),
            [
                CacheOp::Store {
                    addr: w0,
                    word: first
                },
                CacheOp::Dccmvau(w0),
                CacheOp::Store {
                    addr: w1,
                    word: second
                },
                CacheOp::Dccmvau(w1),
                CacheOp::DsbIsh,
                CacheOp::Icimvau(w0),
                CacheOp::Icimvau(w1),
                CacheOp::Bpiallis,
                CacheOp::DsbIsh,
                CacheOp::Isb,
                CacheOp::Isb,
            ]
        );
        for cpu in 1..4 {
            assert_eq!(rv.cache_ops().log(cpu), [CacheOp::Isb], "CPU {cpu}");
        }
    });
}

/// Without broadcast maintenance every CPU merges the same halfwords into the same
/// words; two halfwords of one word in one batch (two 16-bit probes side by side) both
/// land in one store of the final word, and every CPU maintains every word it touched.
#[test]
fn every_cpu_merges_halfwords_where_maintenance_is_local() {
    within_deadline(|| {
        let fake = fake(4);
        let rv = Rendezvous::new(FakeCacheOps::new(false));
        let patcher = TextPatcher::new(&rv, &fake);
        let halfwords = [
            (TEXT + 0x20, T16_BKPT),
            (TEXT + 0x22, 0x4770), // bx lr
            (TEXT + 0x26, T32_BKPT.0),
            (TEXT + 0x28, T32_BKPT.1),
        ];
        for _ in 0..50 {
            let (result, _) = with_idle_cpus(&fake, &rv, 4, || patcher.patch_halfwords(&halfwords));
            result.unwrap();
            assert_eq!(fake.word(TEXT + 0x20), 0x4770_de18);
            assert_eq!(fake.word(TEXT + 0x24), (NOP & 0xffff) | 0xf7f0_0000);
            assert_eq!(fake.word(TEXT + 0x28), (NOP & 0xffff_0000) | 0xa018);
            for cpu in 0..4 {
                let log = rv.cache_ops().take_log(cpu);
                // Only ever the final word: a CPU that stored a word with one of its two
                // new halfwords (a 32-bit instruction's hw1 new, hw2 old) could have that
                // mix fetched by a CPU that has already invalidated its caches.
                for op in &log {
                    if let CacheOp::Store { addr, word } = *op {
                        assert!(
                            addr != TEXT + 0x20 || word == 0x4770_de18,
                            "CPU {cpu} stored {word:#010x} at {addr:#x}: not the final word"
                        );
                    }
                }
                for w in [TEXT + 0x20, TEXT + 0x24, TEXT + 0x28] {
                    assert!(
                        log.contains(&CacheOp::Dccmvau(w)),
                        "CPU {cpu} cleans {w:#x}"
                    );
                    assert!(
                        log.contains(&CacheOp::Icimvau(w)),
                        "CPU {cpu} invalidates {w:#x}"
                    );
                }
            }
            // Put the words back for the next round.
            let (result, _) = with_idle_cpus(&fake, &rv, 4, || {
                patcher.patch_batch(&[(TEXT + 0x20, NOP), (TEXT + 0x24, NOP), (TEXT + 0x28, NOP)])
            });
            result.unwrap();
            for cpu in 0..4 {
                rv.cache_ops().take_log(cpu);
            }
        }
    });
}

#[test]
fn bad_halfword_batches_are_refused_and_nothing_written() {
    within_deadline(bad_halfword_batches);
}

fn bad_halfword_batches() {
    let fake = fake(2);
    let rv = Rendezvous::new(FakeCacheOps::new(true));
    FakePlatform::become_cpu(0);
    let patcher = TextPatcher::new(&rv, &fake);
    let text_end = TEXT + 4 * TEXT_WORDS;
    let r = patcher.patch_halfwords(&[(TEXT, T16_BKPT), (TEXT + 3, T16_BKPT)]);
    assert_refused(
        &fake,
        &rv,
        r,
        PatchError::MisalignedHalfword { addr: TEXT + 3 },
    );
    for addr in [TEXT - 2, text_end, SLOTS - 2, usize::MAX - 1] {
        let r = patcher.patch_halfwords(&[(TEXT, T16_BKPT), (addr, T16_BKPT)]);
        assert_refused(&fake, &rv, r, PatchError::OutsideText { addr });
    }
    let r = patcher.patch_halfwords(&[(TEXT + 2, T16_BKPT), (TEXT + 2, 0x4770)]);
    assert_refused(
        &fake,
        &rv,
        r,
        PatchError::DuplicateAddress { addr: TEXT + 2 },
    );
    let saved = fake.mask_interrupts();
    let r = patcher.patch_halfwords(&[(TEXT, T16_BKPT)]);
    fake.restore_interrupts(saved);
    assert_refused(
        &fake,
        &rv,
        r,
        PatchError::Rendezvous(RendezvousError::InterruptsMasked { cpu: 0 }),
    );
    assert_eq!(fake.word(TEXT), NOP, "nothing was written");
    // The last halfword of text and of the slot region are writable; an empty batch
    // starts nothing.
    patcher.patch_halfwords(&[]).unwrap();
    assert!(fake.take_ipis().is_empty());
    let last = [
        (text_end - 2, T16_BKPT),
        (SLOTS + 4 * SLOT_WORDS - 2, T16_BKPT),
    ];
    let (result, _) = with_idle_cpus(&fake, &rv, 2, || patcher.patch_halfwords(&last));
    result.unwrap();
    assert_eq!(fake.word(text_end - 4) >> 16, 0xde18);
}
