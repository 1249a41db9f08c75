//! The hotplug hooks with threads as CPUs against the fake platform: what each hook
//! does on its CPU, every refusal, and CPUs coming and going while rendezvous run.

use super::*;
use crate::fakes::{CacheOp, FakeCacheOps, FakePlatform};
use crate::platform::InterruptState;
use crate::stop_machine::RunOn;
use crate::stop_machine::tests::within_deadline;
use std::format;
use std::string::ToString;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::thread;
use std::time::Duration;
use std::vec::Vec;

type FakeRendezvous = Rendezvous<FakeCacheOps>;

fn fake(cpus: usize) -> FakePlatform {
    FakePlatform::new(0x8000, 64, 0x10_0000, 64, cpus)
}

fn rendezvous() -> FakeRendezvous {
    Rendezvous::new(FakeCacheOps::new(true))
}

/// The calling thread becomes `cpu` with interrupts masked, as a hook's caller is.
fn become_masked_cpu(fake: &FakePlatform, cpu: usize) {
    FakePlatform::become_cpu(cpu);
    fake.mask_interrupts();
}

const INVALIDATE: [CacheOp; 4] = [
    CacheOp::Iciallu,
    CacheOp::Bpiall,
    CacheOp::DsbIsh,
    CacheOp::Isb,
];

#[test]
fn cpu_online_invalidates_its_instruction_side_then_marks_it_online() {
    let fake = fake(4);
    fake.set_online(3, false);
    let rv = rendezvous();
    become_masked_cpu(&fake, 3);
    let log_when_marked = std::cell::RefCell::new(Vec::new());
    rv.cpu_online(&fake, || {
        *log_when_marked.borrow_mut() = rv.cache_ops().log(3);
        fake.set_online(3, true);
    })
    .unwrap();
    assert_eq!(
        *log_when_marked.borrow(),
        INVALIDATE,
        "ICIALLU, BPIALL, DSB, ISB before the CPU counts as online"
    );
    assert_eq!(rv.cache_ops().log(3), INVALIDATE, "and nothing else");
    assert_eq!(fake.online_cpus(), CpuSet::first(4));
    // The lock is free again: a rendezvous runs, and counts CPU 3.
    FakePlatform::become_cpu(0);
    let stop = AtomicBool::new(false);
    thread::scope(|s| {
        let idle: Vec<_> = (1..4)
            .map(|cpu| {
                let (fake, rv, stop) = (&fake, &rv, &stop);
                s.spawn(move || fake.serve_ipis_until(cpu, rv, stop))
            })
            .collect();
        let calls = AtomicUsize::new(0);
        rv.run(&fake, RunOn::AllCpus, &|_| {
            calls.fetch_add(1, SeqCst);
        })
        .unwrap();
        stop.store(true, SeqCst);
        assert_eq!(calls.load(SeqCst), 4);
        let joined: Vec<usize> = idle.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(joined, [1, 1, 1]);
    });
}

#[test]
fn cpu_offline_marks_it_offline_and_later_rendezvous_do_not_wait_for_it() {
    within_deadline(|| {
        let fake = fake(2);
        let rv = rendezvous();
        thread::scope(|s| {
            s.spawn(|| {
                become_masked_cpu(&fake, 1);
                rv.cpu_offline(&fake, || fake.set_online(1, false)).unwrap();
            })
            .join()
            .unwrap();
            assert_eq!(fake.online_cpus(), CpuSet::single(0));
            // CPU 1 is gone (no thread answers for it): a rendezvous still completes.
            FakePlatform::become_cpu(0);
            let calls = AtomicUsize::new(0);
            rv.run(&fake, RunOn::AllCpus, &|cpu| {
                assert_eq!(cpu, 0);
                calls.fetch_add(1, SeqCst);
            })
            .unwrap();
            assert_eq!(calls.load(SeqCst), 1);
            assert!(fake.take_ipis().is_empty(), "no IPI to an offline CPU");
        });
    });
}

