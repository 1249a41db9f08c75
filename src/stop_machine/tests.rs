//! The rendezvous with threads as CPUs against the fake platform.
//!
//! Every scenario runs under a deadline: a deadlock fails the test instead of hanging
//! `cargo test`. Callbacks never panic (a panicking callback would strand the other
//! thread-CPUs); they count what they saw and the test asserts afterwards.

use super::*;
use crate::fakes::{CacheOp, FakeCacheOps, FakePlatform};
use core::ops::Range;
use std::format;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Mutex, mpsc};
use std::thread;
use std::time::Duration;
use std::vec::Vec;

type FakeRendezvous = Rendezvous<FakeCacheOps>;

/// Each scenario takes well under a second on an idle machine; the margin is for one
/// loaded with parallel kernel builds and QEMU boots, where the spinning thread-CPUs
/// crawl (a helper once saw two scenarios pass 120 s that way). A deadlock still fails,
/// later.
const DEADLINE: Duration = Duration::from_secs(600);

/// Runs `scenario` on its own thread; a scenario still running at the deadline is a
/// deadlock.
pub(crate) fn within_deadline(scenario: impl FnOnce() + Send + 'static) {
    let (done, finished) = mpsc::channel();
    let runner = thread::spawn(move || {
        scenario();
        let _ = done.send(());
    });
    match finished.recv_timeout(DEADLINE) {
        Ok(()) => runner.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(runner.join().unwrap_err())
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("deadlock: the scenario did not finish within {DEADLINE:?}")
        }
    }
}

fn fake(cpus: usize) -> FakePlatform {
    FakePlatform::new(0x8000, 64, 0x10_0000, 64, cpus)
}

fn rendezvous() -> FakeRendezvous {
    Rendezvous::new(FakeCacheOps::new(true))
}

/// Sets the flag when dropped, so idle CPUs stop even if the initiator panicked.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

/// Plays idle CPU `cpu`: takes IPIs and enters the rendezvous until `stop`. Calls
/// `after_leaving(n)` after its n-th rendezvous. Returns how many it took part in.
fn idle_cpu<P: Platform>(
    cpu: usize,
    fake: &FakePlatform,
    platform: &P,
    rv: &FakeRendezvous,
    stop: &AtomicBool,
    after_leaving: &(dyn Fn(usize) + Sync),
) -> usize {
    FakePlatform::become_cpu(cpu);
    let mut joined = 0;
    while !stop.load(SeqCst) {
        if fake.take_pending_ipi() && rv.ipi_entry(platform) {
            joined += 1;
            after_leaving(joined);
        } else {
            thread::yield_now();
        }
    }
    joined
}

/// Runs `initiator` as CPU 0 while CPUs `1..cpus` idle; returns its result and how
/// many rendezvous each idle CPU took part in.
fn with_idle_cpus<P: Platform, R>(
    cpus: usize,
    fake: &FakePlatform,
    platform: &P,
    rv: &FakeRendezvous,
    after_leaving: &(dyn Fn(usize) + Sync),
    initiator: impl FnOnce() -> R,
) -> (R, Vec<usize>) {
    let stop = AtomicBool::new(false);
    thread::scope(|s| {
        let idle: Vec<_> = (1..cpus)
            .map(|cpu| {
                let stop = &stop;
                s.spawn(move || idle_cpu(cpu, fake, platform, rv, stop, after_leaving))
            })
            .collect();
        let result = {
            let _stop = SetOnDrop(&stop);
            FakePlatform::become_cpu(0);
            initiator()
        };
        let joined = idle.into_iter().map(|h| h.join().unwrap()).collect();
        (result, joined)
    })
}

/// Per-CPU callback counters and the violations a callback saw.
struct Observations {
    calls: [AtomicUsize; 4],
    unmasked_in_callback: AtomicUsize,
}

impl Observations {
    fn new() -> Self {
        Observations {
            calls: [const { AtomicUsize::new(0) }; 4],
            unmasked_in_callback: AtomicUsize::new(0),
        }
    }

    fn record(&self, fake: &FakePlatform, cpu: usize) {
        if !fake.interrupts_masked() {
            self.unmasked_in_callback.fetch_add(1, SeqCst);
        }
        self.calls[cpu].fetch_add(1, SeqCst);
    }

    fn calls(&self) -> Vec<usize> {
        self.calls.iter().map(|c| c.load(SeqCst)).collect()
    }
}

