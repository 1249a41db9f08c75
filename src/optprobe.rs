//! Optimized probes: the probed word becomes `b<cond> slot`, and the slot holds a copy of
//! a trampoline that saves the interrupted registers, calls the crate and comes back —
//! a hit costs a branch and a call instead of an undefined-instruction exception.
//!
//! # The template
//!
//! The trampoline is written once, in assembly ([`global_asm!`](core::arch::global_asm)
//! below, `target_arch = "arm"` only), in a read-only data section: it is never executed
//! where it is assembled, only copied into slots. Everything the crate needs to know
//! about it is a label difference the assembler computes into a `TemplateLayout`
//! record next to it (where the holes are, how long it is), so no size or offset is
//! written twice. Per probe, `Template::fill` patches five holes: the registry, the
//! probe site, the callback, the probed address and — for direct execution — the
//! original instruction and the branch back to the probed address + 4.
//!
//! What a copy does when the probed `b<cond>` jumps to it (its condition passed):
//!
//! 1. moves SP down by [`STACK_GAP`] (the stepped instruction may store up to
//!    [`MAX_STACK_WRITE_BELOW_SP`] bytes
//!    below the interrupted SP, so the frame must start below that) and 16 bytes more,
//!    pushes r0–r12 with one `stmdb`, reads the CPSR and masks IRQs and FIQs — four
//!    instructions after entry;
//! 2. completes the [`TrapFrame`] with one `stm` above them: the interrupted SP and LR,
//!    the probed address as `pc`, the CPSR — the frame the breakpoint path builds —
//!    loading its literals (registry, site, probed address, callback) with one `ldm`,
//!    and rounds SP down to 8 bytes below the frame for the call;
//! 3. calls the callback (AAPCS: registry, site, frame), which runs the pre handlers and
//!    either steps the instruction (then returns non-zero) or leaves it to the trampoline
//!    (returns 0);
//! 4. non-zero: restores the flags from the frame and the interrupt masks as they were
//!    on entry, and loads r0–r15 from the frame (PC and SP in one `ldm`), resuming
//!    wherever the step (or a handler) left `pc`; zero: the same for the CPSR and
//!    r0–r14, then executes the original instruction in the slot and branches back to
//!    the probed address + 4.
//!
//! Direct execution is only used for instructions that neither read nor write PC (a
//! copy reads the slot's address as PC) and only when no enabled probe at the address
//! has a post handler (post handlers run after the step, so those probes take the step
//! path). Linux never optimizes a probe with a post handler; here it is optimized and
//! stepped.
//!
//! # When a slot may be reused
//!
//! A copy runs with its interrupts as the probed code had them in three windows: the
//! three instructions between the probed `b` and the `cpsid`, the step path's final
//! `ldm` (one instruction), and the direct path's `ldm`, original and branch back
//! (three); everywhere else interrupts and FIQs are masked. An interrupt taken in a
//! window returns into the copy — and a CPU that returns with the next interrupt already
//! pending takes it before executing anything, so it can be found at the same slot pc
//! rendezvous after rendezvous (seen under QEMU's multi-threaded TCG: 9 in a row).
//! "Every CPU took an interrupt since" therefore proves nothing. The rule instead:
//!
//! **A slot, the `Site` its literals name and everything that site points to are
//! freed, rewritten or reused only after a rendezvous, begun after the branch to the
//! slot was removed, in which no CPU was observed inside the slot.**
//!
//! Why that is enough (the argument, for a kernel that keeps the contract of
//! [`Rendezvous::ipi_entry_at`](crate::stop_machine::Rendezvous::ipi_entry_at)):
//!
//! 1. After the rendezvous that wrote the original back (every CPU executed an ISB in
//!    it), no CPU can newly enter the slot: its only entry was that branch.
//! 2. A CPU is inside a copy only between entering it and its last instruction there;
//!    in the masked part it takes no interrupt, so it cannot join a rendezvous by IPI
//!    until it reaches a window, and it cannot join one by polling (thread-context
//!    entry points refuse masked callers; a masked caller that polls is recorded as
//!    [`Interrupted::Unknown`](crate::stop_machine::Interrupted)).
//! 3. So in a later rendezvous every CPU is either the initiator or a lock waiter in
//!    thread context (in no slot), or was interrupted by the IPI at a pc the kernel
//!    passes, which lies in the slot if and only if the CPU is in it (no other context
//!    of that CPU resumes in a slot: the contract). A slot no recorded pc lies in, with
//!    no unknown participant, holds no CPU — and by 1 never will again.
//! 4. The registry ([`Kprobes::reclaim_slots`](crate::kprobe::Kprobes::reclaim_slots),
//!    also run after every unoptimize) asks the rendezvous'
//!    [`Observation`](crate::stop_machine::Observation) whether a CPU may be in each
//!    dirty slot released before that rendezvous; a slot someone may be in stays dirty and is retried by a later
//!    reclaim (the CPU has had time to leave; no retry is back to back).
//! 5. A dirty slot is tagged with its site; an unregistered site stays reserved —
//!    address, original, decode, out of the lookup table, without probes — while any
//!    dirty slot names it, so a CPU still in the copy's entry window calls back into a
//!    site that describes the same instruction and runs it correctly (no handler). The
//!    site becomes free with the last such slot.
//!
//! A kernel that calls only
//! [`Rendezvous::ipi_entry`](crate::stop_machine::Rendezvous::ipi_entry) passes no pc: its rendezvous prove
//! nothing, and dirty slots are never reused (probes then stay breakpoints once slots
//! run out). A kernel that switches threads from interrupt context, or lets an
//! exception handler re-enable interrupts on top of slot code, must pass the pc of any
//! context that will resume in the slot region, or call `ipi_entry`: it is the
//! RCU-tasks problem Linux solves for its trampolines.
//!
//! # Stack
//!
//! A hit on an optimized probe uses the probed code's own stack: SP moves down
//! [`STACK_GAP`] (256) bytes, then the frame (68 bytes) and at most 4 bytes to align,
//! so the callback starts at most 328 bytes below the probed code's SP; the
//! registry's hit path and an empty handler bring the high-water mark to 384 bytes
//! (direct execution) and 504 bytes (step path), measured on the test kernel
//! (`kernel/src/tests/safety_slots.rs`, budget 1,536). Add what your handlers use. The
//! probed code's stack must have that much room below its SP; a breakpoint probe's
//! handler runs on whatever stack the kernel's undefined-instruction entry chooses.

