//! Tests of branches, MRS, hints, barriers and preloads.

use super::*;

#[test]
fn branches_link_and_exchange() {
    let f = run(0xeaff_fffe, &[], SVC); // b .
    assert_eq!(f.pc, ADDR);
    let f = run(0xeb00_0040, &[], SVC); // bl . + 0x108
    assert_eq!((f.pc, f.lr), (ADDR + 0x108, ADDR + 4));
    let f = run(0xfb00_0000, &[], SVC); // blx . + 10 (H = 1)
    assert_eq!((f.pc, f.lr, f.cpsr), (ADDR + 10, ADDR + 4, SVC | psr::T));
    let f = run(0xe12f_ff1e, &[(14, 0x3001)], SVC); // bx lr
    assert_eq!((f.pc, f.cpsr), (0x3000, SVC | psr::T));
    let f = run(0xe12f_ff33, &[(3, 0x4000)], SVC); // blx r3
    assert_eq!((f.pc, f.lr, f.cpsr), (0x4000, ADDR + 4, SVC));
    let f = run(0xe12f_ff3e, &[(14, 0x4001)], SVC); // blx lr: target read before lr is written
    assert_eq!((f.pc, f.lr, f.cpsr), (0x4000, ADDR + 4, SVC | psr::T));
}

#[test]
fn mrs_hides_execution_state_bits() {
    let f = run(0xe10f_0000, &[], 0xfe0f_fdd3); // mrs r0, apsr with IT/J bits set
    assert_eq!(f.r[0], 0xf80f_01d3);
}

#[test]
fn hints_and_barriers_reach_memory_and_preloads_do_nothing() {
    let mut ram = Ram::new();
    for w in [
        0xe320_f000,
        0xe320_f001,
        0xe320_f002,
        0xe320_f003,
        0xe320_f004,
    ] {
        run_mem(w, ADDR, &[], SVC, &mut ram).unwrap();
    }
    assert_eq!(
        ram.hints,
        [Hint::Nop, Hint::Yield, Hint::Wfe, Hint::Wfi, Hint::Sev]
    );
    for w in [0xf57f_f05f, 0xf57f_f04e, 0xf57f_f06f] {
        run_mem(w, ADDR, &[], SVC, &mut ram).unwrap();
    }
    assert_eq!(
        ram.barriers,
        [Barrier::Dmb(0xf), Barrier::Dsb(0xe), Barrier::Isb(0xf)]
    );
    let before = ram.bytes;
    let f = run_mem(
        0xf5d0_f000,
        ADDR,
        &[(0, 0xdead_0000)],
        SVC | psr::Z,
        &mut ram,
    )
    .unwrap(); // pld [r0]
    assert_eq!((f.pc, ram.bytes), (ADDR + 4, before));
}
