//! The ACPI tables of a Linux guest checked by ACPICA's own tools, the
//! code a kernel parses them with: `iasl -d` must disassemble each table
//! without a complaint into what the VMM meant, and `iasl` must compile
//! the disassembly back into the same table (for the RSDP, which this
//! iasl cannot disassemble, it compiles the RSDP from its fields).
//!
//! iasl comes from Debian's `acpica-tools` (test.sh installs it). Without
//! it these tests skip, except under CI, where they fail.

use hypervisor::boot::acpi::{
    tables, AcpiTables, VirtioMmio, DSDT_ADDR, FADT_ADDR, MADT_ADDR, XSDT_ADDR,
};
use std::path::Path;
use std::process::Command;

fn iasl_available() -> bool {
    match Command::new("iasl").arg("-v").output() {
        Ok(_) => true,
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI=true but iasl cannot run ({e}): install acpica-tools"
            );
            eprintln!("acpi_tables: iasl unavailable ({e}); apt-get install acpica-tools");
            false
        }
    }
}

/// Run iasl with `args` in `dir`; its output (both streams), which must
/// name no error or warning, and the run must succeed.
fn iasl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("iasl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "iasl {args:?}: {}\n{text}",
        out.status
    );
    for word in ["Error", "Warning", "Invalid", "Incorrect"] {
        // The compiler's summary line counts them: "0 Errors, 0 Warnings".
        let complaints = text
            .lines()
            .filter(|l| l.contains(word) && !l.contains("Compilation successful"))
            .count();
        assert_eq!(complaints, 0, "iasl {args:?} says {word}:\n{text}");
    }
    text
}

