//! The in-kernel tests, in the order they run.

pub mod conformance;
mod emulation;
mod events;
#[cfg(feature = "board-virt")]
mod hotplug;
pub mod kprobes;
pub mod kretprobes;
mod never_probe;
mod optprobes;
mod probe_conformance;
mod rendezvous;
mod safety_locks;
mod safety_slots;
mod safety_step;
mod smoke;
mod thumb_optprobes;
pub(crate) mod thumb_probes;

use crate::platform::PLATFORM;
use crate::testing::Test;
use armv7_kprobes::{CpuSet, InterruptState, Platform};
use core::ops::Range;

/// The kernel's platform with its memory map replaced, for a test's own probe registry:
/// CPUs, IPIs and interrupt masking are the kernel's; what counts as text, what is never
/// probed, where slots go and how text is written are the test's.
pub struct TestPlatform {
    /// Text that may be probed.
    pub text: fn() -> Range<usize>,
    /// Never-probe ranges.
    pub never_probe: fn() -> &'static [Range<usize>],
    /// Slot memory.
    pub slots: fn() -> Range<usize>,
    /// The writable view of a text or slot word.
    pub alias: fn(usize) -> *mut u32,
    /// The register optimized probes' trampolines read the CPU index from.
    pub cpu_index: fn() -> armv7_kprobes::CpuIndexSource,
}

impl Platform for TestPlatform {
    fn cpu_id(&self) -> usize {
        PLATFORM.cpu_id()
    }
    fn online_cpus(&self) -> CpuSet {
        PLATFORM.online_cpus()
    }
    fn send_ipi(&self, targets: CpuSet) {
        PLATFORM.send_ipi(targets)
    }
    fn mask_interrupts(&self) -> InterruptState {
        PLATFORM.mask_interrupts()
    }
    fn restore_interrupts(&self, previous: InterruptState) {
        PLATFORM.restore_interrupts(previous)
    }
    fn interrupts_masked(&self) -> bool {
        PLATFORM.interrupts_masked()
    }
    fn kernel_text(&self) -> Range<usize> {
        (self.text)()
    }
    fn never_probe(&self) -> &[Range<usize>] {
        (self.never_probe)()
    }
    fn slot_region(&self) -> Range<usize> {
        (self.slots)()
    }
    fn text_alias(&self, addr: usize) -> *mut u32 {
        (self.alias)(addr)
    }
    fn cpu_index_register(&self) -> armv7_kprobes::CpuIndexSource {
        (self.cpu_index)()
    }
}