fn isbs(rv: &FakeRendezvous, cpu: usize) -> usize {
    rv.cache_ops()
        .log(cpu)
        .iter()
        .filter(|op| **op == CacheOp::Isb)
        .count()
}

#[test]
fn single_cpu_rendezvous_runs_callback_once_with_interrupts_masked() {
    within_deadline(|| {
        let fake = fake(1);
        let rv = rendezvous();
        let seen = Observations::new();
        FakePlatform::become_cpu(0);
        rv.run(&fake, RunOn::OneCpu(0), &|cpu| seen.record(&fake, cpu))
            .unwrap();
        assert_eq!(seen.calls(), [1, 0, 0, 0]);
        assert_eq!(seen.unmasked_in_callback.load(SeqCst), 0);
        assert!(
            !fake.interrupts_masked(),
            "interrupts restored on the way out"
        );
        assert!(fake.take_ipis().is_empty(), "no other CPU to call");
        assert_eq!(rv.cache_ops().log(0), [CacheOp::Isb]);
    });
}

#[test]
fn one_cpu_mode_runs_callback_only_on_the_chosen_cpu() {
    within_deadline(|| {
        let fake = fake(4);
        let rv = rendezvous();
        let seen = Observations::new();
        let (result, joined) = with_idle_cpus(4, &fake, &fake, &rv, &|_| {}, || {
            rv.run(&fake, RunOn::OneCpu(2), &|cpu| seen.record(&fake, cpu))
        });
        result.unwrap();
        assert_eq!(seen.calls(), [0, 0, 1, 0]);
        assert_eq!(seen.unmasked_in_callback.load(SeqCst), 0);
        assert_eq!(joined, [1, 1, 1], "every other CPU took part once");
        assert_eq!(fake.take_ipis(), [CpuSet::from_bits(0b1110)]);
    });
}

#[test]
fn all_cpus_mode_runs_callback_once_on_every_cpu() {
    within_deadline(|| {
        let fake = fake(4);
        let rv = rendezvous();
        let seen = Observations::new();
        let (result, joined) = with_idle_cpus(4, &fake, &fake, &rv, &|_| {}, || {
            rv.run(&fake, RunOn::AllCpus, &|cpu| seen.record(&fake, cpu))
        });
        result.unwrap();
        assert_eq!(seen.calls(), [1, 1, 1, 1]);
        assert_eq!(seen.unmasked_in_callback.load(SeqCst), 0);
        assert_eq!(joined, [1, 1, 1]);
    });
}

#[test]
fn every_cpu_executes_isb_before_leaving() {
    within_deadline(|| {
        let fake = fake(4);
        let rv = rendezvous();
        let (result, _) = with_idle_cpus(4, &fake, &fake, &rv, &|_| {}, || {
            rv.run(&fake, RunOn::OneCpu(1), &|_| {})
        });
        result.unwrap();
        for cpu in 0..4 {
            assert_eq!(rv.cache_ops().log(cpu), [CacheOp::Isb], "CPU {cpu}");
        }
    });
}

#[test]
fn no_cpu_leaves_before_a_slow_callback_finished() {
    within_deadline(|| {
        let fake = fake(4);
        let rv = rendezvous();
        let finished = AtomicBool::new(false);
        let left_early = AtomicUsize::new(0);
        let check = |_| {
            if !finished.load(SeqCst) {
                left_early.fetch_add(1, SeqCst);
            }
        };
        let (result, joined) = with_idle_cpus(4, &fake, &fake, &rv, &check, || {
            let r = rv.run(&fake, RunOn::OneCpu(3), &|_| {
                thread::sleep(Duration::from_millis(50));
                finished.store(true, SeqCst);
            });
            check(0);
            r
        });
        result.unwrap();
        assert_eq!(joined, [1, 1, 1]);
        assert_eq!(left_early.load(SeqCst), 0);
    });
}

#[test]
fn ipi_without_an_invitation_is_ignored() {
    within_deadline(|| {
        let fake = fake(2);
        let rv = rendezvous();
        FakePlatform::become_cpu(1);
        assert!(!rv.ipi_entry(&fake));
        FakePlatform::become_cpu(40);
        assert!(!rv.ipi_entry(&fake), "an out-of-range CPU is never invited");
        assert!(rv.cache_ops().log(1).is_empty(), "nothing ran");
    });
}

