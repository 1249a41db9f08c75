use super::*;
use proptest::prelude::*;

fn event(line: &str) -> EventDefinition<'_> {
    match parse(line) {
        Ok(Definition::Event(e)) => e,
        other => panic!("{line:?}: {other:?}"),
    }
}

fn one_arg(line: &str) -> FetchArg<'_> {
    let e = event(line);
    assert_eq!(e.args().len(), 1, "{line:?}");
    e.args()[0]
}

fn err(line: &str) -> DefinitionError {
    match parse(line) {
        Err(e) => {
            assert!(e.column() <= line.len(), "{line:?}: {e}");
            e
        }
        Ok(d) => panic!("{line:?} parsed: {d:?}"),
    }
}

#[test]
fn entry_event_with_name_symbol_offset_and_named_args() {
    let e = event("p:myprobe do_sys_open+0x10 dfd=%r0 name=+0(%r1):string\n");
    assert_eq!(e.kind, EventKind::Entry);
    assert_eq!(e.name, EventName::Given("myprobe"));
    assert_eq!(
        e.target,
        Target::Symbol {
            name: "do_sys_open",
            offset: 0x10
        }
    );
    let [dfd, name] = e.args() else {
        panic!("{:?}", e.args())
    };
    assert_eq!(dfd.name, ArgName::Given("dfd"));
    assert_eq!(dfd.fetch, Fetch::new(FetchBase::Register(0)));
    assert_eq!(dfd.ty, FetchType::X32);
    assert_eq!(dfd.slot, 0);
    assert_eq!(name.name, ArgName::Given("name"));
    assert_eq!(name.fetch.base, FetchBase::Register(1));
    assert_eq!(name.fetch.derefs(), &[0]);
    assert_eq!(name.ty, FetchType::String);
    assert_eq!(name.slot, 1);
    assert_eq!(e.slots_used(), 1 + STRING_SLOTS);
}

#[test]
fn unnamed_event_and_args_get_linux_style_names() {
    let e = event("p do_open+16 %r0 %r1");
    assert_eq!(e.name.to_string(), "p_do_open_16");
    assert_eq!(e.args()[0].name.to_string(), "arg1");
    assert_eq!(e.args()[1].name.to_string(), "arg2");
    assert_eq!(event("r do_open").name.to_string(), "r_do_open_0");
    assert_eq!(event("p 0x80001000").name.to_string(), "p_0x80001000");
    assert_eq!(event("r 2147487744").name.to_string(), "r_0x80001000");
    assert_eq!(event("p f").args().len(), 0);
}

#[test]
fn targets_symbol_offset_and_address() {
    assert_eq!(
        event("p f").target,
        Target::Symbol {
            name: "f",
            offset: 0
        }
    );
    assert_eq!(
        event("p _ZN4core3fmt5write17h0123456789abcdefE+4").target,
        Target::Symbol {
            name: "_ZN4core3fmt5write17h0123456789abcdefE",
            offset: 4
        }
    );
    assert_eq!(
        event("p .L$tmp.1").target,
        Target::Symbol {
            name: ".L$tmp.1",
            offset: 0
        }
    );
    assert_eq!(event("p 0xffffFFFF").target, Target::Address(u32::MAX));
    assert_eq!(event("p 4096").target, Target::Address(4096));
    assert_eq!(
        event("r:ret f+0").target,
        Target::Symbol {
            name: "f",
            offset: 0
        }
    );
    assert_eq!(event("r 0x8000").target, Target::Address(0x8000));
    assert_eq!(event("p f+0x10").target.to_string(), "f+0x10");
    assert_eq!(event("p 0x10").target.to_string(), "0x10");
}

#[test]
fn remove_line() {
    assert_eq!(
        parse("-:myprobe"),
        Ok(Definition::Remove { name: "myprobe" })
    );
    assert_eq!(
        parse("  -:x_1  \r\n"),
        Ok(Definition::Remove { name: "x_1" })
    );
}