use crate::decode::{self, SimKind};
use crate::frame::TrapFrame;
use crate::insn::{Branch, BranchError, Insn};
use core::fmt;

/// Bytes the trampoline moves SP down before building its frame: more than the stepped
/// instruction may write below the interrupted SP, and a multiple of 8.
pub const STACK_GAP: u32 = 256;

/// Most bytes below the interrupted SP a probed instruction may write (the registry
/// refuses to probe one that may write further). The trampoline's [`STACK_GAP`] and the
/// undefined-instruction entry's gap (`glue::STACK_GAP`, 256) leave more room than this
/// between the interrupted SP and the frame they build.
pub const MAX_STACK_WRITE_BELOW_SP: u32 = 128;

const _: () = assert!(STACK_GAP >= MAX_STACK_WRITE_BELOW_SP + 8);
const _: () = assert!(STACK_GAP.is_multiple_of(8));
const _: () = assert!(TrapFrame::SIZE == 68 && TrapFrame::OFFSET_CPSR == 64);

/// Where the holes of the trampoline template are, in bytes from its start, as the
/// assembler computed them from the template's labels (see the module docs).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TemplateLayout {
    /// Length of the template.
    pub size: u32,
    /// The original instruction (direct execution).
    pub insn: u32,
    /// The branch back to the probed address + 4 (direct execution).
    pub back: u32,
    /// Literal: the registry the callback belongs to.
    pub registry: u32,
    /// Literal: the probe site.
    pub site: u32,
    /// Literal: the callback's address.
    pub callback: u32,
    /// Literal: the probed address (the frame's `pc`).
    pub pc: u32,
}

