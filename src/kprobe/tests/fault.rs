//! Faults in stepped code and redirects to Thumb, against the fakes: the fixup rewrites
//! an abort frame into the probed context on the breakpoint path, the optimized step path
//! and the direct path, clears the per-CPU state, and recognises nothing else; a changed
//! pc with bit 0 set selects Thumb on both paths.

use super::*;
use crate::optprobe::{self, Variant};
use crate::step::{Access, Barrier, Hint, MemoryFault};
use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};

const LDR_R0_R1: u32 = 0xe591_0000; // ldr r0, [r1]
const UNMAPPED: u32 = 0xdead_0000;
const SLOTS: usize = 0x10_0000;

/// What the simulated abort handler saw.
#[derive(Default)]
struct Seen {
    fixup: Option<FaultFixup>,
    frame: TrapFrame,
    running_after: bool,
}

thread_local! {
    static SEEN: RefCell<Seen> = RefCell::new(Seen::default());
}

/// Memory in which `UNMAPPED` aborts: the access "takes an abort", whose handler (this
/// code, as a kernel's would) builds an abort frame of the crate's own context, asks the
/// registry for a fixup and records the outcome. Then, like a kernel returning into the
/// rewritten frame, it never returns to the step (`abandon`: a panic the test catches),
/// or — to model a kernel that resumes the probed code inside an outer handler — it
/// reports a fault to the step engine.
struct AbortingMemory {
    k: &'static Reg,
    abandon: bool,
    inner: Mem,
}

impl AbortingMemory {
    fn new(k: &'static Reg, abandon: bool) -> AbortingMemory {
        AbortingMemory {
            k,
            abandon,
            inner: Mem::default(),
        }
    }

    fn abort(&mut self, address: u32, access: Access) -> MemoryFault {
        let mut frame = TrapFrame {
            r: [0xeeee; 13],
            sp: 0x5000,
            lr: 0x5004,
            pc: 0x0bad_c0de, // inside the crate, as far as the kernel can tell
            cpsr: 0x1df,
        };
        let fixup = self.k.fixup_fault(&mut frame);
        let running_after = self.k.running[0].load(Ordering::Relaxed) != 0;
        SEEN.with(|s| {
            *s.borrow_mut() = Seen {
                fixup,
                frame,
                running_after,
            }
        });
        if self.abandon {
            panic!("abandoned: the kernel returned into the fixed-up frame");
        }
        MemoryFault { address, access }
    }
}

impl Memory for AbortingMemory {
    fn read_u8(&mut self, a: u32) -> Result<u8, MemoryFault> {
        self.inner.read_u8(a)
    }
    fn read_u16(&mut self, a: u32) -> Result<u16, MemoryFault> {
        self.inner.read_u16(a)
    }
    fn read_u32(&mut self, a: u32) -> Result<u32, MemoryFault> {
        if a == UNMAPPED {
            return Err(self.abort(a, Access::Read));
        }
        self.inner.read_u32(a)
    }
    fn write_u8(&mut self, a: u32, v: u8) -> Result<(), MemoryFault> {
        self.inner.write_u8(a, v)
    }
    fn write_u16(&mut self, a: u32, v: u16) -> Result<(), MemoryFault> {
        self.inner.write_u16(a, v)
    }
    fn write_u32(&mut self, a: u32, v: u32) -> Result<(), MemoryFault> {
        self.inner.write_u32(a, v)
    }
    fn barrier(&mut self, b: Barrier) {
        self.inner.barrier(b)
    }
    fn hint(&mut self, h: Hint) {
        self.inner.hint(h)
    }
}

fn set_r2_77(_: &Kprobe, f: &mut TrapFrame) {
    f.r[2] = 77;
}

fn frame_loading(from: u32) -> TrapFrame {
    TrapFrame {
        r: [1, from, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13],
        sp: 0x7000,
        lr: 0x7004,
        pc: 0,
        cpsr: 0x6000_001f,
    }
}

