//! Model check of the rendezvous protocol with loom: every interleaving (up to the
//! preemption bound) of 2 and 3 CPUs, in one-CPU and all-CPU modes, a nested call, two
//! concurrent initiators, registry-lock waiters, and a CPU coming online or going
//! offline (invited or not) while a rendezvous starts.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test --profile loom --lib loom_`
//! (`tests/heavy/loom_rendezvous.rs` does that as part of `cargo test`). A deadlock or a lost
//! wake-up shows up as loom's deadlock report or as exceeding its branch limit; a CPU
//! that leaves early or misses the callback's effects fails an assertion.
//!
//! The callback counts with *relaxed* atomics on purpose: any CPU that sees the full
//! count after leaving sees it only because the protocol's own acquire/release chain
//! ordered it, which loom checks.

use super::*;
use crate::platform::{CpuSet, InterruptState, Platform};
use crate::sync::Doorbell;
use core::ops::Range;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, AtomicU32};
use loom::thread;
use std::cell::Cell;
use std::vec::Vec;

loom::thread_local! {
    static CPU: Cell<usize> = Cell::new(0);
    static MASKED: Cell<bool> = Cell::new(false);
}

fn become_cpu(cpu: usize) {
    CPU.with(|c| c.set(cpu));
}

fn masked() -> bool {
    MASKED.with(|m| m.get())
}

/// CPUs as loom threads; an IPI is a pending bit the idle thread polls.
struct ModelPlatform {
    online: AtomicU32,
    pending_ipis: AtomicU32,
    doorbell: Doorbell,
}

impl ModelPlatform {
    fn new(cpus: usize) -> Self {
        ModelPlatform {
            online: AtomicU32::new(CpuSet::first(cpus).bits()),
            pending_ipis: AtomicU32::new(0),
            doorbell: waits_for(cpus),
        }
    }

    /// What a kernel's hotplug closure does: adds or removes `cpu`.
    fn set_online(&self, cpu: usize, online: bool) {
        let me = CpuSet::single(cpu).bits();
        if online {
            self.online.fetch_or(me, Ordering::AcqRel);
        } else {
            self.online.fetch_and(!me, Ordering::AcqRel);
        }
    }

    fn take_pending_ipi(&self) -> bool {
        let me = CpuSet::single(self.cpu_id()).bits();
        self.pending_ipis.fetch_and(!me, Ordering::AcqRel) & me != 0
    }

    /// Waits for this CPU's IPI and takes it.
    fn wait_for_ipi(&self) {
        // Load until the bit shows, then take it: a read-modify-write in the loop would
        // make every spin of two idle CPUs a race for loom to permute.
        let me = CpuSet::single(self.cpu_id()).bits();
        loop {
            let ticket = self.doorbell.ticket();
            if self.pending_ipis.load(Ordering::Acquire) & me != 0 {
                break;
            }
            self.doorbell.wait(ticket);
        }
        assert!(self.take_pending_ipi());
    }
}

impl Platform for ModelPlatform {
    fn cpu_id(&self) -> usize {
        CPU.with(|c| c.get())
    }
    fn online_cpus(&self) -> CpuSet {
        CpuSet::from_bits(self.online.load(Ordering::Acquire))
    }
    fn send_ipi(&self, targets: CpuSet) {
        self.pending_ipis.fetch_or(targets.bits(), Ordering::AcqRel);
        self.doorbell.ring();
    }
    fn mask_interrupts(&self) -> InterruptState {
        InterruptState(MASKED.with(|m| m.replace(true)) as u32)
    }
    fn restore_interrupts(&self, previous: InterruptState) {
        MASKED.with(|m| m.set(previous.0 != 0));
    }
    fn interrupts_masked(&self) -> bool {
        masked()
    }
    fn kernel_text(&self) -> Range<usize> {
        0..0
    }
    fn never_probe(&self) -> &[Range<usize>] {
        &[]
    }
    fn slot_region(&self) -> Range<usize> {
        0..0
    }
    fn text_alias(&self, addr: usize) -> *mut u32 {
        unreachable!("the protocol model writes no text ({addr:#x})")
    }
}

/// Barriers are not what loom checks: the protocol's atomics are.
struct NoCacheOps;

impl CacheOps for NoCacheOps {
    fn maintenance_is_broadcast(&self) -> bool {
        true
    }
    unsafe fn store_text_word(&self, _: usize, _: *mut u32, _: u32) {
        unreachable!("the protocol model writes no text")
    }
    fn clean_dcache_line_to_pou(&self, _: usize) {}
    fn dsb_ish(&self) {}
    fn invalidate_icache_line_to_pou(&self, _: usize) {}
    fn invalidate_icache_all_local(&self) {}
    fn invalidate_branch_predictors_inner_shareable(&self) {}
    fn invalidate_branch_predictors_local(&self) {}
    fn isb(&self) {}
}