/// A CPU already invited (its IPI sent, interrupts masked so it never takes it) calls
/// `cpu_offline`: its wait for the lock answers the invitation, the rendezvous
/// completes with it, and only then does it leave.
#[test]
fn an_invited_cpu_going_offline_first_completes_the_rendezvous() {
    within_deadline(|| {
        let fake = fake(2);
        let rv = rendezvous();
        let in_callback = AtomicBool::new(false);
        let callbacks = AtomicUsize::new(0);
        let online_when_marked = AtomicUsize::new(usize::MAX);
        thread::scope(|s| {
            s.spawn(|| {
                FakePlatform::become_cpu(0);
                rv.run(&fake, RunOn::AllCpus, &|_| {
                    in_callback.store(true, SeqCst);
                    callbacks.fetch_add(1, SeqCst);
                    thread::sleep(Duration::from_millis(20));
                })
                .unwrap();
            });
            become_masked_cpu(&fake, 1);
            // Wait until CPU 0 is inside its rendezvous, which counts CPU 1.
            while !fake.take_pending_ipi() {
                thread::yield_now();
            }
            rv.cpu_offline(&fake, || {
                online_when_marked.store(callbacks.load(SeqCst), SeqCst);
                fake.set_online(1, false);
            })
            .unwrap();
        });
        assert_eq!(callbacks.load(SeqCst), 2, "both CPUs ran the callback");
        assert_eq!(
            online_when_marked.load(SeqCst),
            2,
            "CPU 1 left only after the rendezvous it was invited to"
        );
        assert_eq!(fake.online_cpus(), CpuSet::single(0));
    });
}

/// A CPU coming online while a rendezvous runs waits for it to end, is not part of it,
/// and is part of the next one.
#[test]
fn a_cpu_coming_online_during_a_rendezvous_waits_for_its_end() {
    within_deadline(|| {
        let fake = fake(3);
        fake.set_online(2, false);
        let rv = rendezvous();
        let rendezvous_done = AtomicBool::new(false);
        let in_callback = AtomicBool::new(false);
        let done_when_marked = AtomicBool::new(false);
        let callers = std::sync::Mutex::new(Vec::new());
        let stop = AtomicBool::new(false);
        thread::scope(|s| {
            s.spawn(|| fake.serve_ipis_until(1, &rv, &stop));
            let initiator = s.spawn(|| {
                FakePlatform::become_cpu(0);
                rv.run(&fake, RunOn::AllCpus, &|cpu| {
                    callers.lock().unwrap().push(cpu);
                    in_callback.store(true, SeqCst);
                    thread::sleep(Duration::from_millis(50));
                })
                .unwrap();
                rendezvous_done.store(true, SeqCst);
                fake.serve_ipis_until(0, &rv, &stop)
            });
            become_masked_cpu(&fake, 2);
            while !in_callback.load(SeqCst) {
                thread::yield_now();
            }
            rv.cpu_online(&fake, || {
                // `run` may not have returned yet, but its rendezvous is over: the
                // callback finished on every participant.
                done_when_marked.store(callers.lock().unwrap().len() == 2, SeqCst);
                fake.set_online(2, true);
            })
            .unwrap();
            while !rendezvous_done.load(SeqCst) {
                thread::yield_now();
            }
            // The next rendezvous, started by the new CPU, counts all three.
            fake.restore_interrupts(InterruptState(0));
            let calls = AtomicUsize::new(0);
            let result = rv.run(&fake, RunOn::AllCpus, &|_| {
                calls.fetch_add(1, SeqCst);
            });
            stop.store(true, SeqCst);
            assert_eq!(result, Ok(()));
            assert_eq!(calls.load(SeqCst), 3);
            assert_eq!(
                initiator.join().unwrap(),
                1,
                "CPU 0 joined CPU 2's rendezvous"
            );
        });
        assert!(done_when_marked.load(SeqCst));
        let mut callers = callers.into_inner().unwrap();
        callers.sort();
        assert_eq!(
            callers,
            [0, 1],
            "the new CPU was not in the running rendezvous"
        );
    });
}

