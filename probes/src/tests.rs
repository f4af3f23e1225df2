//! The notes the compiler wrote into this test binary, checked against the
//! catalogue, and the lazy evaluation of arguments.

use crate::test_utils::{own_elf, sdt_notes, section_range, SdtNote};
use crate::{catalogue, ProbeDesc};
use object::{Object, ObjectSection, ObjectSymbol};
use std::cell::Cell;

crate::provider! {
    /// A provider for these tests only.
    testprov {
        /// One argument.
        fn one(n: u64);
        /// Several widths and signs.
        fn mixed(a: u32, b: i16, c: *const core::ffi::c_char, d: i64);
        /// None at all.
        fn none();
        /// Raised by `lazy_when_enabled` only.
        fn raised(n: u64);
    }
}

/// Plant a site of every declared probe in this binary, so that each has a
/// note. Never fires: no semaphore is raised.
fn plant_every_site() {
    crate::lumen::__fire_every_probe();
    crate::vmm::__fire_every_probe();
    crate::zone::__fire_every_probe();
    crate::zfs::__fire_every_probe();
    crate::vnic::__fire_every_probe();
    __fire_every_probe();
}

/// The expected note argument sizes of `probe`, e.g. `[8, 4, -4]`.
fn sizes(probe: &ProbeDesc) -> Vec<i8> {
    probe.args.iter().map(|a| a.sdt_size).collect()
}

/// The sizes in a note's argument string, checking each is `SIZE@%reg`.
fn note_sizes(note: &SdtNote) -> Vec<i8> {
    note.args
        .split(' ')
        .filter(|a| !a.is_empty())
        .map(|a| {
            let (size, reg) = a.split_once('@').expect("SIZE@LOCATION");
            assert!(reg.starts_with("%r"), "{a}: a 64-bit register");
            size.parse().expect("size")
        })
        .collect()
}

#[test]
fn every_declared_probe_has_a_well_formed_note() {
    plant_every_site();
    let elf = own_elf();
    let notes = sdt_notes(&elf);
    let probes = section_range(&elf, ".probes").expect(".probes section");
    let base = section_range(&elf, ".stapsdt.base").expect(".stapsdt.base");
    let file = object::File::parse(&*elf).expect("ELF");
    let text = file
        .sections()
        .filter(|s| s.kind() == object::SectionKind::Text)
        .map(|s| s.address()..s.address() + s.size())
        .collect::<Vec<_>>();
    let symbols: Vec<_> = file.symbols().collect();

    let mut declared: Vec<(&str, &ProbeDesc)> = catalogue()
        .iter()
        .flat_map(|p| p.probes.iter().map(move |d| (p.name, d)))
        .collect();
    declared.extend(PROVIDER.probes.iter().map(|d| ("testprov", d)));

    for (provider, probe) in declared {
        let mine: Vec<_> = notes
            .iter()
            .filter(|n| n.provider == provider && n.name == probe.sdt_name)
            .collect();
        assert!(!mine.is_empty(), "no note for {provider}:::{}", probe.name);
        for note in mine {
            assert_eq!(note_sizes(note), sizes(probe), "{note:?}");
            assert_eq!(note.base, base.start, "{note:?}");
            assert!(text.iter().any(|t| t.contains(&note.pc)), "{note:?}");
            assert!(probes.contains(&note.semaphore), "{note:?}");
            // The semaphore is this probe's own static.
            let wanted = format!("{}{}9SEMAPHORE", probe.sdt_name.len(), probe.sdt_name);
            let sym = symbols
                .iter()
                .find(|s| s.address() == note.semaphore && s.size() == 2)
                .expect("a symbol at the semaphore");
            let name = sym.name().expect("symbol name");
            assert!(name.contains(&wanted), "{name} for {note:?}");
        }
    }
}

#[test]
fn every_lumen_note_is_in_the_catalogue() {
    plant_every_site();
    let elf = own_elf();
    for note in sdt_notes(&elf) {
        let Some(provider) = catalogue().iter().find(|p| p.name == note.provider) else {
            continue;
        };
        let probe = provider
            .probes
            .iter()
            .find(|p| p.sdt_name == note.name)
            .unwrap_or_else(|| panic!("{note:?} is not in the catalogue"));
        assert_eq!(note_sizes(&note), sizes(probe), "{note:?}");
    }
}

#[test]
fn catalogue_names_and_types() {
    let exit = crate::find("vmm", "exit-entry").expect("vmm:::exit-entry");
    assert_eq!(exit.sdt_name, "exit__entry");
    let types: Vec<_> = exit.args.iter().map(|a| (a.name, a.d_type)).collect();
    assert_eq!(
        types,
        [
            ("vm", "uint64_t"),
            ("vcpu", "uint32_t"),
            ("reason", "uint32_t")
        ]
    );
    let boot = crate::find("zone", "boot").expect("zone:::boot");
    assert_eq!(boot.args[1].d_type, "char *");
    assert!(crate::find("vmm", "exit__entry").is_none(), "D names only");
    let mut providers: Vec<_> = catalogue().iter().map(|p| p.name).collect();
    providers.sort_unstable();
    assert_eq!(providers, ["lumen", "vmm", "vnic", "zfs", "zone"]);
}

#[test]
fn mixed_argument_string() {
    plant_every_site();
    let elf = own_elf();
    let note = sdt_notes(&elf)
        .into_iter()
        .find(|n| n.provider == "testprov" && n.name == "mixed")
        .expect("testprov:::mixed");
    assert_eq!(note_sizes(&note), [4, -2, 8, -8], "{}", note.args);
}

#[test]
fn arguments_not_evaluated_while_disabled() {
    let calls = Cell::new(0);
    assert!(!one::enabled());
    for _ in 0..3 {
        one(|| {
            calls.set(calls.get() + 1);
            7
        });
        mixed(|| {
            calls.set(calls.get() + 1);
            (1, -2, core::ptr::null(), -4)
        });
        none();
    }
    assert_eq!(calls.get(), 0);
}

#[test]
fn arguments_evaluated_while_enabled() {
    let calls = Cell::new(0);
    raised::SEMAPHORE.raise();
    assert!(raised::enabled());
    for i in 0..3 {
        raised(|| {
            calls.set(calls.get() + 1);
            i
        });
    }
    raised::SEMAPHORE.lower();
    assert!(!raised::enabled());
    raised(|| {
        calls.set(calls.get() + 1);
        0
    });
    assert_eq!(calls.get(), 3);
}

#[test]
fn lower_saturates() {
    none::SEMAPHORE.lower();
    assert!(!none::enabled());
}