#[test]
fn every_register() {
    for n in 0..=12u8 {
        let line = format!("p f %r{n}");
        assert_eq!(one_arg(&line).fetch.base, FetchBase::Register(n), "{line}");
    }
    for (name, n) in [("fp", 11), ("ip", 12), ("sp", 13), ("lr", 14), ("pc", 15)] {
        let line = format!("p f %{name}");
        assert_eq!(one_arg(&line).fetch.base, FetchBase::Register(n));
    }
    assert_eq!(one_arg("p f %cpsr").fetch.base, FetchBase::Cpsr);
}

#[test]
fn variables() {
    assert_eq!(one_arg("p f $cpu").fetch.base, FetchBase::Cpu);
    assert_eq!(one_arg("r f $cpu").fetch.base, FetchBase::Cpu);
    let ret = one_arg("r f ret=$retval:s32");
    assert_eq!(ret.fetch.base, FetchBase::ReturnValue);
    assert_eq!(ret.ty, FetchType::S32);
}

#[test]
fn every_type() {
    for (name, ty) in FetchType::ALL {
        let line = format!("p f v=+0(%r0):{name}");
        assert_eq!(one_arg(&line).ty, ty, "{line}");
        assert_eq!(FetchType::from_name(name), Some(ty));
        assert_eq!(ty.name(), name);
        assert_eq!(FetchType::from_code(ty as u8), Some(ty));
        if ty != FetchType::String {
            let line = format!("p f %r0:{name}");
            assert_eq!(one_arg(&line).ty, ty, "{line}");
        }
    }
    assert_eq!(FetchType::from_code(13), None);
    assert_eq!(FetchType::U16.size(), Some(2));
    assert_eq!(FetchType::X64.size(), Some(8));
    assert_eq!(FetchType::String.size(), None);
    assert!(FetchType::S8.is_signed() && !FetchType::U8.is_signed());
    assert!(FetchType::X8.is_hex() && !FetchType::S8.is_hex());
}

#[test]
fn memory_fetches_nest_innermost_first() {
    let a = one_arg("p f +4(%sp)");
    assert_eq!(a.fetch.base, FetchBase::Register(13));
    assert_eq!(a.fetch.derefs(), &[4]);
    assert!(a.fetch.reads_memory());
    assert_eq!(one_arg("p f -0x8(%r11)").fetch.derefs(), &[-8]);
    let deep = one_arg("p f +1(-2(+0x3(+4(%r2)))):u8");
    assert_eq!(deep.fetch.derefs(), &[4, 3, -2, 1]);
    assert_eq!(one_arg("p f -2147483648(%r0)").fetch.derefs(), &[i32::MIN]);
    assert_eq!(one_arg("p f +2147483647($cpu)").fetch.derefs(), &[i32::MAX]);
    assert_eq!(
        one_arg("r f +8($retval):string").fetch.base,
        FetchBase::ReturnValue
    );
    assert!(!one_arg("p f %r0").fetch.reads_memory());
}

#[test]
fn slots_fill_in_order_and_eight_args_fit() {
    let e = event("p f %r0 %r1 %r2 %r3 %r4 %r5 %r6 %r7");
    assert_eq!(e.args().len(), MAX_FETCH_ARGS);
    for (i, a) in e.args().iter().enumerate() {
        assert_eq!(usize::from(a.slot), i);
    }
    let e = event("p f a=+0(%r0):string %r1 b=+0(%r2):string");
    let slots: Vec<u8> = e.args().iter().map(|a| a.slot).collect();
    assert_eq!(slots, [0, 3, 4]);
    assert_eq!(e.slots_used(), 7);
}

#[test]
fn blanks_are_spaces_or_tabs_anywhere_between_tokens() {
    let e = event("\t p:x \t f\t\t%r0   %r1 \t");
    assert_eq!(e.args().len(), 2);
}

#[test]
fn arg_names_compare_as_printed() {
    assert!(ArgName::Given("arg2").same_as(&ArgName::Position(2)));
    assert!(ArgName::Position(2).same_as(&ArgName::Given("arg2")));
    assert!(!ArgName::Given("arg02").same_as(&ArgName::Position(2)));
    assert!(!ArgName::Given("a").same_as(&ArgName::Given("b")));
    assert!(ArgName::Position(1).same_as(&ArgName::Position(1)));
}

// One test per error variant, each with the column it names.