/// The values one slot's copy is filled with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fill {
    /// Executable address of the slot.
    pub slot: u32,
    /// Probed address.
    pub addr: u32,
    /// The word in the instruction hole: the original (direct execution) or a permanent
    /// UDF (step only; never executed).
    pub insn: u32,
    /// First argument of the callback.
    pub registry: u32,
    /// Second argument of the callback.
    pub site: u32,
    /// The callback.
    pub callback: u32,
}

/// The trampoline template: its words and the layout of its holes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Template {
    words: &'static [u32],
    layout: TemplateLayout,
}

/// Why a template layout is unusable (a broken assembly edit; checked, not assumed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BadLayout(pub(crate) TemplateLayout);

impl fmt::Display for BadLayout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "trampoline template layout is inconsistent: {:?}",
            self.0
        )
    }
}

impl Template {
    /// A template over `words` with holes at `layout`, checked: the size matches, and
    /// every hole is a distinct word inside it.
    pub fn new(words: &'static [u32], layout: TemplateLayout) -> Result<Template, BadLayout> {
        let l = layout;
        let holes = [l.insn, l.back, l.registry, l.site, l.callback, l.pc];
        let ok = l.size as usize == 4 * words.len()
            && holes
                .iter()
                .enumerate()
                .all(|(i, &h)| h % 4 == 0 && h < l.size && !holes[..i].contains(&h))
            && l.back == l.insn + 4;
        if ok {
            Ok(Template { words, layout })
        } else {
            Err(BadLayout(layout))
        }
    }

    /// The template's length in bytes: the size of an optimized-probe slot.
    pub const fn bytes(&self) -> usize {
        self.layout.size as usize
    }

    /// The layout of its holes.
    pub const fn layout(&self) -> TemplateLayout {
        self.layout
    }

    /// The words of one slot: the template with every hole filled. The branch back to
    /// `fill.addr + 4` is encoded from the slot's own address (the encoder's range
    /// rule), so a slot the probe's `b` reaches but whose branch back does not is an
    /// error, never a wrong branch.
    pub fn fill(&self, fill: Fill, out: &mut [u32]) -> Result<(), BranchError> {
        let back_at = fill.slot.wrapping_add(self.layout.back);
        let back = Branch::B {
            cond: crate::insn::Cond::Al,
            target: fill.addr.wrapping_add(4),
        }
        .encode(back_at)?;
        out[..self.words.len()].copy_from_slice(self.words);
        let mut put = |off: u32, v: u32| out[off as usize / 4] = v;
        put(self.layout.insn, fill.insn);
        put(self.layout.back, back.word());
        put(self.layout.registry, fill.registry);
        put(self.layout.site, fill.site);
        put(self.layout.callback, fill.callback);
        put(self.layout.pc, fill.addr);
        Ok(())
    }
}

/// How an optimized probe runs its instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// The trampoline executes the original in the slot when no post handler is enabled;
    /// otherwise the callback steps it.
    Direct,
    /// The callback always steps it (it reads or writes PC).
    StepOnly,
}

/// Which trampoline variant `insn` (already accepted for a breakpoint probe) can use.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn variant(kind: SimKind, insn: Insn) -> Variant {
    variant_given(kind, decode::uses_pc(insn))
}

/// [`variant`], given whether the instruction uses PC ([`decode::uses_pc`]).
pub(crate) fn variant_given(kind: SimKind, uses_pc: bool) -> Variant {
    if kind.is_branch() || uses_pc {
        Variant::StepOnly
    } else {
        Variant::Direct
    }
}

