//! The VMM on real KVM with hand-assembled payloads: exits reach the
//! buses, the exit port ends the VM, faults are reported, not panicked on.

mod common;

use common::kvm_available;

use hypervisor::{BootSource, ConsoleHub, Vm, VmConfig, VmExit};
use std::io::Write;

fn run(code: &[u8]) -> VmExit {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("payload.bin");
    std::fs::File::create(&image)
        .unwrap()
        .write_all(code)
        .unwrap();
    let config = VmConfig {
        id: 1,
        ram_mib: 16,
        vcpus: 1,
        boot: BootSource::Payload {
            image,
            cmdline: String::new(),
        },
        disks: vec![],
        nics: vec![],
        virtio_console: false,
    };
    Vm::new(&config, ConsoleHub::new(Box::new(std::io::sink())))
        .unwrap()
        .run()
        .unwrap()
}

#[test]
fn port_and_mmio_exits_then_the_exit_port() {
    if !kvm_available("kvm_smoke") {
        return;
    }
    // 3 × outb to 0x80, a write and a read of scratch MMIO, outl 7 → 0xf4.
    let code = [
        0x66, 0xba, 0x80, 0x00, 0xb9, 0x03, 0x00, 0x00, 0x00, 0xee, 0xff, 0xc9, 0x75, 0xfb, 0xbb,
        0x00, 0x00, 0x00, 0xc0, 0xc7, 0x03, 0x05, 0x00, 0x00, 0x00, 0x8b, 0x03, 0x66, 0xba, 0xf4,
        0x00, 0xb8, 0x07, 0x00, 0x00, 0x00, 0xef, 0xf4,
    ];
    assert_eq!(run(&code), VmExit::Status(7));
}

#[test]
fn hlt_with_interrupts_off_halts_the_vm() {
    if !kvm_available("kvm_smoke") {
        return;
    }
    assert_eq!(run(&[0xf4]), VmExit::Halted);
}

#[test]
fn an_exception_without_an_idt_is_a_reported_fault() {
    if !kvm_available("kvm_smoke") {
        return;
    }
    // ud2
    match run(&[0x0f, 0x0b]) {
        VmExit::Fault { vcpu: 0, what } => assert!(what.contains("triple fault"), "{what}"),
        other => panic!("expected a fault, got {other:?}"),
    }
}
