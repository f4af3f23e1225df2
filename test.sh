#!/usr/bin/env bash
# Install what the tests need (if missing), then run every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")"

need_apt=()
command -v cpp >/dev/null 2>&1 || need_apt+=(cpp)
# Loop devices for the io provider's tests; gcc builds the test workloads.
command -v losetup >/dev/null 2>&1 || need_apt+=(util-linux)
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc)
# bpftrace: Lumen's probes must be ordinary SDT notes that it lists.
command -v bpftrace >/dev/null 2>&1 || need_apt+=(bpftrace)
# <sys/sdt.h> for the USDT tests' programs.
[ -e /usr/include/x86_64-linux-gnu/sys/sdt.h ] || [ -e /usr/include/sys/sdt.h ] || need_apt+=(systemtap-sdt-dev)
# ip(8) makes the tap devices of the VMM's network tests.
command -v ip >/dev/null 2>&1 || need_apt+=(iproute2)
command -v tmux >/dev/null 2>&1 || need_apt+=(tmux)
# promtool (Debian ships it in prometheus) validates the --metrics endpoint's text.
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
command -v iasl >/dev/null 2>&1 || need_apt+=(acpica-tools)
# runc: the zone escape test runs the same attempts in a runc container.
command -v runc >/dev/null 2>&1 || need_apt+=(runc)
# mkfs.btrfs: storage pools are btrfs filesystems (the tests make theirs on loop files).
command -v mkfs.btrfs >/dev/null 2>&1 || need_apt+=(btrfs-progs)
# A static busybox is the root file system of the zone images the storage tests import.
[ -x /bin/busybox ] || need_apt+=(busybox-static)
# A real Linux guest boots only where the CPU offers VMX/SVM to KVM (on
# PVM hosts a stock kernel is emulated too slowly); only then is it needed.
if grep -qwE 'vmx|svm' /proc/cpuinfo; then
    compgen -G '/boot/vmlinuz-*-cloud-amd64' >/dev/null || need_apt+=(linux-image-cloud-amd64)
    command -v cpio >/dev/null 2>&1 || need_apt+=(cpio)
fi
if ((${#need_apt[@]})); then
    if [ "$(id -u)" -eq 0 ]; then
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_apt[@]}"
    else
        echo "test.sh: missing ${need_apt[*]}; install with: sudo apt-get install ${need_apt[*]}" >&2
        exit 1
    fi
fi

# --no-fail-fast: one crate's failing tests must not hide the others' results.
cargo test --workspace --no-fail-fast