/// The word placed in the instruction hole of a step-only slot: a permanent UDF, so a
/// bug that ever ran it would trap instead of running something wrong.
pub const NEVER_RUN: u32 = 0xe7f0_00f0;

/// The template the crate copies: on ARM the assembled trampoline below; elsewhere (host
/// tests of the registry) a stand-in of the same shape whose words are `nop`s.
pub(crate) fn template() -> Template {
    #[cfg(target_arch = "arm")]
    {
        arm::template()
    }
    #[cfg(not(target_arch = "arm"))]
    {
        static WORDS: [u32; 36] = [0xe320_f000; 36];
        let layout = TemplateLayout {
            size: 36 * 4,
            insn: 26 * 4,
            back: 27 * 4,
            registry: 31 * 4,
            site: 32 * 4,
            callback: 33 * 4,
            pc: 34 * 4,
        };
        match Template::new(&WORDS, layout) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }
}

#[cfg(target_arch = "arm")]
mod arm {
    use super::{STACK_GAP, Template, TemplateLayout};
    use crate::frame::TrapFrame;

    // The trampoline template. It is assembled into a read-only data section and never
    // executed there: `Template::fill` copies it into a slot and fills its holes.
    //
    // SAFETY: this block only defines data (instructions assembled as data in a
    // non-executable section, plus the layout record); it has no effect until a copy is
    // made and branched to. What makes a copy sound to run:
    // - it is entered only by the probed `b<cond>`, in the interrupted code's mode, with
    //   every register as that code left it;
    // - SP is moved down before anything is stored below it (`sub`, then `stmdb sp!`,
    //   which stores and moves SP in one instruction), so an interrupt taken on the same
    //   stack before the masking `cpsid` cannot overwrite the saved words; the frame lies
    //   STACK_GAP + 16 bytes + the frame below the interrupted SP, below anything the
    //   stepped instruction may write, and SP is rounded down to 8 bytes below it for the
    //   AAPCS call (the frame itself needs only word alignment);
    // - the CPSR is read right after r0-r12 are saved and before any instruction that
    //   could change the flags (none of sub/stm/mrs/cpsid/add/mov/adr/ldm/bic does);
    // - the literals are read with one `ldm` from their own words (`adr` is
    //   PC-relative, so it finds the copy's literals, which are filled per slot in this
    //   order: registry, site, pc, callback);
    // - the callback is an `extern "C"` function: it preserves r4-r11 and SP, and the
    //   trampoline keeps only r4 (the frame) and r8 (the entry CPSR; the probed code's r4
    //   and r8 are in the frame) live across the call;
    // - on the way out the flags and GE bits come from the frame (`msr cpsr_fs`: the
    //   execution-state bits in those fields are ignored by MSR) and the control byte —
    //   masks, state, mode — is the one the trampoline was entered with (`msr cpsr_c`,
    //   same mode, so no banked register changes), then every register is reloaded from
    //   the frame with r4 as the base (in the list, no writeback: its loaded value is
    //   written when the load completes, and an abandoned load restores it), while SP
    //   still lies below the frame; on the step path it loads SP and PC together (the
    //   frame's pc is first copied over its lr word, after LR was reloaded, so the list
    //   {r0-r12, sp, pc} is contiguous; LR and PC in one list is deprecated).
    core::arch::global_asm!(
        ".pushsection .rodata.kp_optprobe_template, \"a\", %progbits",
        ".balign 4",
        ".arm",
        ".global kp_optprobe_template",
        "kp_optprobe_template:",
        "    sub   sp, sp, #{gap_and_upper}",
        "    stmdb sp!, {{r0-r12}}",
        "    mrs   r8, cpsr",
        "    cpsid if",
        "    add   r5, sp, #{gap_and_frame}",
        "    mov   r6, lr",
        "    adr   r12, .Lkp_opt_registry",
        "    ldm   r12, {{r0, r1, r7, r12}}",
        "    add   r2, sp, #{off_sp}",
        "    stm   r2, {{r5-r8}}",
        "    mov   r4, sp",
        "    bic   sp, sp, #7",
        "    mov   r2, r4",
        "    blx   r12",
        "    cmp   r0, #0",
        "    ldr   r0, [r4, #{off_cpsr}]",
        "    bne   .Lkp_opt_resume",
        "    msr   cpsr_fs, r0",
        "    msr   cpsr_c, r8",
        "    ldm   r4, {{r0-r12, sp, lr}}",
        ".Lkp_opt_insn:",
        "    .word 0",
        ".Lkp_opt_back:",
        "    .word 0",
        ".Lkp_opt_resume:",
        "    ldr   lr, [r4, #{off_lr}]",
        "    ldr   r1, [r4, #{off_pc}]",
        "    str   r1, [r4, #{off_lr}]",
        "    msr   cpsr_fs, r0",
        "    msr   cpsr_c, r8",
        "    ldm   r4, {{r0-r12, sp, pc}}",
        ".Lkp_opt_registry:",
        "    .word 0",
        ".Lkp_opt_site:",
        "    .word 0",
        ".Lkp_opt_pc:",
        "    .word 0",
        ".Lkp_opt_callback:",
        "    .word 0",
        ".Lkp_opt_end:",
        ".balign 4",
        ".global kp_optprobe_layout",
        "kp_optprobe_layout:",
        "    .word .Lkp_opt_end - kp_optprobe_template",
        "    .word .Lkp_opt_insn - kp_optprobe_template",
        "    .word .Lkp_opt_back - kp_optprobe_template",
        "    .word .Lkp_opt_registry - kp_optprobe_template",
        "    .word .Lkp_opt_site - kp_optprobe_template",
        "    .word .Lkp_opt_callback - kp_optprobe_template",
        "    .word .Lkp_opt_pc - kp_optprobe_template",
        ".popsection",
        gap_and_upper = const STACK_GAP + UPPER,
        gap_and_frame = const STACK_GAP + TrapFrame::SIZE as u32,
        off_sp = const TrapFrame::OFFSET_SP,
        off_lr = const TrapFrame::OFFSET_LR,
        off_pc = const TrapFrame::OFFSET_PC,
        off_cpsr = const TrapFrame::OFFSET_CPSR,
    );

