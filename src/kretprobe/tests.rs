//! The return probes' host tests.

use super::*;
use crate::decode::RejectReason;
use crate::fakes::{FakeCacheOps, FakePlatform};
use crate::kprobe::Trap;
use crate::step::Memory;
use crate::stop_machine::Rendezvous;
use std::boxed::Box;
use std::sync::Mutex;
use std::vec::Vec;

const TEXT: usize = 0x8000;
/// `push {r4, lr}`: the first instruction of the probed functions.
const PUSH_R4_LR: u32 = 0xe92d_4010;
const F: usize = TEXT;
const G: usize = TEXT + 16;
const NOPROBE: usize = TEXT + 0x100;
const CALLER: u32 = 0x9000;
type Reg = Kprobes<FakePlatform, FakeCacheOps, 16>;

struct Env {
    p: &'static FakePlatform,
    k: &'static Reg,
    t: &'static Kretprobes<FakePlatform>,
}

fn env() -> Env {
    FakePlatform::become_cpu(0);
    let p: &'static FakePlatform = Box::leak(Box::new(
        FakePlatform::new(TEXT, 128, 0x10_0000, 16, 1).with_never_probe(NOPROBE..NOPROBE + 16),
    ));
    p.set_word(F, PUSH_R4_LR);
    p.set_word(G, PUSH_R4_LR);
    let r: &'static Rendezvous<FakeCacheOps> =
        Box::leak(Box::new(Rendezvous::new(FakeCacheOps::new(true))));
    let k: &'static Reg = Box::leak(Box::new(Kprobes::new(p, r)));
    let t: &'static Kretprobes<FakePlatform> = Box::leak(Box::new(Kretprobes::new(p)));
    Env { p, k, t }
}

fn kretprobe<const N: usize, const D: usize>(
    entry: Option<EntryHandler>,
    ret: ReturnHandler,
    data: usize,
) -> &'static Kretprobe {
    let pool: &'static KretprobePool<N, D> = Box::leak(Box::new(KretprobePool::new()));
    Box::leak(Box::new(Kretprobe::new(entry, ret, pool, data)))
}

type Mem = crate::fakes::FakeMemory;

/// A call of the function at `addr` with `sp`, `lr` and two arguments: the entry
/// breakpoint's trap, as the kernel's undefined-instruction handler runs it. Returns
/// the frame after the first instruction (the `push`).
fn call(e: &Env, mem: &mut Mem, addr: usize, sp: u32, lr: u32, a: u32, b: u32) -> TrapFrame {
    let mut f = TrapFrame {
        r: [a, b, 0, 0, 0x44, 0, 0, 0, 0, 0, 0, 0, 0],
        sp,
        lr,
        pc: addr as u32,
        cpsr: 0x1f,
    };
    assert_eq!(e.k.handle_undefined(&mut f, mem), Trap::Handled);
    assert_eq!((f.pc, f.sp), (addr as u32 + 4, sp - 8), "push stepped");
    f
}