#[test]
fn error_line_too_long() {
    let line = format!("p f {}", "%r0 ".repeat(300));
    assert_eq!(
        err(&line),
        DefinitionError::LineTooLong {
            column: MAX_LINE_LEN
        }
    );
}

#[test]
fn error_empty() {
    assert_eq!(err(""), DefinitionError::Empty { column: 0 });
    assert_eq!(err("  \t"), DefinitionError::Empty { column: 3 });
}

#[test]
fn error_expected_kind() {
    assert_eq!(err("  x:f g"), DefinitionError::ExpectedKind { column: 2 });
}

#[test]
fn error_expected_colon_or_blank() {
    assert_eq!(
        err("pf g"),
        DefinitionError::ExpectedColonOrBlank { column: 1 }
    );
}

#[test]
fn error_expected_colon() {
    assert_eq!(err("-x"), DefinitionError::ExpectedColon { column: 1 });
}

#[test]
fn error_expected_name() {
    assert_eq!(err("p:1x f"), DefinitionError::ExpectedName { column: 2 });
    assert_eq!(err("-:"), DefinitionError::ExpectedName { column: 2 });
}

#[test]
fn error_name_too_long() {
    let line = format!("p:{} f", "n".repeat(MAX_NAME_LEN + 1));
    assert_eq!(err(&line), DefinitionError::NameTooLong { column: 2 });
    let ok = format!("p:{} f", "n".repeat(MAX_NAME_LEN));
    assert!(parse(&ok).is_ok());
}

#[test]
fn error_expected_target() {
    assert_eq!(err("p:x"), DefinitionError::ExpectedTarget { column: 3 });
    assert_eq!(err("p:x  "), DefinitionError::ExpectedTarget { column: 5 });
    assert_eq!(err("p %r0"), DefinitionError::ExpectedTarget { column: 2 });
    assert_eq!(err("p f(x)"), DefinitionError::ExpectedTarget { column: 3 });
    assert_eq!(err("p:x! f"), DefinitionError::ExpectedTarget { column: 3 });
    // Found by the proptest: an address run into the first argument.
    assert_eq!(
        err("p 0x80001000%r1"),
        DefinitionError::ExpectedTarget { column: 12 }
    );
    assert_eq!(
        err("r 16(x)"),
        DefinitionError::ExpectedTarget { column: 4 }
    );
}

#[test]
fn error_expected_number() {
    assert_eq!(err("p 0x"), DefinitionError::ExpectedNumber { column: 2 });
    assert_eq!(err("p 12ab"), DefinitionError::ExpectedNumber { column: 2 });
    assert_eq!(
        err("p 4294967296"),
        DefinitionError::ExpectedNumber { column: 2 }
    );
    assert_eq!(err("p f+"), DefinitionError::ExpectedNumber { column: 4 });
    assert_eq!(
        err("p f +x(%r0)"),
        DefinitionError::ExpectedNumber { column: 5 }
    );
}

#[test]
fn error_return_probe_offset() {
    assert_eq!(
        err("r f+4"),
        DefinitionError::ReturnProbeOffset { column: 4 }
    );
}

#[test]
fn error_remove_takes_nothing_more() {
    assert_eq!(
        err("-:x %r0"),
        DefinitionError::RemoveTakesNothingMore { column: 4 }
    );
    assert_eq!(
        err("-:x."),
        DefinitionError::RemoveTakesNothingMore { column: 3 }
    );
}

#[test]
fn error_too_many_args() {
    assert_eq!(
        err("p f %r0 %r1 %r2 %r3 %r4 %r5 %r6 %r7 %r8"),
        DefinitionError::TooManyArgs { column: 36 }
    );
}

#[test]
fn error_expected_fetch() {
    assert_eq!(err("p f r0"), DefinitionError::ExpectedFetch { column: 4 });
    assert_eq!(
        err("p f a=r0"),
        DefinitionError::ExpectedFetch { column: 6 }
    );
    assert_eq!(
        err("p f @0x10"),
        DefinitionError::ExpectedFetch { column: 4 }
    );
    assert_eq!(
        err("p f +0()"),
        DefinitionError::ExpectedFetch { column: 7 }
    );
}