#[test]
fn a_breakpoint_step_that_aborts_is_moved_to_the_probe_and_the_next_hit_counts() {
    let e = env();
    let a = TEXT + 8;
    e.p.set_word(a, LDR_R0_R1);
    let p = probe(Some(set_r2_77), None, 0);
    e.k.register(p, a).unwrap();
    let mut f = frame_loading(UNMAPPED);
    f.pc = a as u32;
    let mut mem = AbortingMemory::new(e.k, true);
    let abandoned = catch_unwind(AssertUnwindSafe(|| e.k.handle_undefined(&mut f, &mut mem)));
    assert!(
        abandoned.is_err(),
        "the abort handler never returns to the step"
    );
    let seen = SEEN.with(|s| std::mem::take(&mut *s.borrow_mut()));
    let want = TrapFrame {
        r: [1, UNMAPPED, 77, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13],
        pc: a as u32,
        ..frame_loading(UNMAPPED)
    };
    assert_eq!(
        seen.fixup,
        Some(FaultFixup::Stepped {
            addr: a,
            stepped_frame: &f as *const TrapFrame as usize
        })
    );
    assert_eq!(seen.fixup.map(|x| x.addr()), Some(a));
    assert_eq!(
        seen.frame, want,
        "the probed context, as the pre handler left it"
    );
    assert!(!seen.running_after, "the reentrancy flag is cleared");
    // The next hit on this CPU is a hit, not a miss, and nothing is recorded any more.
    let mut f = frame_loading(0x2000);
    assert_eq!(hit(e.k, a, &mut f), Trap::Handled);
    assert_eq!((p.hits(), p.missed()), (2, 0));
    let mut other = TrapFrame {
        pc: 0x0bad_c0de,
        ..TrapFrame::default()
    };
    assert_eq!(e.k.fixup_fault(&mut other), None, "no step in progress");
    assert_eq!(
        other.pc, 0x0bad_c0de,
        "an abort that is not ours is untouched"
    );
}

static INNER_AT: AtomicU32 = AtomicU32::new(0);
static REGISTRY: std::sync::OnceLock<&'static Reg> = std::sync::OnceLock::new();

fn hit_inner_faulting(_: &Kprobe, _: &mut TrapFrame) {
    let k = *REGISTRY.get().expect("registry");
    let mut f = frame_loading(UNMAPPED);
    f.pc = INNER_AT.load(Ordering::Relaxed);
    let trap = k.handle_undefined(&mut f, &mut AbortingMemory::new(k, false));
    assert!(matches!(trap, Trap::StepFailed(_)), "{trap:?}");
}

#[test]
fn a_missed_step_that_aborts_inside_a_handler_keeps_the_outer_hit_running() {
    let e = env();
    let (outer, inner) = (TEXT + 8, TEXT + 12);
    e.p.set_word(outer, ADD_R0_R0_1);
    e.p.set_word(inner, LDR_R0_R1);
    REGISTRY.set(e.k).ok();
    INNER_AT.store(inner as u32, Ordering::Relaxed);
    let po = probe(Some(hit_inner_faulting), None, 0);
    let pi = probe(None, None, 0);
    e.k.register(po, outer).unwrap();
    e.k.register(pi, inner).unwrap();
    let mut f = frame_loading(0);
    assert_eq!(hit(e.k, outer, &mut f), Trap::Handled);
    let seen = SEEN.with(|s| std::mem::take(&mut *s.borrow_mut()));
    assert_eq!(seen.fixup.map(|x| x.addr()), Some(inner));
    assert_eq!(seen.frame.pc as usize, inner);
    assert!(seen.running_after, "the outer hit is still in its handler");
    assert_eq!((po.hits(), pi.hits(), pi.missed()), (1, 0, 1));
    assert!(
        e.k.running[0].load(Ordering::Relaxed) == 0,
        "outer hit finished"
    );
}

fn opt_env(slots: usize) -> Env {
    super::optimized::opt_env(SLOTS, slots)
}

fn slot_of(e: &Env, addr: usize) -> usize {
    Branch::decode(Insn(e.p.word(addr)), addr as u32)
        .expect("an optimized probe is a branch")
        .target() as usize
        - optprobe::template().arm_entry() as usize
}

#[test]
fn an_optimized_step_that_aborts_is_moved_to_the_probe() {
    let e = opt_env(4);
    let a = TEXT + 8;
    e.p.set_word(a, LDR_R0_R1);
    // A post handler: the trampoline's step path.
    let p = probe(Some(set_r2_77), Some(never_called), 0);
    e.k.register(p, a).unwrap();
    e.k.optimize_pending().unwrap();
    assert_eq!(
        e.k.mechanism_of(p),
        Ok(Mechanism::Optimized(Variant::Direct))
    );
    let (_, site) = e.k.find(a).expect("site");
    let mut f = frame_loading(UNMAPPED);
    f.pc = a as u32;
    let mut mem = AbortingMemory::new(e.k, true);
    let abandoned = catch_unwind(AssertUnwindSafe(|| {
        e.k.optimized_hit(site, &mut f, &mut mem)
    }));
    assert!(abandoned.is_err());
    let seen = SEEN.with(|s| std::mem::take(&mut *s.borrow_mut()));
    assert_eq!(seen.fixup.map(|x| x.addr()), Some(a));
    assert_eq!(seen.frame.pc as usize, a);
    assert_eq!(seen.frame.r[2], 77);
    assert!(!seen.running_after);
}