/// Two CPUs spin, as on the target; three block (see `sync::Doorbell`).
fn waits_for(cpus: usize) -> Doorbell {
    if cpus > 2 {
        Doorbell::blocking()
    } else {
        Doorbell::new()
    }
}

fn rendezvous_for(cpus: usize) -> Rendezvous<NoCacheOps> {
    if cpus > 2 {
        Rendezvous::with_blocking_waits(NoCacheOps)
    } else {
        Rendezvous::new(NoCacheOps)
    }
}

fn check(model: impl Fn() + Sync + Send + 'static) {
    check_bounded(1_000, 2, model)
}

/// [`check`] allowing `max_branches` scheduling decisions per execution (models whose
/// CPUs spin, rather than block, need more than loom's default) and `preemptions`
/// preemptions unless LOOM_MAX_PREEMPTIONS says otherwise.
fn check_bounded(
    max_branches: usize,
    preemptions: usize,
    model: impl Fn() + Sync + Send + 'static,
) {
    let mut builder = loom::model::Builder::new();
    builder.max_branches = max_branches;
    // LOOM_MAX_PREEMPTIONS wins when set; otherwise keep the run bounded.
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(preemptions);
    }
    builder.check(model);
}

/// CPU 0 runs one rendezvous; CPUs `1..cpus` each wait for their IPI and must find the
/// invitation (no lost wake-up), and must see every callback finished when they leave.
fn one_rendezvous(cpus: usize, on: RunOn) {
    check(move || {
        let platform = Arc::new(ModelPlatform::new(cpus));
        let rv = Arc::new(rendezvous_for(cpus));
        let calls = Arc::new(AtomicU32::new(0));
        let expected = match on {
            RunOn::OneCpu(_) => 1,
            RunOn::AllCpus => cpus as u32,
        };
        let idle: Vec<_> = (1..cpus)
            .map(|cpu| {
                let (platform, rv, calls) = (platform.clone(), rv.clone(), calls.clone());
                thread::spawn(move || {
                    become_cpu(cpu);
                    platform.wait_for_ipi();
                    assert!(
                        rv.ipi_entry(&*platform),
                        "CPU {cpu} took the IPI but found no invitation"
                    );
                    assert_eq!(
                        calls.load(Ordering::Relaxed),
                        expected,
                        "CPU {cpu} left before the callback finished"
                    );
                    assert!(!masked(), "CPU {cpu} left with interrupts masked");
                })
            })
            .collect();
        become_cpu(0);
        rv.run(&*platform, on, &|cpu| {
            assert!(
                masked(),
                "callback on CPU {cpu} ran with interrupts enabled"
            );
            assert!(on.includes(cpu), "callback ran on CPU {cpu}");
            calls.fetch_add(1, Ordering::Relaxed);
        })
        .unwrap();
        assert_eq!(calls.load(Ordering::Relaxed), expected);
        assert!(!masked());
        for cpu in idle {
            cpu.join().unwrap();
        }
    });
}

/// A callback on every CPU tries to start a rendezvous: each gets an error, and the
/// outer rendezvous completes.
fn nested_rendezvous(cpus: usize) {
    check(move || {
        let platform = Arc::new(ModelPlatform::new(cpus));
        let rv = Arc::new(rendezvous_for(cpus));
        let refused = Arc::new(AtomicU32::new(0));
        let callback = {
            let (platform, rv, refused) = (platform.clone(), rv.clone(), refused.clone());
            move |cpu: usize| {
                let r = rv.run(&*platform, RunOn::AllCpus, &|_| {});
                assert_eq!(r, Err(RendezvousError::NestedInCallback { cpu }));
                refused.fetch_add(1, Ordering::Relaxed);
            }
        };
        let idle: Vec<_> = (1..cpus)
            .map(|cpu| {
                let (platform, rv) = (platform.clone(), rv.clone());
                thread::spawn(move || {
                    become_cpu(cpu);
                    platform.wait_for_ipi();
                    assert!(rv.ipi_entry(&*platform));
                })
            })
            .collect();
        become_cpu(0);
        rv.run(&*platform, RunOn::AllCpus, &callback).unwrap();
        for cpu in idle {
            cpu.join().unwrap();
        }
        assert_eq!(refused.load(Ordering::Relaxed), cpus as u32);
    });
}

#[test]
fn loom_one_cpu_mode_2_cpus() {
    one_rendezvous(2, RunOn::OneCpu(1));
}

