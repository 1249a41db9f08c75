//! Tests of single and multiple loads and stores in every addressing mode.

use super::*;

#[test]
fn word_and_byte_transfers_in_every_addressing_mode() {
    let mut ram = Ram::new();
    let f = run_mem(
        0xe581_0004,
        ADDR,
        &[(0, 0xcafe_f00d), (1, RAM)],
        SVC,
        &mut ram,
    )
    .unwrap(); // str r0, [r1, #4]
    assert_eq!((ram.word(RAM + 4), f.r[1]), (0xcafe_f00d, RAM));
    let f = run_mem(
        0xe52d_e004,
        ADDR,
        &[(13, RAM + 0x80), (14, 0x1234)],
        SVC,
        &mut ram,
    )
    .unwrap(); // str lr, [sp, #-4]!
    assert_eq!((ram.word(RAM + 0x7c), f.sp), (0x1234, RAM + 0x7c));
    let f = run_mem(0xe491_0004, ADDR, &[(1, RAM + 4)], SVC, &mut ram).unwrap(); // ldr r0, [r1], #4
    assert_eq!((f.r[0], f.r[1]), (0xcafe_f00d, RAM + 8));
    ram.put(RAM + 8, 0x5555_aaaa);
    let f = run_mem(0xe711_0102, ADDR, &[(1, RAM + 0x10), (2, 2)], SVC, &mut ram).unwrap(); // ldr r0, [r1, -r2, lsl #2]
    assert_eq!(f.r[0], 0x5555_aaaa);
    ram.put(RAM + 0x10, 0x600d_cafe);
    let f = run_mem(0xe59f_0008, RAM, &[], SVC, &mut ram).unwrap(); // ldr r0, [pc, #8] at RAM
    assert_eq!(f.r[0], 0x600d_cafe);
    run_mem(0xe581_f000, ADDR, &[(1, RAM + 0x20)], SVC, &mut ram).unwrap(); // str pc, [r1]
    assert_eq!(ram.word(RAM + 0x20), ADDR + 8);
    let f = run_mem(0xe5d1_0003, ADDR, &[(1, RAM + 0x40)], SVC, &mut ram).unwrap(); // ldrb r0, [r1, #3]
    assert_eq!(f.r[0], 0x43);
    run_mem(
        0xe5c1_0001,
        ADDR,
        &[(0, 0x1ff), (1, RAM + 0x40)],
        SVC,
        &mut ram,
    )
    .unwrap(); // strb r0, [r1, #1]
    assert_eq!(ram.word(RAM + 0x40), 0x4342_ff40);
}

#[test]
fn load_to_pc_interworks_and_needs_word_alignment() {
    let mut ram = Ram::new();
    ram.put(RAM, 0x2001);
    let f = run_mem(0xe591_f000, ADDR, &[(1, RAM)], SVC, &mut ram).unwrap(); // ldr pc, [r1]
    assert_eq!((f.pc, f.cpsr), (0x2000, SVC | psr::T));
    let err = run_mem(0xe591_f000, ADDR, &[(1, RAM + 1)], SVC, &mut ram);
    assert_eq!(err, Err(StepError::UnalignedPcLoad { address: RAM + 1 }));
}