#[test]
fn caller_not_online_is_refused() {
    within_deadline(|| {
        let fake = fake(2);
        let rv = rendezvous();
        let ran = AtomicBool::new(false);
        FakePlatform::become_cpu(3);
        let r = rv.run(&fake, RunOn::AllCpus, &|_| ran.store(true, SeqCst));
        assert_eq!(r, Err(RendezvousError::CallerNotOnline { cpu: 3 }));
        assert!(!ran.load(SeqCst));
        assert!(fake.take_ipis().is_empty());
    });
}

#[test]
fn completed_counts_finished_rendezvous_and_not_refused_ones() {
    within_deadline(|| {
        let fake = fake(1);
        let rv = rendezvous();
        FakePlatform::become_cpu(0);
        assert_eq!(rv.completed(), 0);
        for n in 1..=3 {
            rv.run(&fake, RunOn::OneCpu(0), &|_| {}).unwrap();
            assert_eq!(rv.completed(), n);
        }
        assert_eq!(
            rv.run(&fake, RunOn::OneCpu(5), &|_| {}),
            Err(RendezvousError::TargetNotOnline { target: 5 })
        );
        assert_eq!(rv.completed(), 3, "a refused call is not a rendezvous");
    });
}

#[test]
fn offline_target_is_refused() {
    within_deadline(|| {
        let fake = fake(2);
        let rv = rendezvous();
        FakePlatform::become_cpu(0);
        let r = rv.run(&fake, RunOn::OneCpu(5), &|_| {});
        assert_eq!(r, Err(RendezvousError::TargetNotOnline { target: 5 }));
        assert!(
            fake.take_ipis().is_empty(),
            "refused before inviting anyone"
        );
        assert_eq!(
            rv.run(&fake, RunOn::OneCpu(40), &|_| {}),
            Err(RendezvousError::TargetNotOnline { target: 40 })
        );
    });
}

#[test]
fn rendezvous_with_interrupts_masked_is_refused() {
    within_deadline(|| {
        let fake = fake(2);
        let rv = rendezvous();
        FakePlatform::become_cpu(0);
        let saved = fake.mask_interrupts();
        let r = rv.run(&fake, RunOn::AllCpus, &|_| {});
        fake.restore_interrupts(saved);
        assert_eq!(r, Err(RendezvousError::InterruptsMasked { cpu: 0 }));
        assert!(fake.take_ipis().is_empty());
    });
}

#[test]
fn rendezvous_started_from_a_callback_is_refused_not_deadlocked() {
    within_deadline(|| {
        let fake = fake(3);
        let rv = rendezvous();
        let inner = Mutex::new(Vec::new());
        let (result, _) = with_idle_cpus(3, &fake, &fake, &rv, &|_| {}, || {
            rv.run(&fake, RunOn::AllCpus, &|cpu| {
                let r = rv.run(&fake, RunOn::OneCpu(cpu), &|_| {});
                inner.lock().unwrap().push((cpu, r));
            })
        });
        result.unwrap();
        let mut inner = inner.into_inner().unwrap();
        inner.sort_by_key(|(cpu, _)| *cpu);
        let expected: Vec<_> = (0..3)
            .map(|cpu| (cpu, Err(RendezvousError::NestedInCallback { cpu })))
            .collect();
        assert_eq!(inner, expected);
    });
}

/// Which platform hook starts a nested rendezvous, standing for an interrupt handler
/// that runs on top of the protocol at that point.
#[derive(Clone, Copy, PartialEq)]
enum Hook {
    /// While the initiator is starting (it sends the IPI after taking the lock).
    SendIpi,
    /// While a CPU takes part (DISABLE_IRQ, just before interrupts are masked).
    MaskInterrupts,
}

/// The fake platform with a nested `run` in one hook.
struct Reentering<'a> {
    fake: &'a FakePlatform,
    rv: &'a FakeRendezvous,
    hook: Hook,
    results: Mutex<Vec<(usize, Result<(), RendezvousError>)>>,
}

impl Reentering<'_> {
    fn reenter(&self, at: Hook) {
        if self.hook == at {
            let r = self.rv.run(self, RunOn::AllCpus, &|_| {});
            self.results.lock().unwrap().push((self.cpu_id(), r));
        }
    }
}

