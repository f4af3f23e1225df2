//! Test fixtures: the SDT notes of the running test binary.

use object::{Object, ObjectSection};

/// One `.note.stapsdt` entry, decoded.
#[derive(Debug, Clone)]
pub struct SdtNote {
    pub pc: u64,
    pub base: u64,
    pub semaphore: u64,
    pub provider: String,
    pub name: String,
    pub args: String,
}

/// The ELF file of the running test binary.
pub fn own_elf() -> Vec<u8> {
    let exe = std::env::current_exe().expect("test binary path");
    std::fs::read(exe).expect("reading the test binary")
}

/// The address range of section `name`.
pub fn section_range(elf: &[u8], name: &str) -> Option<std::ops::Range<u64>> {
    let file = object::File::parse(elf).expect("ELF");
    let s = file.section_by_name(name)?;
    Some(s.address()..s.address() + s.size())
}

/// Every SDT note of `elf`, panicking on a malformed one.
pub fn sdt_notes(elf: &[u8]) -> Vec<SdtNote> {
    let file = object::File::parse(elf).expect("ELF");
    let Some(section) = file.section_by_name(".note.stapsdt") else {
        return Vec::new();
    };
    let data = section.data().expect("note data");
    let mut notes = Vec::new();
    let mut at = 0usize;
    let u32_at = |o: usize| u32::from_le_bytes(data[o..o + 4].try_into().unwrap()) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(data[o..o + 8].try_into().unwrap());
    let align4 = |n: usize| (n + 3) & !3;
    while at + 12 <= data.len() {
        let (namesz, descsz, kind) = (u32_at(at), u32_at(at + 4), u32_at(at + 8));
        let owner = &data[at + 12..at + 12 + namesz];
        assert_eq!(owner, b"stapsdt\0", "note owner");
        assert_eq!(kind, 3, "note type (SDT v3)");
        let desc = at + 12 + align4(namesz);
        let (pc, base, semaphore) = (u64_at(desc), u64_at(desc + 8), u64_at(desc + 16));
        let mut strings = data[desc + 24..desc + descsz]
            .split(|b| *b == 0)
            .map(|s| String::from_utf8(s.to_vec()).expect("note string"));
        let mut next = || strings.next().expect("note string");
        notes.push(SdtNote {
            pc,
            base,
            semaphore,
            provider: next(),
            name: next(),
            args: next(),
        });
        at = desc + align4(descsz);
    }
    notes
}