#[test]
fn error_unknown_register() {
    assert_eq!(
        err("p f %r13"),
        DefinitionError::UnknownRegister { column: 5 }
    );
    assert_eq!(
        err("p f %r01"),
        DefinitionError::UnknownRegister { column: 5 }
    );
    assert_eq!(err("p f %"), DefinitionError::UnknownRegister { column: 5 });
    assert_eq!(
        err("p f %x0"),
        DefinitionError::UnknownRegister { column: 5 }
    );
    assert_eq!(
        err("p f %r"),
        DefinitionError::UnknownRegister { column: 5 }
    );
}

#[test]
fn error_unknown_variable() {
    assert_eq!(
        err("p f $comm"),
        DefinitionError::UnknownVariable { column: 5 }
    );
}

#[test]
fn error_return_value_in_entry_event() {
    assert_eq!(
        err("p f x=+0($retval)"),
        DefinitionError::ReturnValueInEntryEvent { column: 9 }
    );
}

#[test]
fn error_deref_too_deep() {
    assert_eq!(
        err("p f +0(+0(+0(+0(+0(%r0)))))"),
        DefinitionError::DerefTooDeep { column: 16 }
    );
}

#[test]
fn error_expected_open_paren() {
    assert_eq!(
        err("p f +4 %r0"),
        DefinitionError::ExpectedOpenParen { column: 6 }
    );
}

#[test]
fn error_expected_close_paren() {
    assert_eq!(
        err("p f +4(%r0"),
        DefinitionError::ExpectedCloseParen { column: 10 }
    );
    assert_eq!(
        err("p f +4(%r0 x"),
        DefinitionError::ExpectedCloseParen { column: 10 }
    );
}

#[test]
fn error_offset_out_of_range() {
    assert_eq!(
        err("p f +2147483648(%r0)"),
        DefinitionError::OffsetOutOfRange { column: 5 }
    );
    assert_eq!(
        err("p f -0x80000001(%r0)"),
        DefinitionError::OffsetOutOfRange { column: 5 }
    );
}

#[test]
fn error_unknown_type() {
    assert_eq!(
        err("p f %r0:u128"),
        DefinitionError::UnknownType { column: 8 }
    );
    assert_eq!(err("p f %r0:"), DefinitionError::UnknownType { column: 8 });
    assert_eq!(
        err("p f %r0:u32("),
        DefinitionError::UnknownType { column: 8 }
    );
}

#[test]
fn error_string_needs_memory() {
    assert_eq!(
        err("p f %r0:string"),
        DefinitionError::StringNeedsMemory { column: 8 }
    );
}

#[test]
fn error_expected_type_or_blank() {
    assert_eq!(
        err("p f %r0)"),
        DefinitionError::ExpectedTypeOrBlank { column: 7 }
    );
    assert_eq!(
        err("p f %r0,%r1"),
        DefinitionError::ExpectedTypeOrBlank { column: 7 }
    );
}

#[test]
fn error_duplicate_arg_name() {
    assert_eq!(
        err("p f a=%r0 a=%r1"),
        DefinitionError::DuplicateArgName { column: 10 }
    );
    assert_eq!(
        err("p f %r0 arg1=%r1"),
        DefinitionError::DuplicateArgName { column: 8 }
    );
}

#[test]
fn error_record_full() {
    assert_eq!(
        err("p f +0(%r0):string +0(%r1):string +0(%r2):string"),
        DefinitionError::RecordFull { column: 34 }
    );
}

#[test]
fn error_display_names_column_and_expectation() {
    let e = err("p f %r0:u128");
    assert_eq!(
        e.to_string(),
        "column 8: expected a type: u8-u64, s8-s64, x8-x64 (8/16/32/64) or string"
    );
}

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("p".to_string()),
        Just("r".to_string()),
        Just("-".to_string()),
        Just(":".to_string()),
        Just(" ".to_string()),
        Just("\t".to_string()),
        Just("%r1".to_string()),
        Just("%sp".to_string()),
        Just("$retval".to_string()),
        Just("$cpu".to_string()),
        Just("+4(".to_string()),
        Just("-0x8(".to_string()),
        Just(")".to_string()),
        Just(":string".to_string()),
        Just(":u8".to_string()),
        Just("name=".to_string()),
        Just("f+0x10".to_string()),
        Just("0x80001000".to_string()),
        "[ -~]{0,6}",
        "\\PC{0,3}",
    ]
}