impl Platform for Reentering<'_> {
    fn cpu_id(&self) -> usize {
        self.fake.cpu_id()
    }
    fn online_cpus(&self) -> CpuSet {
        self.fake.online_cpus()
    }
    fn send_ipi(&self, targets: CpuSet) {
        self.reenter(Hook::SendIpi);
        self.fake.send_ipi(targets)
    }
    fn mask_interrupts(&self) -> InterruptState {
        self.reenter(Hook::MaskInterrupts);
        self.fake.mask_interrupts()
    }
    fn restore_interrupts(&self, previous: InterruptState) {
        self.fake.restore_interrupts(previous)
    }
    fn interrupts_masked(&self) -> bool {
        self.fake.interrupts_masked()
    }
    fn kernel_text(&self) -> Range<usize> {
        self.fake.kernel_text()
    }
    fn never_probe(&self) -> &[Range<usize>] {
        self.fake.never_probe()
    }
    fn slot_region(&self) -> Range<usize> {
        self.fake.slot_region()
    }
    fn text_alias(&self, addr: usize) -> *mut u32 {
        self.fake.text_alias(addr)
    }
}

fn nested_results(hook: Hook) -> Vec<(usize, Result<(), RendezvousError>)> {
    let fake = fake(2);
    let rv = rendezvous();
    let platform = Reentering {
        fake: &fake,
        rv: &rv,
        hook,
        results: Mutex::new(Vec::new()),
    };
    let (result, joined) = with_idle_cpus(2, &fake, &platform, &rv, &|_| {}, || {
        rv.run(&platform, RunOn::AllCpus, &|_| {})
    });
    result.unwrap();
    assert_eq!(joined, [1]);
    let mut results = platform.results.into_inner().unwrap();
    results.sort_by_key(|(cpu, _)| *cpu);
    results
}

#[test]
fn rendezvous_started_while_this_cpu_starts_one_is_refused() {
    within_deadline(|| {
        assert_eq!(
            nested_results(Hook::SendIpi),
            [(0, Err(RendezvousError::AlreadyInRendezvous { cpu: 0 }))]
        );
    });
}

#[test]
fn rendezvous_started_while_this_cpu_takes_part_is_refused() {
    within_deadline(|| {
        assert_eq!(
            nested_results(Hook::MaskInterrupts),
            [
                (0, Err(RendezvousError::AlreadyInRendezvous { cpu: 0 })),
                (1, Err(RendezvousError::AlreadyInRendezvous { cpu: 1 })),
            ]
        );
    });
}

#[test]
fn refused_calls_leave_the_rendezvous_usable() {
    within_deadline(|| {
        let fake = fake(2);
        let rv = rendezvous();
        let seen = Observations::new();
        let (result, joined) = with_idle_cpus(2, &fake, &fake, &rv, &|_| {}, || {
            assert!(rv.run(&fake, RunOn::OneCpu(9), &|_| {}).is_err());
            let saved = fake.mask_interrupts();
            assert!(rv.run(&fake, RunOn::AllCpus, &|_| {}).is_err());
            fake.restore_interrupts(saved);
            rv.run(&fake, RunOn::AllCpus, &|cpu| {
                let _ = rv.run(&fake, RunOn::AllCpus, &|_| {});
                seen.record(&fake, cpu);
            })?;
            rv.run(&fake, RunOn::AllCpus, &|cpu| seen.record(&fake, cpu))
        });
        result.unwrap();
        assert_eq!(seen.calls(), [2, 2, 0, 0]);
        assert_eq!(joined, [2]);
    });
}

#[test]
fn every_error_names_its_cause() {
    let cases = [
        (
            RendezvousError::CallerNotOnline { cpu: 3 },
            "CPU 3 is not online",
        ),
        (
            RendezvousError::TargetNotOnline { target: 5 },
            "target CPU 5 is not online",
        ),
        (
            RendezvousError::NestedInCallback { cpu: 1 },
            "from inside a rendezvous callback",
        ),
        (
            RendezvousError::AlreadyInRendezvous { cpu: 2 },
            "already starting or taking part",
        ),
        (
            RendezvousError::InterruptsMasked { cpu: 0 },
            "with interrupts masked",
        ),
    ];
    for (error, text) in cases {
        let shown = format!("{error}");
        assert!(shown.contains(text), "{shown:?} should mention {text:?}");
    }
}