/// The function returning with `sp` and result `r0` to the `lr` it was given: through
/// the trampoline when that is the trampoline, else straight to its caller (`None`).
fn ret(e: &Env, lr: u32, sp: u32, r0: u32) -> Option<TrapFrame> {
    if lr != e.t.trampoline_address() as u32 {
        return None;
    }
    let mut f = TrapFrame {
        r: [r0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        sp,
        lr,
        pc: 0,
        cpsr: 0x1f,
    };
    e.t.handle_return(&mut f);
    Some(f)
}

fn args_entry(_: &Kretprobe, c: &mut KretprobeInstance<'_>, f: &mut TrapFrame) -> OnEntry {
    assert_eq!(c.data(), [0; 12], "private data starts zeroed");
    let caller = c.return_address();
    c.data_mut()[..4].copy_from_slice(&f.r[0].to_ne_bytes());
    c.data_mut()[4..8].copy_from_slice(&f.r[1].to_ne_bytes());
    c.data_mut()[8..12].copy_from_slice(&caller.to_ne_bytes());
    OnEntry::Track
}

/// Arguments, result, caller and sp, as the return handler saw them.
type Seen = (u32, u32, u32, u32, u32);
static SEEN: Mutex<Vec<Seen>> = Mutex::new(Vec::new());

fn args_return(_: &Kretprobe, c: &mut KretprobeInstance<'_>, f: &mut TrapFrame) {
    let word = |i: usize| u32::from_ne_bytes(c.data()[i..i + 4].try_into().unwrap());
    let (a, b, caller) = (word(0), word(4), word(8));
    assert_eq!((caller, f.pc, f.lr), (c.return_address(), caller, caller));
    assert_eq!(f.sp, c.entry_sp());
    SEEN.lock().unwrap().push((a, b, f.r[0], caller, f.sp));
    f.r[0] += 1000;
}

#[test]
fn entry_replaces_lr_before_the_first_instruction_and_the_return_handler_sees_args_and_result() {
    let e = env();
    let rp = kretprobe::<4, 12>(Some(args_entry), args_return, 9);
    e.t.register(e.k, rp, F).unwrap();
    assert_eq!((rp.addr(), rp.is_registered()), (Some(F), true));
    let mut mem = Mem::default();
    let after = call(&e, &mut mem, F, 0x2000, CALLER, 20, 22);
    let tramp = e.t.trampoline_address() as u32;
    assert_eq!(after.lr, tramp);
    assert_eq!(
        mem.read_u32(0x2000 - 4).unwrap(),
        tramp,
        "the stepped push saved the trampoline, not the caller"
    );
    assert_eq!((rp.outstanding(), rp.hits()), (1, 1));
    let back = ret(&e, after.lr, 0x2000, 42).unwrap();
    assert_eq!((back.pc, back.lr, back.sp), (CALLER, CALLER, 0x2000));
    assert_eq!(back.r[0], 1042, "the return handler's change to r0 is kept");
    assert_eq!(
        SEEN.lock().unwrap().as_slice(),
        [(20, 22, 42, CALLER, 0x2000)]
    );
    assert_eq!((rp.outstanding(), rp.missed()), (0, 0));
    let mut listed = Vec::new();
    e.k.list(|i| listed.push((i.addr, i.data))).unwrap();
    assert_eq!(listed, [(F, 9)], "the entry probe is an ordinary kprobe");
    assert_eq!(e.t.unregister(e.k, rp), Ok(0));
    assert_eq!((e.p.word(F), e.t.len(), rp.addr()), (PUSH_R4_LR, 0, None));
}

static LEVELS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn level_entry(_: &Kretprobe, c: &mut KretprobeInstance<'_>, f: &mut TrapFrame) -> OnEntry {
    c.data_mut()[..4].copy_from_slice(&f.r[0].to_ne_bytes());
    OnEntry::Track
}

fn level_return(_: &Kretprobe, c: &mut KretprobeInstance<'_>, f: &mut TrapFrame) {
    let n = u32::from_ne_bytes(c.data()[..4].try_into().unwrap());
    assert_eq!(f.r[0], n, "each level returns its own argument");
    LEVELS.lock().unwrap().push(n);
}

#[test]
fn a_recursion_50_deep_returns_every_level_to_its_own_caller_innermost_first() {
    let e = env();
    let rp = kretprobe::<64, 4>(Some(level_entry), level_return, 0);
    e.t.register(e.k, rp, F).unwrap();
    let mut mem = Mem::default();
    // Level n is called with r0 = n from return address CALLER + 4n, sp 16 bytes below
    // the level above (its push and a little more).
    let mut lrs = Vec::new();
    for n in (0..50u32).rev() {
        let sp = 0x4000 - 16 * (50 - n);
        let f = call(&e, &mut mem, F, sp, CALLER + 4 * n, n, 0);
        lrs.push((n, sp, f.lr));
    }
    assert_eq!(rp.outstanding(), 50);
    for (n, sp, lr) in lrs.into_iter().rev() {
        let back = ret(&e, lr, sp, n).unwrap();
        assert_eq!(back.pc, CALLER + 4 * n, "level {n} returns to its caller");
    }
    assert_eq!(*LEVELS.lock().unwrap(), (0..50).collect::<Vec<_>>());
    assert_eq!((rp.hits(), rp.missed(), rp.outstanding()), (50, 0, 0));
}

static TAIL: Mutex<Vec<usize>> = Mutex::new(Vec::new());

fn tail_return(p: &Kretprobe, _: &mut KretprobeInstance<'_>, f: &mut TrapFrame) {
    TAIL.lock().unwrap().push(p.data());
    assert_eq!(f.r[0], 5);
}

#[test]
fn a_tail_call_between_followed_functions_returns_through_both_innermost_first() {
    let e = env();
    let (rf, rg) = (
        kretprobe::<2, 0>(None, tail_return, 1),
        kretprobe::<2, 0>(None, tail_return, 2),
    );
    e.t.register(e.k, rf, F).unwrap();
    e.t.register(e.k, rg, G).unwrap();
    let mut mem = Mem::default();
    let tramp = e.t.trampoline_address() as u32;
    let f = call(&e, &mut mem, F, 0x3000, CALLER, 0, 0);
    assert_eq!(f.lr, tramp);
    // f pops its frame and ends with `b g`: g starts at the same sp, lr = trampoline.
    let g = call(&e, &mut mem, G, 0x3000, f.lr, 0, 0);
    assert_eq!((g.lr, rg.hits()), (tramp, 1), "the tail call is followed");
    let first = ret(&e, g.lr, 0x3000, 5).unwrap();
    assert_eq!(
        first.pc, tramp,
        "g's instance returns to the trampoline again"
    );
    let second = ret(&e, first.pc, 0x3000, 5).unwrap();
    assert_eq!(second.pc, CALLER, "then f's instance returns to the caller");
    assert_eq!(*TAIL.lock().unwrap(), [2, 1]);
    assert_eq!((rf.outstanding(), rg.outstanding()), (0, 0));
}

fn count_only(_: &Kretprobe, _: &mut KretprobeInstance<'_>, _: &mut TrapFrame) {}

#[test]
fn an_empty_pool_counts_the_call_missed_and_leaves_it_unmodified() {
    let e = env();
    let rp = kretprobe::<2, 0>(None, count_only, 0);
    e.t.register(e.k, rp, F).unwrap();
    let mut mem = Mem::default();
    let tramp = e.t.trampoline_address() as u32;
    let outer = call(&e, &mut mem, F, 0x2000, CALLER, 0, 0);
    let middle = call(&e, &mut mem, F, 0x1ff0, CALLER + 4, 0, 0);
    let inner = call(&e, &mut mem, F, 0x1fe0, CALLER + 8, 0, 0);
    assert_eq!((outer.lr, middle.lr), (tramp, tramp));
    assert_eq!(inner.lr, CALLER + 8, "no instance: lr untouched");
    assert_eq!((rp.hits(), rp.missed(), rp.outstanding()), (2, 1, 2));
    assert!(ret(&e, inner.lr, 0x1fe0, 0).is_none());
    assert_eq!(ret(&e, middle.lr, 0x1ff0, 0).unwrap().pc, CALLER + 4);
    assert_eq!(ret(&e, outer.lr, 0x2000, 0).unwrap().pc, CALLER);
    // Instances are back: the next call is followed again.
    let again = call(&e, &mut mem, F, 0x2000, CALLER, 0, 0);
    assert_eq!((again.lr, rp.hits()), (tramp, 3));
    ret(&e, again.lr, 0x2000, 0);
}

fn decline_odd(_: &Kretprobe, c: &mut KretprobeInstance<'_>, f: &mut TrapFrame) -> OnEntry {
    c.data_mut()[0] = 0xaa;
    if f.r[0] % 2 == 1 {
        OnEntry::Decline
    } else {
        OnEntry::Track
    }
}

fn data_is_kept(_: &Kretprobe, c: &mut KretprobeInstance<'_>, _: &mut TrapFrame) {
    assert_eq!(c.data(), [0xaa, 0, 0], "3 bytes, as declared");
}

#[test]
fn a_declined_call_runs_unmodified_frees_its_instance_and_is_not_missed() {
    let e = env();
    let rp = kretprobe::<1, 3>(Some(decline_odd), data_is_kept, 0);
    e.t.register(e.k, rp, F).unwrap();
    let mut mem = Mem::default();
    let odd = call(&e, &mut mem, F, 0x2000, CALLER, 1, 0);
    assert_eq!(odd.lr, CALLER);
    assert_eq!((rp.hits(), rp.missed(), rp.outstanding()), (0, 0, 0));
    let even = call(&e, &mut mem, F, 0x2000, CALLER, 2, 0);
    assert_eq!(
        even.lr,
        e.t.trampoline_address() as u32,
        "the one instance is free"
    );
    assert_eq!(ret(&e, even.lr, 0x2000, 0).unwrap().pc, CALLER);
    assert_eq!(rp.hits(), 1);
}

static HANDLED: AtomicU32 = AtomicU32::new(0);

fn count_handled(_: &Kretprobe, _: &mut KretprobeInstance<'_>, _: &mut TrapFrame) {
    HANDLED.fetch_add(1, Ordering::Relaxed);
}

#[test]
fn unregistering_with_calls_in_flight_returns_them_home_without_the_handler() {
    let e = env();
    let rp = kretprobe::<8, 0>(None, count_handled, 0);
    e.t.register(e.k, rp, F).unwrap();
    let mut mem = Mem::default();
    let calls: Vec<_> = (0..3u32)
        .map(|i| {
            let sp = 0x2000 - 16 * i;
            (
                sp,
                CALLER + 4 * i,
                call(&e, &mut mem, F, sp, CALLER + 4 * i, 0, 0).lr,
            )
        })
        .collect();
    assert_eq!(e.t.unregister(e.k, rp), Ok(3), "three calls in flight");
    assert_eq!(e.p.word(F), PUSH_R4_LR, "entry breakpoint gone");
    assert_eq!(
        (rp.outstanding(), e.t.len()),
        (3, 1),
        "kept until they return"
    );
    assert_eq!(e.t.unregister(e.k, rp), Err(KretprobeError::NotRegistered));
    // Registered again while the old calls are in flight: a new call is followed and
    // handled, the old ones only go home.
    e.t.register(e.k, rp, F).unwrap();
    let new = call(&e, &mut mem, F, 0x1000, CALLER + 64, 0, 0);
    assert_eq!(ret(&e, new.lr, 0x1000, 0).unwrap().pc, CALLER + 64);
    assert_eq!(HANDLED.load(Ordering::Relaxed), 1);
    for (sp, caller, lr) in calls.into_iter().rev() {
        assert_eq!(ret(&e, lr, sp, 0).unwrap().pc, caller);
    }
    assert_eq!(
        HANDLED.load(Ordering::Relaxed),
        1,
        "old generation: no handler"
    );
    assert_eq!(rp.outstanding(), 0);
    assert_eq!(e.t.unregister(e.k, rp), Ok(0));
    assert_eq!(e.t.len(), 0, "nothing in flight: the table entry is free");
}

static REENTER: AtomicUsize = AtomicUsize::new(0);

fn call_again(p: &Kretprobe, _: &mut KretprobeInstance<'_>, _: &mut TrapFrame) {
    // The return handler calls the probed function itself (while REENTER is set).
    let k = REENTER.load(Ordering::Relaxed) as *const Reg;
    if k.is_null() {
        return;
    }
    // SAFETY: REENTER holds 0 or the address of a leaked (so `'static`) `Reg`.
    let k = unsafe { &*k };
    let mut f = TrapFrame {
        sp: 0x1800,
        lr: CALLER,
        pc: F as u32,
        cpsr: 0x1f,
        ..Default::default()
    };
    assert_eq!(
        k.handle_undefined(&mut f, &mut Mem::default()),
        Trap::Handled
    );
    assert_eq!(f.lr, CALLER, "not followed: it would recurse without end");
    assert_eq!(p.missed(), 1);
}

#[test]
fn a_call_from_a_return_handler_is_missed_but_calls_from_never_probe_code_are_followed() {
    let e = env();
    REENTER.store(e.k as *const Reg as usize, Ordering::Relaxed);
    let rp = kretprobe::<4, 0>(None, call_again, 0);
    e.t.register(e.k, rp, F).unwrap();
    let mut mem = Mem::default();
    let f = call(&e, &mut mem, F, 0x2000, CALLER, 0, 0);
    assert_eq!(ret(&e, f.lr, 0x2000, 0).unwrap().pc, CALLER);
    assert_eq!((rp.hits(), rp.missed()), (1, 1));
    // Never-probe code (e.g. a measuring loop) may call probed functions.
    let from_noprobe = call(&e, &mut mem, F, 0x2000, NOPROBE as u32 + 8, 0, 0);
    assert_eq!(from_noprobe.lr, e.t.trampoline_address() as u32);
    assert_eq!((rp.hits(), rp.missed(), rp.outstanding()), (2, 1, 1));
    REENTER.store(0, Ordering::Relaxed);
    assert_eq!(
        ret(&e, from_noprobe.lr, 0x2000, 0).unwrap().pc,
        NOPROBE as u32 + 8
    );
}

#[test]
fn four_cores_calling_nested_functions_at_once_return_home_with_exact_counts() {
    let e = env();
    let (rf, rg) = (
        kretprobe::<12, 4>(Some(level_entry), count_only, 0),
        kretprobe::<12, 4>(Some(level_entry), count_only, 0),
    );
    e.t.register(e.k, rf, F).unwrap();
    e.t.register(e.k, rg, G).unwrap();
    const ROUNDS: u32 = 5_000;
    std::thread::scope(|s| {
        for cpu in 0..4u32 {
            let e = &e;
            s.spawn(move || {
                FakePlatform::become_cpu(cpu as usize);
                let mut mem = Mem::default();
                // Each core has its own stack; f calls g calls f.
                let top = 0x10_0000 * (cpu + 1);
                for i in 0..ROUNDS {
                    let c = CALLER + cpu * 0x100 + (i % 16) * 4;
                    let a = call(e, &mut mem, F, top, c, i, 0);
                    let b = call(e, &mut mem, G, top - 16, c + 1, i, 0);
                    let d = call(e, &mut mem, F, top - 32, c + 2, i, 0);
                    assert_eq!(ret(e, d.lr, top - 32, i).unwrap().pc, c + 2);
                    assert_eq!(ret(e, b.lr, top - 16, i).unwrap().pc, c + 1);
                    assert_eq!(ret(e, a.lr, top, i).unwrap().pc, c);
                }
            });
        }
    });
    assert_eq!(
        (rf.hits(), rg.hits()),
        (8 * ROUNDS as u64, 4 * ROUNDS as u64)
    );
    assert_eq!((rf.missed(), rg.missed()), (0, 0));
    assert_eq!((rf.outstanding(), rg.outstanding()), (0, 0));
}

#[test]
#[should_panic(expected = "no call in flight entered with sp 0x00002000")]
fn a_return_nobody_entered_panics_instead_of_branching_anywhere() {
    let e = env();
    let mut f = TrapFrame {
        sp: 0x2000,
        ..Default::default()
    };
    e.t.handle_return(&mut f);
}

#[test]
fn every_registration_error_leaves_probe_table_and_text_unchanged() {
    let e = env();
    let rp = kretprobe::<2, 0>(None, count_only, 0);
    let before: Vec<u32> = (0..128).map(|i| e.p.word(TEXT + 4 * i)).collect();
    assert_eq!(
        e.t.register(e.k, rp, F + 2),
        Err(KretprobeError::Kprobe(KprobeError::Misaligned {
            addr: F + 2
        }))
    );
    assert_eq!(
        e.t.register(e.k, rp, NOPROBE),
        Err(KretprobeError::Kprobe(KprobeError::NeverProbe {
            addr: NOPROBE,
            range: (NOPROBE, NOPROBE + 16)
        }))
    );
    e.p.set_word(TEXT + 32, 0xe190_0f9f); // ldrex r0, [r0]
    assert_eq!(
        e.t.register(e.k, rp, TEXT + 32),
        Err(KretprobeError::Kprobe(KprobeError::Rejected {
            addr: TEXT + 32,
            word: 0xe190_0f9f,
            reason: RejectReason::Exclusive
        }))
    );
    e.p.set_word(TEXT + 32, before[8]);
    // With IRQs masked (from a handler): refused before any lock is taken.
    let irq = e.p.mask_interrupts();
    let masked = KretprobeError::Kprobe(KprobeError::InterruptsMasked { cpu: 0 });
    assert_eq!(e.t.register(e.k, rp, F), Err(masked));
    assert_eq!(e.t.unregister(e.k, rp), Err(masked));
    e.p.restore_interrupts(irq);
    assert_eq!((rp.is_registered(), e.t.len(), rp.hits()), (false, 0, 0));
    assert_eq!(e.t.unregister(e.k, rp), Err(KretprobeError::NotRegistered));
    e.t.register(e.k, rp, F).unwrap();
    assert_eq!(
        e.t.register(e.k, rp, G),
        Err(KretprobeError::AlreadyRegistered { addr: F })
    );
    // A second table: the probe belongs to the first.
    let other: &'static Kretprobes<FakePlatform> = Box::leak(Box::new(Kretprobes::new(e.p)));
    assert_eq!(other.unregister(e.k, rp), Err(KretprobeError::OtherTable));
    e.t.unregister(e.k, rp).unwrap();
    assert_eq!(other.register(e.k, rp, G), Err(KretprobeError::OtherTable));
    assert_eq!(other.len(), 0);
    // A full table.
    for i in 0..MAX_KRETPROBES {
        let p = kretprobe::<1, 0>(None, count_only, i);
        e.t.register(e.k, p, TEXT + 64 + 4 * (i % 8))
            .unwrap_or_else(|err| {
                // The kprobe registry (8 addresses, 8 probes each) holds them all.
                panic!("probe {i}: {err}")
            });
    }
    assert_eq!(e.t.register(e.k, rp, F), Err(KretprobeError::TableFull));
    assert_eq!((rp.is_registered(), e.t.len()), (false, MAX_KRETPROBES));
    let after: Vec<u32> = (0..8).map(|i| e.p.word(TEXT + 4 * i)).collect();
    assert_eq!(after, before[..8], "F and G untouched");
}

#[test]
fn private_data_has_the_declared_size_and_8_byte_alignment() {
    let rp = kretprobe::<3, 5>(None, count_only, 0);
    let empty = kretprobe::<3, 0>(None, count_only, 0);
    assert_eq!(
        (rp.capacity(), rp.private_size, rp.private_stride),
        (3, 5, 8)
    );
    assert_eq!((empty.private_size, empty.private_stride), (0, 0));
    for i in 0..3 {
        assert_eq!(rp.claim(), Some(i));
        // SAFETY: instance i was just claimed by this thread.
        let mut c = unsafe { rp.instance(i) };
        assert_eq!(c.data_mut().len(), 5);
        assert!((c.data().as_ptr() as usize).is_multiple_of(8));
    }
    assert_eq!(rp.claim(), None, "the pool holds exactly 3");
}

#[test]
fn kretprobe_errors_read_as_sentences() {
    let all = [
        KretprobeError::Kprobe(KprobeError::OutOfSites),
        KretprobeError::AlreadyRegistered { addr: 4 },
        KretprobeError::NotRegistered,
        KretprobeError::OtherTable,
        KretprobeError::TableFull,
        KretprobeError::ReturnPathTaken,
    ];
    let texts: Vec<_> = all.iter().map(|e| e.to_string()).collect();
    for (i, t) in texts.iter().enumerate() {
        assert!(!t.is_empty() && !texts[..i].contains(t), "{t}");
    }
}

#[test]
fn hits_survive_unregistering_and_a_refused_registration_and_restart_at_the_next() {
    let e = env();
    let rp = kretprobe::<2, 0>(None, count_only, 0);
    e.t.register(e.k, rp, F).unwrap();
    let mut mem = Mem::default();
    for _ in 0..3 {
        let f = call(&e, &mut mem, F, 0x2000, CALLER, 0, 0);
        ret(&e, f.lr, 0x2000, 0).unwrap();
    }
    // One not followed (the pool is empty for the third call in flight).
    let outer = call(&e, &mut mem, F, 0x2000, CALLER, 0, 0);
    let inner = call(&e, &mut mem, F, 0x1ff0, CALLER, 0, 0);
    let missed = call(&e, &mut mem, F, 0x1fe0, CALLER, 0, 0);
    assert_eq!(missed.lr, CALLER);
    ret(&e, inner.lr, 0x1ff0, 0).unwrap();
    ret(&e, outer.lr, 0x2000, 0).unwrap();
    assert_eq!((rp.hits(), rp.missed()), (5, 1));
    e.t.unregister(e.k, rp).unwrap();
    assert_eq!((rp.hits(), rp.missed()), (5, 1), "kept after unregistering");
    assert!(e.t.register(e.k, rp, NOPROBE).is_err());
    assert_eq!(
        (rp.hits(), rp.missed()),
        (5, 1),
        "kept after a refused registration"
    );
    e.t.register(e.k, rp, F).unwrap();
    assert_eq!(
        (rp.hits(), rp.missed()),
        (0, 0),
        "a registration starts at 0"
    );
    let f = call(&e, &mut mem, F, 0x2000, CALLER, 0, 0);
    ret(&e, f.lr, 0x2000, 0).unwrap();
    assert_eq!((rp.hits(), rp.missed()), (1, 0));
}

static DISABLE_HANDLED: AtomicUsize = AtomicUsize::new(0);

fn count_disable_handled(_: &Kretprobe, _: &mut KretprobeInstance<'_>, _: &mut TrapFrame) {
    DISABLE_HANDLED.fetch_add(1, Ordering::Relaxed);
}

#[test]
fn a_disabled_return_probe_follows_no_new_call_keeps_its_counts_and_returns_calls_in_flight() {
    let e = env();
    let rp = kretprobe::<4, 0>(None, count_disable_handled, 0);
    e.t.register(e.k, rp, F).unwrap();
    let mut mem = Mem::default();
    let first = call(&e, &mut mem, F, 0x2000, CALLER, 0, 0);
    assert_eq!(e.t.disable(e.k, rp), Ok(()));
    assert_eq!(rp.state(), ProbeState::Disabled);
    assert_eq!(e.p.word(F), PUSH_R4_LR, "entry breakpoint gone");
    assert_eq!(e.t.disable(e.k, rp), Ok(()), "disabling twice does nothing");
    // The call followed before still comes home through the trampoline, handled.
    assert_eq!(ret(&e, first.lr, 0x2000, 7).unwrap().pc, CALLER);
    assert_eq!(DISABLE_HANDLED.load(Ordering::Relaxed), 1);
    assert_eq!(
        (rp.hits(), rp.outstanding(), rp.is_registered()),
        (1, 0, true)
    );
    // Enabled again: the breakpoint is back and calls are followed, counts continue.
    assert_eq!(e.t.enable(e.k, rp), Ok(()));
    assert_eq!(e.t.enable(e.k, rp), Ok(()), "enabling twice does nothing");
    assert_eq!(rp.state(), ProbeState::Enabled);
    assert_ne!(e.p.word(F), PUSH_R4_LR, "entry breakpoint back");
    let second = call(&e, &mut mem, F, 0x2000, CALLER + 4, 0, 0);
    assert_eq!(ret(&e, second.lr, 0x2000, 7).unwrap().pc, CALLER + 4);
    assert_eq!((rp.hits(), DISABLE_HANDLED.load(Ordering::Relaxed)), (2, 2));
    // Unregistering a disabled probe works too.
    e.t.disable(e.k, rp).unwrap();
    assert_eq!(e.t.unregister(e.k, rp), Ok(0));
    assert_eq!(rp.state(), ProbeState::Unregistered);
    assert_eq!(e.p.word(F), PUSH_R4_LR);
}

#[test]
fn enable_and_disable_refuse_a_probe_that_is_not_this_tables_and_change_nothing() {
    let e = env();
    let rp = kretprobe::<2, 0>(None, count_only, 0);
    assert_eq!(e.t.disable(e.k, rp), Err(KretprobeError::NotRegistered));
    assert_eq!(e.t.enable(e.k, rp), Err(KretprobeError::NotRegistered));
    e.t.register(e.k, rp, F).unwrap();
    let other: &'static Kretprobes<FakePlatform> = Box::leak(Box::new(Kretprobes::new(e.p)));
    assert_eq!(other.disable(e.k, rp), Err(KretprobeError::OtherTable));
    assert_eq!(other.enable(e.k, rp), Err(KretprobeError::OtherTable));
    let irq = e.p.mask_interrupts();
    let masked = KretprobeError::Kprobe(KprobeError::InterruptsMasked { cpu: 0 });
    assert_eq!(e.t.disable(e.k, rp), Err(masked));
    e.p.restore_interrupts(irq);
    assert_eq!(rp.state(), ProbeState::Enabled);
    assert_ne!(e.p.word(F), PUSH_R4_LR, "still armed");
    e.t.unregister(e.k, rp).unwrap();
}

struct Functions;

impl SymbolLookup for Functions {
    fn lookup(&self, name: &str) -> Option<core::ops::Range<usize>> {
        (name == "g").then_some(G..G + 16)
    }
}

#[test]
fn a_return_probe_registers_by_symbol_at_the_functions_first_instruction() {
    let e = env();
    let rp = kretprobe::<2, 0>(None, count_only, 0);
    let before: Vec<u32> = (0..128).map(|i| e.p.word(TEXT + 4 * i)).collect();
    assert_eq!(
        e.t.register_symbol(e.k, rp, &Functions, "nope"),
        Err(KretprobeError::Kprobe(KprobeError::UnknownSymbol))
    );
    assert_eq!((rp.is_registered(), e.t.len()), (false, 0));
    assert_eq!(
        (0..128).map(|i| e.p.word(TEXT + 4 * i)).collect::<Vec<_>>(),
        before,
        "an unknown name changes no text"
    );
    e.t.register_symbol(e.k, rp, &Functions, "g").unwrap();
    assert_eq!(rp.addr(), Some(G));
    let mut mem = Mem::default();
    let f = call(&e, &mut mem, G, 0x2000, CALLER, 0, 0);
    assert_eq!(ret(&e, f.lr, 0x2000, 0).unwrap().pc, CALLER);
    assert_eq!(rp.hits(), 1);
    e.t.unregister(e.k, rp).unwrap();
}