/// Write `bytes` to `name.dat` in `dir` and disassemble it; the
/// disassembly with each line's blanks collapsed, so that lines can be
/// looked up without iasl's column alignment.
fn disassemble(dir: &Path, name: &str, bytes: &[u8]) -> Vec<String> {
    std::fs::write(dir.join(format!("{name}.dat")), bytes).unwrap();
    iasl(dir, &["-d", &format!("{name}.dat")]);
    let dsl = std::fs::read_to_string(dir.join(format!("{name}.dsl"))).unwrap();
    // Where a field is wrong, iasl says so in a comment beside it
    // ("Incorrect checksum, should be …", "**** Unknown …").
    for flag in ["****", "Incorrect", "Invalid", "Unknown"] {
        assert!(!dsl.contains(flag), "iasl flagged {name} ({flag}):\n{dsl}");
    }
    dsl.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// Compile `name.dsl` in `dir`; the table iasl made.
fn compile(dir: &Path, name: &str) -> Vec<u8> {
    let text = iasl(dir, &[&format!("{name}.dsl")]);
    assert!(text.contains("0 Errors"), "{text}");
    std::fs::read(dir.join(format!("{name}.aml"))).unwrap()
}

/// Whether `line` is one of the disassembly's lines, whole or after the
/// `[offset offset length]` column of a data table's field.
fn matches(l: &str, line: &str) -> bool {
    l == line
        || l.strip_suffix(line)
            .is_some_and(|head| head.ends_with("] "))
}

fn has(dsl: &[String], line: &str) -> bool {
    dsl.iter().any(|l| matches(l, line))
}

fn count(dsl: &[String], line: &str) -> usize {
    dsl.iter().filter(|l| matches(l, line)).count()
}

/// A table as iasl recompiles it: the same, but for the compiler's own
/// id and version in the header (which iasl puts there) and so the checksum.
fn same_but_compiler_id(ours: &[u8], iasls: &[u8]) -> bool {
    let strip = |t: &[u8]| {
        let mut t = t.to_vec();
        t[9] = 0;
        t[28..36].fill(0);
        t
    };
    ours.len() == iasls.len() && strip(ours) == strip(iasls)
}

fn devices(n: u32) -> Vec<VirtioMmio> {
    (0..n)
        .map(|i| VirtioMmio {
            base: 0xd000_0000 + u64::from(i) * 0x1000,
            gsi: 5 + i,
        })
        .collect()
}

/// Disassemble and recompile the XSDT, FADT and MADT for `vcpus`.
fn check_static_tables(vcpus: u8) {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let t: AcpiTables = tables(vcpus, &devices(2)).unwrap();

    let xsdt = disassemble(dir, "xsdt", &t.xsdt);
    assert!(has(
        &xsdt,
        r#"[000h 0000 4] Signature : "XSDT" [Extended System Description Table]"#
    ));
    assert!(has(
        &xsdt,
        &format!("[024h 0036 8] ACPI Table Address 0 : {FADT_ADDR:016X}")
    ));
    assert!(has(
        &xsdt,
        &format!("[02Ch 0044 8] ACPI Table Address 1 : {MADT_ADDR:016X}")
    ));

    let facp = disassemble(dir, "facp", &t.fadt);
    for line in [
        r#"[000h 0000 4] Signature : "FACP" [Fixed ACPI Description Table (FADT)]"#,
        "[004h 0004 4] Table Length : 00000114",
        "[008h 0008 1] Revision : 06",
        "[083h 0131 1] FADT Minor Revision : 05",
        "Hardware Reduced (V5) : 1",
        "Control Method Power Button (V1) : 1",
        "VGA Not Present (V4) : 1",
        "MSI Not Supported (V4) : 1",
        "CMOS RTC Not Present (V5) : 1",
        "8042 Present on ports 60/64 (V2) : 0",
        "[028h 0040 4] DSDT Address : 00000000",
        "[10Ch 0268 8] Hypervisor ID : 4D564B4E454D554C",
    ] {
        assert!(
            has(&facp, line),
            "FADT lacks {line:?}:\n{}",
            facp.join("\n")
        );
    }
    assert!(has(
        &facp,
        &format!("[08Ch 0140 8] DSDT Address : {DSDT_ADDR:016X}")
    ));

    let apic = disassemble(dir, "apic", &t.madt);
    for line in [
        r#"[000h 0000 4] Signature : "APIC" [Multiple APIC Description Table (MADT)]"#,
        "[024h 0036 4] Local Apic Address : FEE00000",
        "PC-AT Compatibility : 1",
        "Subtable Type : 01 [I/O APIC]",
        "Address : FEC00000",
        "Interrupt : 00000000",
        "Subtable Type : 04 [Local APIC NMI]",
        "Processor ID : FF",
        "Interrupt Input LINT : 01",
    ] {
        assert!(
            has(&apic, line),
            "MADT lacks {line:?}:\n{}",
            apic.join("\n")
        );
    }
    let cpus = usize::from(vcpus);
    let lapics = "Subtable Type : 00 [Processor Local APIC]";
    assert_eq!(count(&apic, lapics), cpus);
    assert_eq!(count(&apic, "Processor Enabled : 1"), cpus);
    for id in 0..vcpus {
        assert!(
            has(&apic, &format!("Local Apic ID : {id:02X}")),
            "APIC id {id}"
        );
    }
    assert!(has(&apic, &format!("I/O Apic ID : {vcpus:02X}")));
    assert!(!apic.iter().any(|l| l.contains("Interrupt Source Override")));

    // iasl's data table compiler, from the disassembly, makes our tables.
    for (name, ours) in [("xsdt", &t.xsdt), ("facp", &t.fadt), ("apic", &t.madt)] {
        let iasls = compile(dir, name);
        assert!(
            same_but_compiler_id(ours, &iasls),
            "{name}: iasl made {iasls:02x?}, we {ours:02x?}"
        );
    }
}

#[test]
fn static_tables_for_one_vcpu() {
    if iasl_available() {
        check_static_tables(1);
    }
}

#[test]
fn static_tables_for_two_vcpus() {
    if iasl_available() {
        check_static_tables(2);
    }
}

#[test]
fn static_tables_for_eight_vcpus() {
    if iasl_available() {
        check_static_tables(8);
    }
}

#[test]
fn dsdt_describes_com1_and_each_virtio_device() {
    if !iasl_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let t = tables(1, &devices(3)).unwrap();
    let dsdt = disassemble(dir, "dsdt", &t.dsdt);
    let text = dsdt.join("\n");
    for line in [
        r#"DefinitionBlock ("", "DSDT", 2, "LUMEN ", "LUMEN VM", 0x00000001)"#,
        "Scope (_SB)",
        "Device (COM1)",
        r#"Name (_HID, EisaId ("PNP0501") /* 16550A-compatible COM Serial Port */) // _HID: Hardware ID"#,
        "0x03F8, // Range Minimum",
        "0x08, // Length",
        "0x00000004,",
    ] {
        assert!(has(&dsdt, line), "DSDT lacks {line:?}:\n{text}");
    }
    assert_eq!(
        count(&dsdt, r#"Name (_HID, "LNRO0005") // _HID: Hardware ID"#),
        3
    );
    assert_eq!(count(&dsdt, "Memory32Fixed (ReadWrite,"), 3);
    assert_eq!(
        count(
            &dsdt,
            "Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, )"
        ),
        4
    );
    for (i, uid) in ["Zero", "One", "0x02"].iter().enumerate() {
        assert!(has(&dsdt, &format!("Device (V00{i})")), "{text}");
        assert!(
            has(&dsdt, &format!("Name (_UID, {uid}) // _UID: Unique ID")),
            "{text}"
        );
        let base = 0xd000_0000 + i * 0x1000;
        assert!(
            has(&dsdt, &format!("0x{base:08X}, // Address Base")),
            "{text}"
        );
        assert!(has(&dsdt, &format!("0x{:08X},", 5 + i)), "{text}");
    }

    // The disassembly compiles back into our AML, byte for byte.
    let iasls = compile(dir, "dsdt");
    assert!(
        same_but_compiler_id(&t.dsdt, &iasls),
        "iasl made {iasls:02x?}, we {:02x?}",
        t.dsdt
    );
}

#[test]
fn rsdp_is_what_iasl_compiles_from_its_fields() {
    if !iasl_available() {
        return;
    }
    // This iasl does not disassemble an RSDP, but its data table compiler
    // makes one, checksums included, from the fields in this layout.
    let dir = tempfile::tempdir().unwrap();
    let t = tables(1, &[]).unwrap();
    let source = format!(
        "[0008] Signature : \"RSD PTR \"\n\
         [0001] Checksum : 00\n\
         [0006] Oem ID : \"LUMEN \"\n\
         [0001] Revision : 02\n\
         [0004] RSDT Address : 00000000\n\
         [0004] Length : 00000024\n\
         [0008] XSDT Address : {XSDT_ADDR:016X}\n\
         [0001] Extended Checksum : 00\n\
         [0003] Reserved : 000000\n"
    );
    std::fs::write(dir.path().join("rsdp.dsl"), source).unwrap();
    assert_eq!(compile(dir.path(), "rsdp"), t.rsdp);
}