/// Thousands of rendezvous, one initiator, three idle CPUs: the callback runs exactly
/// as often as `on` says, and no CPU leaves a rendezvous before its callbacks finished.
fn stress_one_initiator(rounds: usize, on: impl Fn(usize) -> RunOn + Sync) {
    let fake = fake(4);
    let rv = rendezvous();
    let seen = Observations::new();
    // Callbacks completed so far, over all rounds, and what round k must have reached.
    let finished = AtomicUsize::new(0);
    let per_round = |round: usize| match on(round) {
        RunOn::OneCpu(_) => 1,
        RunOn::AllCpus => 4,
    };
    let needed_after = |rounds_done: usize| (0..rounds_done).map(per_round).sum::<usize>();
    let left_early = AtomicUsize::new(0);
    let after_leaving = |rounds_done: usize| {
        if finished.load(SeqCst) < needed_after(rounds_done) {
            left_early.fetch_add(1, SeqCst);
        }
    };
    let (_, joined) = with_idle_cpus(4, &fake, &fake, &rv, &after_leaving, || {
        for round in 0..rounds {
            rv.run(&fake, on(round), &|cpu| {
                seen.record(&fake, cpu);
                thread::yield_now();
                finished.fetch_add(1, SeqCst);
            })
            .unwrap();
            after_leaving(round + 1);
        }
    });
    let mut expected = [0usize; 4];
    for round in 0..rounds {
        match on(round) {
            RunOn::OneCpu(cpu) => expected[cpu] += 1,
            RunOn::AllCpus => expected.iter_mut().for_each(|e| *e += 1),
        }
    }
    assert_eq!(seen.calls(), expected, "callback runs per CPU");
    assert_eq!(
        left_early.load(SeqCst),
        0,
        "a CPU left before the callback finished"
    );
    assert_eq!(seen.unmasked_in_callback.load(SeqCst), 0);
    assert_eq!(
        joined, [rounds; 3],
        "every idle CPU took part in every round"
    );
    for cpu in 0..4 {
        assert_eq!(isbs(&rv, cpu), rounds, "ISBs on CPU {cpu}");
    }
}

const STRESS_ROUNDS: usize = 3000;

#[test]
fn stress_one_cpu_mode_runs_callback_exactly_once_per_rendezvous() {
    within_deadline(|| stress_one_initiator(STRESS_ROUNDS, |round| RunOn::OneCpu(round % 4)));
}

#[test]
fn stress_all_cpus_mode_runs_callback_exactly_once_per_cpu() {
    within_deadline(|| stress_one_initiator(STRESS_ROUNDS, |_| RunOn::AllCpus));
}

/// The initiator lock serves CPUs in the order they asked: while CPU 0 starts
/// rendezvous back to back, CPU 1 asks for the lock 200 times, and each time gets it
/// after at most one more of CPU 0's rendezvous (the one holding or queued ahead of
/// it). With the old test-and-set lock CPU 0 took the lock back before CPU 1, busy
/// joining each rendezvous, saw it free: a CPU going offline waited forever (the
/// hotplug stress hung in CI that way).
#[test]
fn a_cpu_waiting_for_the_initiator_lock_is_served_in_turn() {
    within_deadline(|| {
        const WAITS: usize = 200;
        let fake = fake(2);
        let rv = rendezvous();
        let waits_done = AtomicBool::new(false);
        let initiator_done = AtomicBool::new(false);
        let worst = AtomicUsize::new(0);
        thread::scope(|s| {
            s.spawn(|| {
                FakePlatform::become_cpu(1);
                for _ in 0..WAITS {
                    let before = rv.completed();
                    let section = rv.lock_exclusive(&fake).unwrap();
                    // Started since this CPU asked (none can start while it holds).
                    worst.fetch_max(rv.completed().wrapping_sub(before) as usize, SeqCst);
                    drop(section);
                    thread::yield_now();
                }
                waits_done.store(true, SeqCst);
                // CPU 0 may have invited this CPU once more.
                while !initiator_done.load(SeqCst) {
                    if fake.take_pending_ipi() {
                        rv.ipi_entry(&fake);
                    }
                    thread::yield_now();
                }
            });
            FakePlatform::become_cpu(0);
            while !waits_done.load(SeqCst) {
                rv.run(&fake, RunOn::AllCpus, &|_| {}).unwrap();
            }
            initiator_done.store(true, SeqCst);
        });
        let worst = worst.load(SeqCst);
        assert!(
            worst <= 1,
            "CPU 1 waited while CPU 0 started {worst} rendezvous in a row"
        );
    });
}