#[test]
fn loom_all_cpus_mode_2_cpus() {
    one_rendezvous(2, RunOn::AllCpus);
}

#[test]
fn loom_one_cpu_mode_3_cpus() {
    one_rendezvous(3, RunOn::OneCpu(2));
}

#[test]
fn loom_all_cpus_mode_3_cpus() {
    one_rendezvous(3, RunOn::AllCpus);
}

#[test]
fn loom_nested_call_refused_2_cpus() {
    nested_rendezvous(2);
}

#[test]
fn loom_nested_call_refused_3_cpus() {
    nested_rendezvous(3);
}

/// Both CPUs start a rendezvous at once and then keep answering IPIs: both complete,
/// their callbacks never overlap, and nothing deadlocks although neither initiator's
/// IPI can interrupt the other's spin on the lock.
#[test]
fn loom_concurrent_initiators_serialized_2_cpus() {
    check(|| {
        let platform = Arc::new(ModelPlatform::new(2));
        let rv = Arc::new(Rendezvous::new(NoCacheOps));
        let in_callback = Arc::new(AtomicBool::new(false));
        let calls = Arc::new(AtomicU32::new(0));
        let done = Arc::new(AtomicU32::new(0));
        let cpu_body = {
            let (platform, rv) = (platform.clone(), rv.clone());
            let (in_callback, calls, done) = (in_callback.clone(), calls.clone(), done.clone());
            move |cpu: usize| {
                become_cpu(cpu);
                rv.run(&*platform, RunOn::OneCpu(cpu), &|_| {
                    assert!(
                        !in_callback.swap(true, Ordering::Relaxed),
                        "callbacks overlapped"
                    );
                    calls.fetch_add(1, Ordering::Relaxed);
                    in_callback.store(false, Ordering::Relaxed);
                })
                .unwrap();
                done.fetch_add(1, Ordering::AcqRel);
                while done.load(Ordering::Acquire) < 2 {
                    if platform.take_pending_ipi() {
                        rv.ipi_entry(&*platform);
                    }
                    thread::yield_now();
                }
            }
        };
        let other = {
            let cpu_body = cpu_body.clone();
            thread::spawn(move || cpu_body(1))
        };
        cpu_body(0);
        other.join().unwrap();
        assert_eq!(calls.load(Ordering::Relaxed), 2);
    });
}

/// The registry-lock rule (`spin_lock`): CPU 0 holds a registry lock and runs a
/// rendezvous under it; CPU 1 calls into the registry first with IRQs masked (refused at
/// once: it could not answer the IPI) and then unmasked (it waits, joining the
/// rendezvous from its spin, and gets the lock); further CPUs are idle and take the IPI.
/// Every interleaving ends, with both critical sections run once and never overlapping.
fn registry_lock_model(cpus: usize) {
    use crate::spin_lock::{LockRefused, SpinLock};
    // Three spinning CPUs explode the state space: one preemption there (every
    // interleaving with at most one is), two with two CPUs.
    let preemptions = if cpus > 2 { 1 } else { 2 };
    check_bounded(10_000, preemptions, move || {
        let platform = Arc::new(ModelPlatform::new(cpus));
        let rv = Arc::new(rendezvous_for(cpus));
        let lock = Arc::new(SpinLock::new(0u32));
        let finished = Arc::new(AtomicBool::new(false));
        let caller = {
            let (platform, rv, lock) = (platform.clone(), rv.clone(), lock.clone());
            let finished = finished.clone();
            thread::spawn(move || {
                become_cpu(1);
                let irq = platform.mask_interrupts();
                assert_eq!(
                    lock.lock(&*platform, &*rv).err(),
                    Some(LockRefused::InterruptsMasked { cpu: 1 })
                );
                platform.restore_interrupts(irq);
                {
                    let mut g = lock.lock(&*platform, &*rv).expect("unmasked: waits");
                    *g += 1;
                }
                // Take the IPI if the spin did not already join CPU 0's rendezvous.
                while !finished.load(Ordering::Acquire) {
                    if platform.take_pending_ipi() {
                        rv.ipi_entry(&*platform);
                    }
                    thread::yield_now();
                }
            })
        };
        let idle: Vec<_> = (2..cpus)
            .map(|cpu| {
                let (platform, rv) = (platform.clone(), rv.clone());
                thread::spawn(move || {
                    become_cpu(cpu);
                    platform.wait_for_ipi();
                    assert!(rv.ipi_entry(&*platform));
                })
            })
            .collect();
        become_cpu(0);
        {
            let mut g = lock.lock(&*platform, &*rv).unwrap();
            assert_eq!(
                lock.lock(&*platform, &*rv).err(),
                Some(LockRefused::HeldByThisCpu { cpu: 0 })
            );
            rv.run(&*platform, RunOn::OneCpu(0), &|_| {}).unwrap();
            *g += 1;
        }
        finished.store(true, Ordering::Release);
        caller.join().unwrap();
        for cpu in idle {
            cpu.join().unwrap();
        }
        assert_eq!(*lock.lock(&*platform, &*rv).unwrap(), 2);
    });
}