/// Every refusal: the right error, the online set and the cache logs unchanged, the
/// closure not run, and the rendezvous still usable afterwards.
#[test]
fn every_refusal_changes_nothing() {
    within_deadline(|| {
        let fake = fake(2);
        let rv = rendezvous();
        let ran = AtomicBool::new(false);
        let mark = || ran.store(true, SeqCst);
        let unchanged = |what: &str| {
            assert!(!ran.load(SeqCst), "{what}: the closure ran");
            assert_eq!(fake.online_cpus(), CpuSet::first(2), "{what}: online set");
            for cpu in 0..4 {
                assert!(rv.cache_ops().log(cpu).is_empty(), "{what}: CPU {cpu} log");
            }
        };

        // Online already.
        become_masked_cpu(&fake, 1);
        assert_eq!(
            rv.cpu_online(&fake, mark),
            Err(HotplugError::AlreadyOnline { cpu: 1 })
        );
        unchanged("already online");

        // Interrupts enabled, both hooks.
        FakePlatform::become_cpu(1);
        assert_eq!(
            rv.cpu_offline(&fake, mark),
            Err(HotplugError::InterruptsEnabled { cpu: 1 })
        );
        FakePlatform::become_cpu(3);
        assert_eq!(
            rv.cpu_online(&fake, mark),
            Err(HotplugError::InterruptsEnabled { cpu: 3 })
        );
        unchanged("interrupts enabled");

        // A CPU index no set can hold.
        become_masked_cpu(&fake, MAX_CPUS);
        assert_eq!(
            rv.cpu_online(&fake, mark),
            Err(HotplugError::CpuOutOfRange { cpu: MAX_CPUS })
        );
        assert_eq!(
            rv.cpu_offline(&fake, mark),
            Err(HotplugError::CpuOutOfRange { cpu: MAX_CPUS })
        );
        unchanged("out of range");

        // Offline already.
        become_masked_cpu(&fake, 3);
        assert_eq!(
            rv.cpu_offline(&fake, mark),
            Err(HotplugError::Rendezvous(RendezvousError::CallerNotOnline {
                cpu: 3
            }))
        );
        unchanged("offline already");

        // The last online CPU.
        let single = FakePlatform::new(0x8000, 64, 0x10_0000, 64, 1);
        become_masked_cpu(&single, 0);
        assert_eq!(
            rv.cpu_offline(&single, || single.set_online(0, false)),
            Err(HotplugError::LastOnlineCpu { cpu: 0 })
        );
        assert_eq!(single.online_cpus(), CpuSet::single(0));
        unchanged("last CPU");

        // From a rendezvous callback: refused on the CPU running it.
        FakePlatform::become_cpu(0);
        let inner = std::sync::Mutex::new(None);
        rv.run(&single, RunOn::AllCpus, &|_| {
            *inner.lock().unwrap() = Some(rv.cpu_offline(&single, mark));
        })
        .unwrap();
        assert_eq!(
            inner.into_inner().unwrap(),
            Some(Err(HotplugError::Rendezvous(
                RendezvousError::NestedInCallback { cpu: 0 }
            )))
        );
        rv.cache_ops().take_log(0);
        unchanged("from a callback");

        // A nested call on the same CPU (an exception handler on top of a hook).
        become_masked_cpu(&fake, 3);
        fake.set_online(3, false);
        let nested = std::sync::Mutex::new(None);
        let result = rv.cpu_online(&fake, || {
            *nested.lock().unwrap() = Some(rv.cpu_online(&fake, mark));
            fake.set_online(3, true);
        });
        assert_eq!(result, Ok(()));
        assert_eq!(
            nested.into_inner().unwrap(),
            Some(Err(HotplugError::Rendezvous(
                RendezvousError::AlreadyInRendezvous { cpu: 3 }
            )))
        );
        assert!(!ran.load(SeqCst));
        fake.set_online(3, false);
        rv.cache_ops().take_log(3);
        unchanged("nested");

        // A closure that does not change the set: reported, and the set unchanged.
        become_masked_cpu(&fake, 3);
        assert_eq!(
            rv.cpu_online(&fake, || {}),
            Err(HotplugError::OnlineSetMismatch {
                cpu: 3,
                expected: CpuSet::first(2).with(3),
                found: CpuSet::first(2),
            })
        );
        rv.cache_ops().take_log(3);
        become_masked_cpu(&fake, 1);
        assert_eq!(
            rv.cpu_offline(&fake, || {}),
            Err(HotplugError::OnlineSetMismatch {
                cpu: 1,
                expected: CpuSet::single(0),
                found: CpuSet::first(2),
            })
        );
        unchanged("closure did nothing");

        // Still usable: CPU 1 goes offline and comes back.
        rv.cpu_offline(&fake, || fake.set_online(1, false)).unwrap();
        rv.cpu_online(&fake, || fake.set_online(1, true)).unwrap();
        assert_eq!(fake.online_cpus(), CpuSet::first(2));
    });
}