proptest! {
    #[test]
    fn random_lines_never_panic_and_errors_point_inside_the_line(s in "\\PC{0,80}") {
        if let Err(e) = parse(&s) {
            prop_assert!(e.column() <= s.len(), "{s:?}: {e}");
            prop_assert!(s.is_char_boundary(e.column().min(s.len())));
        }
    }

    #[test]
    fn grammar_shaped_lines_never_panic_and_errors_point_inside_the_line(
        parts in prop::collection::vec(fragment(), 0..24)
    ) {
        let s: String = parts.concat();
        match parse(&s) {
            Err(e) => prop_assert!(e.column() <= s.len(), "{s:?}: {e}"),
            Ok(Definition::Event(e)) => {
                prop_assert!(e.args().len() <= MAX_FETCH_ARGS);
                prop_assert!(e.slots_used() <= MAX_VALUE_SLOTS);
                for a in e.args() {
                    prop_assert!(a.fetch.derefs().len() <= MAX_DEREF_DEPTH);
                }
            }
            Ok(Definition::Remove { .. }) => {}
        }
    }
}

struct Symbols;

impl crate::SymbolLookup for Symbols {
    fn lookup(&self, name: &str) -> Option<core::ops::Range<usize>> {
        (name == "do_open").then_some(0x8000_1000..0x8000_1040)
    }
}

#[test]
fn targets_resolve_through_the_symbol_table() {
    assert_eq!(event("p do_open").target.resolve(&Symbols), Ok(0x8000_1000));
    assert_eq!(
        event("p do_open+0x3c").target.resolve(&Symbols),
        Ok(0x8000_103c)
    );
    assert_eq!(event("p 0x1234").target.resolve(&Symbols), Ok(0x1234));
}

#[test]
fn resolve_error_unknown_symbol() {
    let e = event("p nope").target.resolve(&Symbols).unwrap_err();
    assert_eq!(e, ResolveError::UnknownSymbol);
    assert_eq!(e.to_string(), "no such symbol");
}

#[test]
fn resolve_error_offset_outside_symbol() {
    let e = event("p do_open+0x40")
        .target
        .resolve(&Symbols)
        .unwrap_err();
    assert_eq!(e, ResolveError::OffsetOutsideSymbol { size: 0x40 });
    assert_eq!(e.to_string(), "offset past the symbol's end (64 bytes)");
}

#[test]
fn every_error_variant_displays_its_column_and_expectation() {
    let long = format!("p f {}", "%r0 ".repeat(300));
    let long_name = format!("p:{} f", "n".repeat(MAX_NAME_LEN + 1));
    let lines: [&str; 25] = [
        &long,
        "",
        "x",
        "pf",
        "-x",
        "p:1",
        &long_name,
        "p",
        "p 0x",
        "r f+4",
        "-:x y",
        "p f %r0 %r1 %r2 %r3 %r4 %r5 %r6 %r7 %r8",
        "p f r0",
        "p f %r13",
        "p f $comm",
        "p f $retval",
        "p f +0(+0(+0(+0(+0(%r0)))))",
        "p f +4 %r0",
        "p f +4(%r0",
        "p f +2147483648(%r0)",
        "p f %r0:u128",
        "p f %r0:string",
        "p f %r0)",
        "p f a=%r0 a=%r1",
        "p f +0(%r0):string +0(%r1):string +0(%r2):string",
    ];
    let mut kinds = Vec::new();
    for line in lines {
        let e = err(line);
        let text = e.to_string();
        assert_eq!(
            text,
            format!("column {}: expected {}", e.column(), e.expected()),
            "{line:?}"
        );
        assert!(!e.expected().is_empty());
        let kind = core::mem::discriminant(&e);
        assert!(!kinds.contains(&kind), "{line:?} repeats a variant: {e:?}");
        kinds.push(kind);
    }
}