#[test]
fn an_abort_of_the_original_in_a_direct_slot_is_moved_to_the_probe_and_nothing_else_is() {
    let e = opt_env(4);
    let a = TEXT + 8;
    e.p.set_word(a, LDR_R0_R1);
    let p = probe(Some(set_r2_77), None, 0);
    e.k.register(p, a).unwrap();
    e.k.optimize_pending().unwrap();
    assert_eq!(
        e.k.mechanism_of(p),
        Ok(Mechanism::Optimized(Variant::Direct))
    );
    let slot = slot_of(&e, a);
    let l = optprobe::template().layout();
    let regs = frame_loading(UNMAPPED);
    let mut f = TrapFrame {
        pc: (slot + l.insn as usize) as u32,
        ..regs
    };
    assert_eq!(
        e.k.fixup_fault(&mut f),
        Some(FaultFixup::InSlot { addr: a })
    );
    assert_eq!(
        f,
        TrapFrame {
            pc: a as u32,
            ..regs
        },
        "only pc changes: the slot ran with the probed registers"
    );
    let size = crate::kprobe::fault::slot_bytes(&optprobe::template());
    for pc in [
        slot + l.insn as usize + 4,         // the branch back
        slot,                               // the trampoline's own code
        slot + size + l.insn as usize,      // a free slot
        SLOTS + 4 * size + l.insn as usize, // past the region
        a,                                  // the probed word itself
    ] {
        let mut f = TrapFrame {
            pc: pc as u32,
            ..regs
        };
        assert_eq!(e.k.fixup_fault(&mut f), None, "{pc:#x}");
        assert_eq!(f.pc as usize, pc);
    }
    // Another registry's slot is not ours, even at the same address.
    let other = opt_env(4);
    let mut f = TrapFrame {
        pc: (slot + l.insn as usize) as u32,
        ..regs
    };
    assert_eq!(other.k.fixup_fault(&mut f), None);
}

fn to_thumb(_: &Kprobe, f: &mut TrapFrame) {
    f.pc = 0x9001;
}

#[test]
fn a_redirect_to_an_odd_pc_selects_thumb_and_clears_it_on_both_paths() {
    let e = opt_env(4);
    let (a, b) = (TEXT + 8, TEXT + 12);
    e.p.set_word(a, ADD_R0_R0_1);
    e.p.set_word(b, ADD_R0_R0_1);
    let pa = probe(Some(to_thumb), None, 0);
    let pb = probe(Some(to_thumb), None, 0);
    e.k.register(pa, a).unwrap();
    // Breakpoint path: the frame is the exception return's, so the state is in the CPSR.
    let it_bits = 0x0600_0c00; // stale IT bits must not survive a change of state
    let mut f = TrapFrame {
        cpsr: 0x6000_001f | it_bits,
        ..TrapFrame::default()
    };
    assert_eq!(hit(e.k, a, &mut f), Trap::Handled);
    assert_eq!((f.pc, f.cpsr), (0x9000, 0x6000_003f));
    // Optimized path: the trampoline interworks on bit 0 of the pc it loads.
    e.k.register(pb, b).unwrap();
    e.k.optimize_pending().unwrap();
    let (_, site) = e.k.find(b).expect("site");
    let mut f = TrapFrame {
        pc: b as u32,
        cpsr: 0x6000_001f,
        ..TrapFrame::default()
    };
    assert_eq!(e.k.optimized_hit(site, &mut f, &mut Mem::default()), 1);
    assert_eq!((f.pc, f.cpsr & step::psr::T), (0x9001, step::psr::T));
    // An even redirect stays in ARM state.
    let c = TEXT + 16;
    e.p.set_word(c, ADD_R0_R0_1);
    e.k.register(probe(Some(redirect), None, 0), c).unwrap();
    let mut f = TrapFrame {
        cpsr: 0x1f,
        ..TrapFrame::default()
    };
    assert_eq!(hit(e.k, c, &mut f), Trap::Handled);
    assert_eq!((f.pc, f.cpsr), (0x9000, 0x1f));
}