#[test]
fn loom_registry_lock_waiters_never_block_a_rendezvous_2_cpus() {
    registry_lock_model(2);
}

#[test]
fn loom_registry_lock_waiters_never_block_a_rendezvous_3_cpus() {
    registry_lock_model(3);
}

/// CPU 1 is offline and comes online while CPU 0 runs a rendezvous on all CPUs. Either
/// it joined the online set before the rendezvous took its snapshot (then it is invited
/// and runs the callback) or after the rendezvous ended: never in between, so the
/// callback runs on exactly the CPUs that were online throughout.
#[test]
fn loom_cpu_coming_online_during_a_rendezvous() {
    check(|| {
        let platform = Arc::new(ModelPlatform::new(1));
        let rv = Arc::new(Rendezvous::new(NoCacheOps));
        let calls = Arc::new(AtomicU32::new(0));
        let calls_when_marked = Arc::new(AtomicU32::new(u32::MAX));
        let done = Arc::new(AtomicBool::new(false));
        let newcomer = {
            let (platform, rv) = (platform.clone(), rv.clone());
            let (calls, calls_when_marked, done) =
                (calls.clone(), calls_when_marked.clone(), done.clone());
            thread::spawn(move || {
                become_cpu(1);
                platform.mask_interrupts();
                rv.cpu_online(&*platform, || {
                    calls_when_marked.store(calls.load(Ordering::Relaxed), Ordering::Relaxed);
                    platform.set_online(1, true);
                })
                .unwrap();
                platform.restore_interrupts(InterruptState(0));
                // Online: answer the IPI of a rendezvous that counts this CPU.
                while !done.load(Ordering::Acquire) {
                    if platform.take_pending_ipi() {
                        rv.ipi_entry(&*platform);
                    }
                    thread::yield_now();
                }
            })
        };
        become_cpu(0);
        rv.run(&*platform, RunOn::AllCpus, &|_| {
            calls.fetch_add(1, Ordering::Relaxed);
        })
        .unwrap();
        let total = calls.load(Ordering::Relaxed);
        done.store(true, Ordering::Release);
        newcomer.join().unwrap();
        match calls_when_marked.load(Ordering::Relaxed) {
            0 => assert_eq!(total, 2, "online before the rendezvous, but not in it"),
            1 => assert_eq!(total, 1),
            n => panic!("CPU 1 joined the online set with {n} callbacks run"),
        }
    });
}

/// CPU 1 goes offline while CPU 0 starts a rendezvous on all CPUs; CPU 1 never takes
/// an IPI (interrupts masked). If the rendezvous counted it, its wait for the lock joins
/// it, and it leaves only after; otherwise it left before the snapshot. Nothing hangs.
#[test]
fn loom_cpu_going_offline_while_invited() {
    check(|| {
        let platform = Arc::new(ModelPlatform::new(2));
        let rv = Arc::new(Rendezvous::new(NoCacheOps));
        let calls = Arc::new(AtomicU32::new(0));
        let calls_when_marked = Arc::new(AtomicU32::new(u32::MAX));
        let leaver = {
            let (platform, rv) = (platform.clone(), rv.clone());
            let (calls, calls_when_marked) = (calls.clone(), calls_when_marked.clone());
            thread::spawn(move || {
                become_cpu(1);
                platform.mask_interrupts();
                rv.cpu_offline(&*platform, || {
                    calls_when_marked.store(calls.load(Ordering::Relaxed), Ordering::Relaxed);
                    platform.set_online(1, false);
                })
                .unwrap();
            })
        };
        become_cpu(0);
        rv.run(&*platform, RunOn::AllCpus, &|_| {
            calls.fetch_add(1, Ordering::Relaxed);
        })
        .unwrap();
        leaver.join().unwrap();
        let total = calls.load(Ordering::Relaxed);
        match calls_when_marked.load(Ordering::Relaxed) {
            0 => assert_eq!(total, 1, "offline before the rendezvous, yet counted"),
            2 => assert_eq!(total, 2),
            n => panic!("CPU 1 left the online set with {n} callbacks run"),
        }
    });
}
