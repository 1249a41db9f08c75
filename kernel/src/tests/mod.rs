//! The in-kernel tests, in the order they run.

pub mod conformance;
mod emulation;
mod smoke;

use crate::testing::Test;

/// Every in-kernel test.
pub const ALL: &[Test] = &[
    Test {
        name: "all_cores_online_with_distinct_mpidr",
        run: smoke::all_cores_online_with_distinct_mpidr,
    },
    Test {
        name: "sgi_from_core0_reaches_cores_1_to_3_and_back",
        run: smoke::sgi_from_core0_reaches_others_and_back,
    },
    Test {
        name: "sgi_from_every_core_reaches_every_other",
        run: smoke::sgi_from_every_core_reaches_every_other,
    },
    Test {
        name: "text_is_read_only_and_its_alias_writable_never_executable",
        run: smoke::text_is_read_only_and_alias_writable,
    },
    Test {
        name: "breakpoint_trap_sees_args_changes_register_and_resumes_on_every_core",
        run: smoke::breakpoint_trap_on_every_core,
    },
    Test {
        name: "heap_allocates_and_frees",
        run: smoke::heap_allocates_and_frees,
    },
    Test {
        name: "step_engine_matches_native_execution_on_every_table_row",
        run: conformance::step_engine_matches_native_execution,
    },
    Test {
        name: "emulation_slots_match_simulation_and_native_execution",
        run: emulation::slot_emulation_matches_simulation_and_native_execution,
    },
];

/// Added by the runner's `--inject fail`, to prove a failing test fails the run.
pub const INJECTED_FAILURE: Test = Test {
    name: "deliberately_failing_test",
    run: smoke::deliberately_failing_test,
};
