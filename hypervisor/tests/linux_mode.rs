//! A VM in Linux mode on real KVM, with a hand-made ELF "kernel" in
//! place of Linux (which this project's KVM hosts are too slow to boot):
//! the irqchip, PIT, MP table, ACPI tables, LAPIC wiring, boot MSRs and
//! zero page are accepted by KVM, the boot vCPU starts at the ELF's entry
//! in long mode and sees what its firmware would have left, and an AP
//! waits for the INIT/SIPI a kernel sends it.

mod common;

use common::kvm_available;

use hypervisor::{BootSource, ConsoleHub, Vm, VmConfig, VmExit};
use std::io::Write;
use std::sync::mpsc;
use std::time::Duration;

/// Where the kernel's code is loaded and entered, as a distribution vmlinux's.
const KERNEL_ADDR: u64 = 0x100_0000;
/// Where the AP's real-mode code is loaded: the STARTUP IPI's vector
/// 0x40 starts the AP at 0x4000:0000.
const TRAMPOLINE_ADDR: u64 = 0x4_0000;

/// The boot vCPU's code (64-bit), checking what the VMM set up and then
/// either exiting with 0 or starting APIC 1 (the last byte, patched):
///
/// ```text
///     mov $0x2ff,%ecx; rdmsr              # IA32_MTRR_DEF_TYPE
///     mov $101,%ebx; cmp $0x806,%eax; jne exit  # MTRRs on, write-back
///     mov $0x1a0,%ecx; rdmsr              # IA32_MISC_ENABLE
///     mov $105,%ebx; test $1,%al; jz exit # fast strings on
///     mov $0xfee00000,%esi                # the local APIC
///     mov 0x350(%rsi),%eax; shr $8,%eax; and $7,%eax
///     mov $102,%ebx; cmp $7,%eax; jne exit  # LINT0 delivers ExtINT
///     mov 0x360(%rsi),%eax; shr $8,%eax; and $7,%eax
///     mov $103,%ebx; cmp $4,%eax; jne exit  # LINT1 delivers NMI
///     mov $0x9fc00,%edi; mov $104,%ebx
///     cmpl $0x5f504d5f,(%rdi); jne exit   # "_MP_" where Linux scans
///     mov $106,%ebx; movabs $0x2052545020445352,%rax
///     cmp %rax,0xe0000; jne exit          # "RSD PTR " where Linux scans
///     mov $107,%ebx; cmpq $0xe0000,0x7070; jne exit  # the zero page's acpi_rsdp_addr
///     mov $108,%ebx; mov 0xe0018,%rdi     # the RSDP's XSDT address
///     cmpl $0x54445358,(%rdi); jne exit   # "XSDT"
///     xor %ebx,%ebx
///     cmpb $0,start_ap(%rip); je exit
///     movl $0x01000000,0x310(%rsi); movl $0x4500,0x300(%rsi)  # INIT to APIC 1
///     movl $0x01000000,0x310(%rsi); movl $0x4640,0x300(%rsi)  # STARTUP, vector 0x40
/// 1:  hlt; jmp 1b
/// exit:
///     mov $0xf4,%dx; mov %ebx,%eax; out %eax,%dx
/// 2:  hlt; jmp 2b
/// start_ap: .byte 0
/// ```
const BSP_CODE: [u8; 248] = [
    0xb9, 0xff, 0x02, 0x00, 0x00, 0x0f, 0x32, 0xbb, 0x65, 0x00, 0x00, 0x00, 0x3d, 0x06, 0x08, 0x00,
    0x00, 0x0f, 0x85, 0xd6, 0x00, 0x00, 0x00, 0xb9, 0xa0, 0x01, 0x00, 0x00, 0x0f, 0x32, 0xbb, 0x69,
    0x00, 0x00, 0x00, 0xa8, 0x01, 0x0f, 0x84, 0xc2, 0x00, 0x00, 0x00, 0xbe, 0x00, 0x00, 0xe0, 0xfe,
    0x8b, 0x86, 0x50, 0x03, 0x00, 0x00, 0xc1, 0xe8, 0x08, 0x83, 0xe0, 0x07, 0xbb, 0x66, 0x00, 0x00,
    0x00, 0x83, 0xf8, 0x07, 0x0f, 0x85, 0xa3, 0x00, 0x00, 0x00, 0x8b, 0x86, 0x60, 0x03, 0x00, 0x00,
    0xc1, 0xe8, 0x08, 0x83, 0xe0, 0x07, 0xbb, 0x67, 0x00, 0x00, 0x00, 0x83, 0xf8, 0x04, 0x0f, 0x85,
    0x89, 0x00, 0x00, 0x00, 0xbf, 0x00, 0xfc, 0x09, 0x00, 0xbb, 0x68, 0x00, 0x00, 0x00, 0x81, 0x3f,
    0x5f, 0x4d, 0x50, 0x5f, 0x75, 0x77, 0xbb, 0x6a, 0x00, 0x00, 0x00, 0x48, 0xb8, 0x52, 0x53, 0x44,
    0x20, 0x50, 0x54, 0x52, 0x20, 0x48, 0x39, 0x04, 0x25, 0x00, 0x00, 0x0e, 0x00, 0x75, 0x5e, 0xbb,
    0x6b, 0x00, 0x00, 0x00, 0x48, 0x81, 0x3c, 0x25, 0x70, 0x70, 0x00, 0x00, 0x00, 0x00, 0x0e, 0x00,
    0x75, 0x4b, 0xbb, 0x6c, 0x00, 0x00, 0x00, 0x48, 0x8b, 0x3c, 0x25, 0x18, 0x00, 0x0e, 0x00, 0x81,
    0x3f, 0x58, 0x53, 0x44, 0x54, 0x75, 0x36, 0x31, 0xdb, 0x80, 0x3d, 0x37, 0x00, 0x00, 0x00, 0x00,
    0x74, 0x2b, 0xc7, 0x86, 0x10, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xc7, 0x86, 0x00, 0x03,
    0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0xc7, 0x86, 0x10, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0xc7, 0x86, 0x00, 0x03, 0x00, 0x00, 0x40, 0x46, 0x00, 0x00, 0xf4, 0xeb, 0xfd, 0x66, 0xba, 0xf4,
    0x00, 0x89, 0xd8, 0xef, 0xf4, 0xeb, 0xfd, 0x00,
];