#[test]
fn every_hotplug_error_names_its_cause() {
    let cases = [
        (HotplugError::AlreadyOnline { cpu: 1 }, "already online"),
        (HotplugError::CpuOutOfRange { cpu: 40 }, "limit"),
        (HotplugError::LastOnlineCpu { cpu: 0 }, "only online CPU"),
        (
            HotplugError::InterruptsEnabled { cpu: 2 },
            "interrupts enabled",
        ),
        (
            HotplugError::OnlineSetMismatch {
                cpu: 3,
                expected: CpuSet::first(4),
                found: CpuSet::first(3),
            },
            "expected 0xf",
        ),
        (
            RendezvousError::NestedInCallback { cpu: 0 }.into(),
            "inside a rendezvous callback",
        ),
    ];
    for (error, text) in cases {
        let shown = error.to_string();
        assert!(shown.contains(text), "{shown:?} should mention {text:?}");
    }
}

/// CPUs 1–3 go offline and come back online hundreds of times while CPU 0 runs
/// rendezvous back to back: every rendezvous runs its callback on exactly the CPUs
/// online when it started (the set never changes inside one), nothing hangs, and every
/// return to online invalidated that CPU's instruction side.
#[test]
fn stress_cpus_coming_and_going_while_rendezvous_run() {
    within_deadline(|| {
        const CYCLES_PER_CPU: usize = 300;
        let fake = fake(4);
        let rv = rendezvous();
        let cycles_done = AtomicUsize::new(0);
        let rounds = AtomicUsize::new(0);
        let wrong = std::sync::Mutex::new(Vec::new());
        let stop = AtomicBool::new(false);
        thread::scope(|s| {
            for cpu in 1..4 {
                let (fake, rv, cycles_done, stop) = (&fake, &rv, &cycles_done, &stop);
                s.spawn(move || {
                    FakePlatform::become_cpu(cpu);
                    for cycle in 0..CYCLES_PER_CPU {
                        // Online for a while: answer IPIs as an idle CPU does.
                        for _ in 0..(cycle % 7) * 10 {
                            if fake.take_pending_ipi() {
                                rv.ipi_entry(fake);
                            }
                            thread::yield_now();
                        }
                        fake.mask_interrupts();
                        rv.cpu_offline(fake, || fake.set_online(cpu, false))
                            .unwrap();
                        // "Powered off": a stale IPI is lost with the CPU's state.
                        thread::yield_now();
                        fake.take_pending_ipi();
                        rv.cache_ops().take_log(cpu);
                        rv.cpu_online(fake, || fake.set_online(cpu, true)).unwrap();
                        assert_eq!(rv.cache_ops().log(cpu).first(), Some(&CacheOp::Iciallu));
                        FakePlatform::become_cpu(cpu);
                        cycles_done.fetch_add(1, SeqCst);
                    }
                    // Serve until CPU 0 stops initiating (it may have started one
                    // more rendezvous that counts this CPU).
                    while !stop.load(SeqCst) {
                        if fake.take_pending_ipi() {
                            rv.ipi_entry(fake);
                        }
                        thread::yield_now();
                    }
                });
            }
            FakePlatform::become_cpu(0);
            while cycles_done.load(SeqCst) < 3 * CYCLES_PER_CPU {
                let online_at_start = AtomicUsize::new(0);
                let calls = AtomicUsize::new(0);
                let outsiders = AtomicUsize::new(0);
                rv.run(&fake, RunOn::AllCpus, &|cpu| {
                    let online = fake.online_cpus();
                    if cpu == 0 {
                        online_at_start.store(online.bits() as usize, SeqCst);
                    }
                    if !online.contains(cpu) {
                        outsiders.fetch_add(1, SeqCst);
                    }
                    calls.fetch_add(1, SeqCst);
                })
                .unwrap();
                let online = online_at_start.load(SeqCst).count_ones() as usize;
                if calls.load(SeqCst) != online || outsiders.load(SeqCst) != 0 {
                    wrong.lock().unwrap().push(format!(
                        "round {}: {} callbacks, {} online, {} outsiders",
                        rounds.load(SeqCst),
                        calls.load(SeqCst),
                        online,
                        outsiders.load(SeqCst)
                    ));
                }
                rounds.fetch_add(1, SeqCst);
            }
            stop.store(true, SeqCst);
        });
        let wrong = wrong.into_inner().unwrap();
        assert!(wrong.is_empty(), "{wrong:?}");
        assert!(rounds.load(SeqCst) > 0);
        assert_eq!(fake.online_cpus(), CpuSet::first(4));
        std::println!(
            "{} offline/online cycles during {} rendezvous",
            cycles_done.load(SeqCst),
            rounds.load(SeqCst)
        );
    });
}