/// Every CPU starts rendezvous in a loop while also answering the others' IPIs.
#[test]
fn stress_concurrent_initiators_are_serialized() {
    within_deadline(|| {
        const PER_CPU: usize = 500;
        let fake = fake(4);
        let rv = rendezvous();
        let seen = Observations::new();
        let in_callback = AtomicBool::new(false);
        let overlapped = AtomicUsize::new(0);
        let finished_initiators = AtomicUsize::new(0);
        thread::scope(|s| {
            for cpu in 0..4 {
                let (fake, rv, seen) = (&fake, &rv, &seen);
                let (in_callback, overlapped) = (&in_callback, &overlapped);
                let finished_initiators = &finished_initiators;
                s.spawn(move || {
                    FakePlatform::become_cpu(cpu);
                    for round in 0..PER_CPU {
                        if fake.take_pending_ipi() {
                            rv.ipi_entry(fake);
                        }
                        let on = if round % 2 == 0 {
                            RunOn::OneCpu(cpu)
                        } else {
                            RunOn::OneCpu((cpu + 1) % 4)
                        };
                        rv.run(fake, on, &|cpu| {
                            if in_callback.swap(true, SeqCst) {
                                overlapped.fetch_add(1, SeqCst);
                            }
                            seen.record(fake, cpu);
                            thread::yield_now();
                            in_callback.store(false, SeqCst);
                        })
                        .unwrap();
                    }
                    finished_initiators.fetch_add(1, SeqCst);
                    while finished_initiators.load(SeqCst) < 4 {
                        if fake.take_pending_ipi() {
                            rv.ipi_entry(fake);
                        }
                        thread::yield_now();
                    }
                });
            }
        });
        assert_eq!(
            overlapped.load(SeqCst),
            0,
            "two rendezvous callbacks overlapped"
        );
        assert_eq!(seen.calls(), [PER_CPU; 4]);
        assert_eq!(seen.unmasked_in_callback.load(SeqCst), 0);
        for cpu in 0..4 {
            assert_eq!(
                isbs(&rv, cpu),
                4 * PER_CPU,
                "CPU {cpu} took part in every rendezvous"
            );
        }
    });
}

#[test]
fn a_rendezvous_observes_where_every_participant_joined() {
    within_deadline(|| {
        let fake = fake(3);
        let rv = rendezvous();
        let stop = AtomicBool::new(false);
        let observed = thread::scope(|s| {
            // CPU 1's kernel passes the pc it was interrupted at; CPU 2's does not.
            for cpu in [1usize, 2] {
                let (fake, rv, stop) = (&fake, &rv, &stop);
                s.spawn(move || {
                    FakePlatform::become_cpu(cpu);
                    while !stop.load(SeqCst) {
                        let joined = fake.take_pending_ipi()
                            && if cpu == 1 {
                                rv.ipi_entry_at(fake, 0x10_0040)
                            } else {
                                rv.ipi_entry(fake)
                            };
                        if !joined {
                            thread::yield_now();
                        }
                    }
                });
            }
            let _stop = SetOnDrop(&stop);
            FakePlatform::become_cpu(0);
            rv.run_observed(&fake, RunOn::AllCpus, &|_| {}).unwrap()
        });
        assert_eq!(observed.participants(), CpuSet::first(3));
        assert_eq!(observed.at(0), Some(Interrupted::InCrate), "the initiator");
        assert_eq!(observed.at(1), Some(Interrupted::At(0x10_0040)));
        assert_eq!(observed.at(2), Some(Interrupted::Unknown));
        assert_eq!(observed.at(3), None, "not a participant");
        assert!(observed.any_unknown());
        // CPU 2 could be anywhere: every range may hold a CPU.
        assert!(observed.may_be_in(0x20_0000..0x20_0100));
    });
}

#[test]
fn an_observation_says_which_ranges_may_hold_a_cpu() {
    let mut at = [AT_UNKNOWN; MAX_CPUS];
    at[0] = Interrupted::InCrate.encode();
    at[1] = Interrupted::At(0x1000).encode();
    let o = Observation {
        participants: CpuSet::first(2),
        at,
    };
    assert!(!o.any_unknown(), "CPUs 2.. are not participants");
    assert!(o.may_be_in(0x1000..0x1004));
    assert!(o.may_be_in(0x0f00..0x1001));
    assert!(!o.may_be_in(0x1004..0x2000), "the range ends are exclusive");
    assert!(!o.may_be_in(0x0f00..0x1000));
    // A pc that would alias a tag keeps the conservative meaning.
    assert_eq!(
        Interrupted::decode(Interrupted::At(usize::MAX).encode()),
        Interrupted::Unknown
    );
    assert_eq!(
        Interrupted::decode(Interrupted::At(0x4000_0000).encode()),
        Interrupted::At(0x4000_0000)
    );
}