    /// The frame words above r0-r12 (sp, lr, pc, cpsr), stored by one `stm` after the
    /// `stmdb` of r0-r12 that ends at them.
    const UPPER: u32 = (TrapFrame::SIZE - TrapFrame::OFFSET_SP) as u32;
    const _: () = assert!(UPPER == 16 && TrapFrame::OFFSET_SP == 13 * 4);

    unsafe extern "C" {
        /// The first word of the template (its label; the template is data).
        static kp_optprobe_template: [u32; 0];
        /// The layout record the assembler computed from the template's labels.
        static kp_optprobe_layout: TemplateLayout;
    }

    pub(super) fn template() -> Template {
        // SAFETY: both symbols are defined by the global_asm! above, in a read-only
        // section, and never written: kp_optprobe_layout is seven .word label
        // differences (a #[repr(C)] struct of seven u32), and kp_optprobe_template starts
        // `layout.size` bytes of words, 4-byte aligned, that live for the whole program.
        let (layout, words) = unsafe {
            let layout = core::ptr::addr_of!(kp_optprobe_layout).read();
            let start = core::ptr::addr_of!(kp_optprobe_template).cast::<u32>();
            (
                layout,
                core::slice::from_raw_parts(start, layout.size as usize / 4),
            )
        };
        match Template::new(words, layout) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{Decoded, decode};
    use std::format;

    static WORDS: [u32; 8] = [0xe320_f000; 8];

    fn layout() -> TemplateLayout {
        TemplateLayout {
            size: 32,
            insn: 8,
            back: 12,
            registry: 16,
            site: 20,
            callback: 24,
            pc: 28,
        }
    }

    #[test]
    fn a_layout_must_describe_distinct_aligned_holes_inside_the_template() {
        assert!(Template::new(&WORDS, layout()).is_ok());
        let bad = [
            TemplateLayout {
                size: 36,
                ..layout()
            }, // longer than the words
            TemplateLayout { pc: 32, ..layout() }, // hole past the end
            TemplateLayout {
                site: 16,
                ..layout()
            }, // two holes in one word
            TemplateLayout {
                callback: 26,
                ..layout()
            }, // misaligned hole
            TemplateLayout {
                back: 4,
                ..layout()
            }, // back not right after insn
        ];
        for l in bad {
            let e = Template::new(&WORDS, l).unwrap_err();
            assert_eq!(e, BadLayout(l));
            assert!(format!("{e}").contains("layout is inconsistent"), "{e}");
        }
    }

    #[test]
    fn fill_puts_every_value_in_its_hole_and_branches_back_after_the_probe() {
        let t = Template::new(&WORDS, layout()).unwrap();
        let fill = Fill {
            slot: 0x10_0000,
            addr: 0x8000,
            insn: 0xe280_0001,
            registry: 0x1111,
            site: 0x2222,
            callback: 0x3333,
        };
        let mut out = [0u32; 8];
        t.fill(fill, &mut out).unwrap();
        assert_eq!(&out[..2], &WORDS[..2], "code words are copied unchanged");
        assert_eq!(out[2], 0xe280_0001);
        let back = Branch::decode(Insn(out[3]), 0x10_000c).unwrap();
        assert_eq!(back.target(), 0x8004);
        assert_eq!(back.cond(), crate::insn::Cond::Al);
        assert_eq!(&out[4..], &[0x1111, 0x2222, 0x3333, 0x8000]);
        // A slot whose branch back cannot reach is an error, not a wrong branch.
        let far = Fill {
            slot: 0x0800_0000,
            ..fill
        };
        assert!(t.fill(far, &mut out).is_err());
    }

    #[test]
    fn only_instructions_that_never_touch_pc_run_directly() {
        for (word, want) in [
            (0xe280_0001, Variant::Direct),   // add r0, r0, #1
            (0x1280_0001, Variant::Direct),   // addne r0, r0, #1
            (0xe92d_4010, Variant::Direct),   // push {r4, lr}
            (0xe591_0004, Variant::Direct),   // ldr r0, [r1, #4]
            (0xe12f_ff1e, Variant::StepOnly), // bx lr
            (0xea00_0010, Variant::StepOnly), // b
            (0xeb00_0010, Variant::StepOnly), // bl
            (0xe8bd_8010, Variant::StepOnly), // pop {r4, pc}
            (0xe59f_0004, Variant::StepOnly), // ldr r0, [pc, #4]
            (0xe1a0_000f, Variant::StepOnly), // mov r0, pc
            (0xe28f_0008, Variant::StepOnly), // adr r0 (add r0, pc, #8)
            (0xe58d_f000, Variant::StepOnly), // str pc, [sp]
            (0xe92d_8000, Variant::StepOnly), // push {pc}
        ] {
            let Decoded::Simulate(kind) = decode(Insn(word)) else {
                panic!("{word:#010x} is not supported");
            };
            assert_eq!(variant(kind, Insn(word)), want, "{word:#010x}");
        }
        assert!(
            decode::uses_pc(Insn(0xe7f0_00f0)),
            "rejected words never run out of place"
        );
    }

    #[test]
    fn the_never_run_word_is_undefined() {
        assert!(matches!(decode(Insn(NEVER_RUN)), Decoded::Rejected(_)));
    }

    #[test]
    fn the_template_leaves_room_for_what_a_stepped_instruction_writes() {
        let t = template();
        assert!(t.bytes() >= 4 * 6);
        assert!(
            t.bytes() <= 4 * 64,
            "registry buffers hold at most 64 words"
        );
    }
}