#[test]
fn halfword_signed_and_dual_transfers() {
    let mut ram = Ram::new();
    ram.put(RAM, 0x8081_f0f1);
    let f = run_mem(0xe1d1_00b2, ADDR, &[(1, RAM)], SVC, &mut ram).unwrap(); // ldrh r0, [r1, #2]
    assert_eq!(f.r[0], 0x8081);
    let f = run_mem(0xe191_00f2, ADDR, &[(1, RAM), (2, 2)], SVC, &mut ram).unwrap(); // ldrsh r0, [r1, r2]
    assert_eq!(f.r[0], 0xffff_8081);
    let f = run_mem(0xe171_00d1, ADDR, &[(1, RAM + 1)], SVC, &mut ram).unwrap(); // ldrsb r0, [r1, #-1]!
    assert_eq!((f.r[0], f.r[1]), (0xffff_fff1, RAM));
    let f = run_mem(
        0xe0c1_00b2,
        ADDR,
        &[(0, 0x1_2345), (1, RAM + 8)],
        SVC,
        &mut ram,
    )
    .unwrap(); // strh r0, [r1], #2
    assert_eq!((ram.word(RAM + 8) & 0xffff, f.r[1]), (0x2345, RAM + 10));
    ram.put(RAM + 0x18, 11);
    ram.put(RAM + 0x1c, 22);
    let f = run_mem(0xe1c1_20d8, ADDR, &[(1, RAM + 0x10)], SVC, &mut ram).unwrap(); // ldrd r2, r3, [r1, #8]
    assert_eq!((f.r[2], f.r[3]), (11, 22));
    let f = run_mem(
        0xe161_20f8,
        ADDR,
        &[(1, RAM + 0x30), (2, 7), (3, 8)],
        SVC,
        &mut ram,
    )
    .unwrap(); // strd r2, r3, [r1, #-8]!
    assert_eq!(
        (ram.word(RAM + 0x28), ram.word(RAM + 0x2c), f.r[1]),
        (7, 8, RAM + 0x28)
    );
    let f = run_mem(0xe181_20d0, ADDR, &[(0, 8), (1, RAM + 0x10)], SVC, &mut ram).unwrap(); // ldrd r2, r3, [r1, r0]
    assert_eq!((f.r[2], f.r[3]), (11, 22));
    let err = run_mem(0xe1c1_20d8, ADDR, &[(1, RAM + 2)], SVC, &mut ram);
    assert_eq!(err, Err(StepError::AlignmentFault { address: RAM + 10 }));
}

#[test]
fn load_store_multiple_in_all_modes() {
    let mut ram = Ram::new();
    let regs = [(0, 10), (1, 11), (13, RAM + 0x80), (14, 0x3001)];
    let f = run_mem(0xe92d_4003, ADDR, &regs, SVC, &mut ram).unwrap(); // push {r0, r1, lr}
    assert_eq!(f.sp, RAM + 0x74);
    assert_eq!(
        [
            ram.word(RAM + 0x74),
            ram.word(RAM + 0x78),
            ram.word(RAM + 0x7c)
        ],
        [10, 11, 0x3001]
    );
    let f = run_mem(0xe8bd_8003, ADDR, &[(13, RAM + 0x74)], SVC, &mut ram).unwrap(); // pop {r0, r1, pc}
    assert_eq!(
        (f.r[0], f.r[1], f.sp, f.pc, f.cpsr),
        (10, 11, RAM + 0x80, 0x3000, SVC | psr::T)
    );
    run_mem(
        0xe981_000c,
        ADDR,
        &[(1, RAM), (2, 2), (3, 3)],
        SVC,
        &mut ram,
    )
    .unwrap(); // stmib r1, {r2, r3}
    assert_eq!((ram.word(RAM + 4), ram.word(RAM + 8)), (2, 3));
    let f = run_mem(0xe831_000c, ADDR, &[(1, RAM + 8)], SVC, &mut ram).unwrap(); // ldmda r1!, {r2, r3}
    assert_eq!((f.r[2], f.r[3], f.r[1]), (2, 3, RAM));
    let f = run_mem(
        0xe92d_6000,
        ADDR,
        &[(13, RAM + 0x90), (14, 5)],
        SVC,
        &mut ram,
    )
    .unwrap(); // stmdb sp!, {sp, lr}
    assert_eq!(
        (ram.word(RAM + 0x88), ram.word(RAM + 0x8c), f.sp),
        (RAM + 0x90, 5, RAM + 0x88)
    );
    run_mem(0xe881_8000, ADDR, &[(1, RAM + 0xa0)], SVC, &mut ram).unwrap(); // stmia r1, {pc}
    assert_eq!(ram.word(RAM + 0xa0), ADDR + 8);
    let f = run_mem(0xe891_0003, ADDR, &[(1, RAM + 0x74)], SVC, &mut ram).unwrap(); // ldmia r1, {r0, r1}
    assert_eq!(
        (f.r[0], f.r[1]),
        (10, 11),
        "base in list without writeback is loaded"
    );
    let err = run_mem(0xe891_0003, ADDR, &[(1, RAM + 2)], SVC, &mut ram);
    assert_eq!(err, Err(StepError::AlignmentFault { address: RAM + 2 }));
}