/// Every in-kernel test.
pub const ALL: &[Test] = &[
    Test {
        name: "rendezvous_runs_callbacks_exactly_once_on_one_or_all_cores",
        run: rendezvous::rendezvous_runs_callbacks_exactly_once_on_one_or_all_cores,
    },
    Test {
        name: "nested_rendezvous_is_refused_and_the_system_keeps_running",
        run: rendezvous::nested_rendezvous_is_refused_and_the_system_keeps_running,
    },
    Test {
        name: "rewriting_a_running_function_10000_times_shows_only_valid_results",
        run: rendezvous::rewriting_a_running_function_10000_times_shows_only_valid_results,
    },
    Test {
        name: "all_cores_online_with_distinct_mpidr",
        run: smoke::all_cores_online_with_distinct_mpidr,
    },
    Test {
        name: "ipi_from_core0_reaches_cores_1_to_3_and_back",
        run: smoke::ipi_from_core0_reaches_others_and_back,
    },
    Test {
        name: "ipi_from_every_core_reaches_every_other",
        run: smoke::ipi_from_every_core_reaches_every_other,
    },
    Test {
        name: "an_ipi_to_self_waits_while_masked_and_is_taken_once_with_its_sender",
        run: smoke::an_ipi_to_self_waits_while_masked_and_is_taken_once_with_its_sender,
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
        name: "thumb_step_engines_match_native_execution_on_every_table_row",
        run: conformance::thumb_step_engines_match_native_execution,
    },
    Test {
        name: "emulation_slots_match_simulation_and_native_execution",
        run: emulation::slot_emulation_matches_simulation_and_native_execution,
    },
    Test {
        name: "probed_instructions_match_native_execution_in_every_scenario",
        run: probe_conformance::probed_instructions_match_native_execution,
    },
    Test {
        name: "optimized_probes_step_every_case_like_native_execution",
        run: probe_conformance::optimized_probes_step_every_case_like_native_execution,
    },
    Test {
        name: "optimized_probes_run_pc_free_cases_in_the_slot_like_native_execution",
        run:
            probe_conformance::optimized_probes_run_pc_free_cases_in_the_slot_like_native_execution,
    },
    Test {
        name: "optimized_probes_without_a_cpu_index_register_run_pc_free_cases_like_native_execution",
        run: probe_conformance::optimized_probes_without_a_cpu_index_register_run_pc_free_cases_like_native_execution,
    },
    Test {
        name: "thumb_breakpoint_probes_match_native_execution_in_every_scenario",
        run: probe_conformance::thumb_breakpoint_probes_match_native_execution,
    },
    Test {
        name: "thumb_optimized_probes_match_native_execution_in_every_scenario",
        run: probe_conformance::thumb_optimized_probes_match_native_execution,
    },
    Test {
        name: "kprobe_registration_errors_leave_text_and_registry_unchanged",
        run: kprobes::every_registration_error_leaves_text_and_registry_unchanged,
    },
    Test {
        name: "kprobe_state_transitions_write_and_restore_text_exactly",
        run: kprobes::state_transitions_write_and_restore_text_exactly,
    },
    Test {
        name: "kprobe_handlers_see_arguments_and_change_the_result",
        run: kprobes::handlers_see_arguments_and_change_the_result,
    },
    Test {
        name: "conditional_kprobe_fires_only_when_its_condition_passes",
        run: kprobes::conditional_probe_fires_only_when_its_condition_passes,
    },
    Test {
        name: "four_cores_hitting_same_and_different_kprobes_count_exactly",
        run: kprobes::four_cores_hitting_same_and_different_probes_count_exactly,
    },
    Test {
        name: "kprobe_handler_calling_a_probed_function_counts_missed",
        run: kprobes::a_handler_calling_a_probed_function_counts_missed_and_keeps_results,
    },
    Test {
        name: "kprobe_churn_on_core0_while_three_cores_call_probed_functions",
        run: kprobes::churn_on_core0_while_three_cores_call_probed_functions,
    },
    Test {
        name: "thumb_probes_step_both_sizes_in_and_out_of_it_blocks_on_every_core",
        run: thumb_probes::thumb_probes_step_both_sizes_in_and_out_of_it_blocks_on_every_core,
    },
    Test {
        name: "a_kretprobe_on_a_thumb_function_returns_to_arm_and_thumb_callers",
        run: thumb_probes::a_kretprobe_on_a_thumb_function_returns_to_arm_and_thumb_callers,
    },
    Test {
        name: "a_stepped_thumb_load_that_aborts_is_seen_at_the_probe",
        run: thumb_probes::a_stepped_thumb_load_that_aborts_is_seen_at_the_probe,
    },
    Test {
        name: "optimized_thumb_probes_run_in_their_slots_on_every_core",
        run: thumb_optprobes::optimized_thumb_probes_run_in_their_slots_on_every_core,
    },
    Test {
        name: "an_optimized_thumb_load_that_aborts_is_seen_at_the_probe",
        run: thumb_optprobes::an_optimized_thumb_load_that_aborts_is_seen_at_the_probe,
    },
    Test {
        name: "a_kretprobe_with_an_optimized_thumb_entry_changes_every_cores_results",
        run: thumb_optprobes::a_kretprobe_with_an_optimized_thumb_entry_changes_every_cores_results,
    },
    Test {
        name: "kprobe_listing_shows_address_state_and_counters",
        run: kprobes::listing_shows_address_state_and_counters,
    },
    Test {
        name: "optimized_probes_run_handlers_through_both_trampoline_variants",
        run: optprobes::optimized_probes_run_handlers_through_both_trampoline_variants,
    },
    Test {
        name: "a_handler_changes_only_the_flags_through_an_optimized_probe",
        run: optprobes::a_handler_changes_only_the_flags_through_an_optimized_probe,
    },
    Test {
        name: "optimizing_1000_probes_takes_one_rendezvous",
        run: optprobes::optimizing_1000_probes_takes_one_rendezvous,
    },
    Test {
        name: "probes_stay_working_breakpoints_when_slots_are_out_of_reach",
        run: optprobes::probes_stay_working_breakpoints_when_slots_are_out_of_reach,
    },
    Test {
        name: "optimize_churn_on_core0_while_three_cores_call_probed_functions",
        run: optprobes::optimize_churn_on_core0_while_three_cores_call_probed_functions,
    },
    Test {
        name: "kretprobe_errors_leave_probe_and_text_unchanged",
        run: kretprobes::kretprobe_errors_leave_probe_and_text_unchanged,
    },
    Test {
        name: "kretprobe_sees_arguments_and_result_and_changes_it",
        run: kretprobes::return_handler_sees_arguments_and_result_and_changes_it,
    },
    Test {
        name: "kretprobe_recursion_50_deep_reports_every_level",
        run: kretprobes::recursion_50_deep_returns_correctly_and_reports_every_level,
    },
    Test {
        name: "kretprobe_pool_exhaustion_counts_missed",
        run: kretprobes::an_exhausted_pool_counts_missed_and_the_calls_still_return,
    },
    Test {
        name: "kretprobe_tail_call_returns_through_both_probes",
        run: kretprobes::a_tail_call_between_probed_functions_returns_through_both,
    },
    Test {
        name: "kretprobe_four_cores_count_exactly",
        run: kretprobes::four_cores_calling_a_probed_recursion_count_exactly,
    },
    Test {
        name: "kretprobe_unregister_while_cores_are_inside_loses_no_return",
        run: kretprobes::unregistering_while_other_cores_are_inside_loses_no_return,
    },
    Test {
        name: "kretprobe_follows_every_call_with_a_frame_and_in_a_leaf",
        run: kretprobes::the_benchmark_probe_follows_every_call_with_a_frame_and_in_a_leaf,
    },
    Test {
        name: "kretprobe_with_optimized_entry_probes_follows_recursion_and_tail_calls",
        run: kretprobes::optimized_entry_probes_follow_recursion_and_tail_calls,
    },
    Test {
        name: "probe_events_on_four_cores_account_for_every_hit",
        run: events::probe_events_on_four_cores_account_for_every_hit,
    },
    Test {
        name: "registry_calls_during_a_rendezvous_that_waits_for_their_cpu_are_refused_not_hung",
        run: safety_locks::registry_calls_during_a_rendezvous_that_waits_for_their_cpu_are_refused_not_hung,
    },
    Test {
        name: "a_second_registry_over_the_same_text_cannot_take_the_first_ones_probes",
        run: safety_locks::a_second_registry_over_the_same_text_cannot_take_the_first_ones_probes,
    },
    Test {
        name: "handlers_run_with_irq_and_fiq_masked_on_both_paths",
        run: safety_locks::handlers_run_with_irq_and_fiq_masked_on_both_paths,
    },
    Test {
        name: "a_stepped_load_that_aborts_is_seen_at_the_breakpoint_probe",
        run: safety_step::a_stepped_load_that_aborts_is_seen_at_the_breakpoint_probe,
    },
    Test {
        name: "a_stepped_load_that_aborts_is_seen_at_the_optimized_probe",
        run: safety_step::a_stepped_load_that_aborts_is_seen_at_the_optimized_probe,
    },
    Test {
        name: "an_original_that_aborts_in_its_slot_is_seen_at_the_probe",
        run: safety_step::an_original_that_aborts_in_its_slot_is_seen_at_the_probe,
    },
    Test {
        name: "unaligned_loads_and_stores_are_stepped_as_the_cpu_makes_them",
        run: safety_step::unaligned_loads_and_stores_are_stepped_as_the_cpu_makes_them,
    },
    Test {
        name: "a_breakpoint_hit_in_svc_mode_keeps_the_sys_mode_lr",
        run: safety_step::a_breakpoint_hit_in_svc_mode_keeps_the_sys_mode_lr,
    },
    Test {
        name: "a_redirect_to_thumb_works_through_both_probe_kinds",
        run: safety_step::a_redirect_to_thumb_works_through_both_probe_kinds,
    },
    Test {
        name: "a_probed_wfi_wakes_for_a_rendezvous_on_both_paths",
        run: safety_step::a_probed_wfi_wakes_for_a_rendezvous_on_both_paths,
    },
    Test {
        name: "a_probed_wfe_never_sleeps_through_a_rendezvous_on_both_paths",
        run: safety_step::a_probed_wfe_never_sleeps_through_a_rendezvous_on_both_paths,
    },
    Test {
        name: "aborts_that_are_not_a_probes_stay_where_they_happened",
        run: safety_step::aborts_that_are_not_a_probes_stay_where_they_happened,
    },
    Test {
        name: "compiler_builtins_on_the_hit_path_cannot_be_probed",
        run: never_probe::compiler_builtins_cannot_be_probed,
    },
    // virt only: vexpress-a15 and raspi2b have no PSCI, so no core can be powered off
    // there; the host test
    // `hotplug_runs_1000_power_cycles_on_virt_and_is_reported_not_applicable_elsewhere`
    // checks that this one ran.
    #[cfg(feature = "board-virt")]
    Test {
        name: "hotplug_cores_1_to_3_off_and_on_1000_times_while_core0_churns_probes",
        run: hotplug::cores_1_to_3_off_and_on_1000_times_while_core0_churns_probes,
    },
    Test {
        name: "slots_a_cpu_inside_a_slot_keeps_it_dirty_until_seen_outside",
        run: safety_slots::a_cpu_inside_a_slot_keeps_it_dirty_until_a_rendezvous_sees_it_outside,
    },
    Test {
        name: "slots_alternation_while_other_cores_call_gives_only_right_results",
        run: safety_slots::slot_alternation_while_other_cores_call_gives_only_right_results,
    },
    Test {
        name: "stack_high_water_marks_per_entry_point_stay_within_budget",
        run: safety_slots::stack_high_water_marks_per_entry_point_stay_within_budget,
    },
];

/// Added by the runner's `--inject fail`, to prove a failing test fails the run.
pub const INJECTED_FAILURE: Test = Test {
    name: "deliberately_failing_test",
    run: smoke::deliberately_failing_test,
};