/// The AP's code (16-bit real mode, as a STARTUP IPI leaves it):
/// `mov $0xf4,%dx; mov $42,%eax; out %eax,%dx; 1: hlt; jmp 1b`.
const AP_CODE: [u8; 14] = [
    0xba, 0xf4, 0x00, 0x66, 0xb8, 0x2a, 0x00, 0x00, 0x00, 0x66, 0xef, 0xf4, 0xeb, 0xfd,
];

/// An ELF64 x86-64 executable entered at [`KERNEL_ADDR`], with one
/// PT_LOAD segment per `(physical address, bytes)`.
fn elf(segments: &[(u64, &[u8])]) -> Vec<u8> {
    const EHDR: u64 = 64;
    const PHDR: u64 = 56;
    let mut elf = Vec::new();
    elf.extend_from_slice(b"\x7fELF");
    elf.extend_from_slice(&[2, 1, 1, 0]); // ELFCLASS64, little-endian, EV_CURRENT, System V
    elf.extend_from_slice(&[0; 8]);
    elf.extend_from_slice(&2u16.to_le_bytes()); // e_type: ET_EXEC
    elf.extend_from_slice(&62u16.to_le_bytes()); // e_machine: EM_X86_64
    elf.extend_from_slice(&1u32.to_le_bytes()); // e_version
    elf.extend_from_slice(&KERNEL_ADDR.to_le_bytes()); // e_entry
    elf.extend_from_slice(&EHDR.to_le_bytes()); // e_phoff
    elf.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
    elf.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    elf.extend_from_slice(&(EHDR as u16).to_le_bytes()); // e_ehsize
    elf.extend_from_slice(&(PHDR as u16).to_le_bytes()); // e_phentsize
    elf.extend_from_slice(&(segments.len() as u16).to_le_bytes()); // e_phnum
    elf.extend_from_slice(&[0; 6]); // e_shentsize, e_shnum, e_shstrndx
    let mut offset = EHDR + PHDR * segments.len() as u64;
    for (paddr, bytes) in segments {
        let len = bytes.len() as u64;
        elf.extend_from_slice(&1u32.to_le_bytes()); // p_type: PT_LOAD
        elf.extend_from_slice(&7u32.to_le_bytes()); // p_flags: R W X
        elf.extend_from_slice(&offset.to_le_bytes()); // p_offset
        elf.extend_from_slice(&paddr.to_le_bytes()); // p_vaddr
        elf.extend_from_slice(&paddr.to_le_bytes()); // p_paddr
        elf.extend_from_slice(&len.to_le_bytes()); // p_filesz
        elf.extend_from_slice(&len.to_le_bytes()); // p_memsz
        elf.extend_from_slice(&0x1000u64.to_le_bytes()); // p_align
        offset += len;
    }
    for (_, bytes) in segments {
        elf.extend_from_slice(bytes);
    }
    elf
}

/// Boot `kernel` in Linux mode on `vcpus` vCPUs; how the VM ended. A VM
/// still running after a minute is stopped (and reported as `Stopped`),
/// so a vCPU that never starts fails the test instead of hanging it.
fn run(kernel: &[u8], vcpus: u8) -> VmExit {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vmlinux");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(kernel)
        .unwrap();
    let config = VmConfig {
        id: 1,
        ram_mib: 32,
        vcpus,
        boot: BootSource::Linux {
            kernel: path,
            initrd: None,
            cmdline: "console=ttyS0".into(),
        },
        disks: vec![],
        nics: vec![],
        virtio_console: false,
    };
    let vm = Vm::new(&config, ConsoleHub::new(Box::new(std::io::sink()))).unwrap();
    let control = vm.control();
    let (done, ended) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if ended.recv_timeout(Duration::from_secs(60)).is_err() {
            control.request(VmExit::Stopped);
        }
    });
    let exit = vm.run().unwrap();
    drop(done);
    watchdog.join().unwrap();
    exit
}

fn kernel(start_ap: bool) -> Vec<u8> {
    let mut bsp = BSP_CODE;
    bsp[BSP_CODE.len() - 1] = u8::from(start_ap);
    elf(&[(KERNEL_ADDR, &bsp), (TRAMPOLINE_ADDR, &AP_CODE)])
}

#[test]
fn boot_vcpu_starts_at_the_elf_entry_with_firmware_state() {
    if !kvm_available("linux_mode") {
        return;
    }
    // 101..108 name the check that failed (see BSP_CODE).
    assert_eq!(run(&kernel(false), 1), VmExit::Status(0));
}

#[test]
fn two_vcpus_the_ap_waits_for_init_sipi_then_runs() {
    if !kvm_available("linux_mode") {
        return;
    }
    // Only the AP writes 42, from real mode at the STARTUP vector: it was
    // created waiting, and the in-kernel LAPICs delivered the IPIs.
    assert_eq!(run(&kernel(true), 2), VmExit::Status(42));
}
