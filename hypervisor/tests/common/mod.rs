//! What the hypervisor's KVM tests share.

/// Whether `/dev/kvm` can be used; under `CI=true` a test that needs it
/// fails instead of passing by skipping.
pub fn kvm_available(test: &str) -> bool {
    match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
    {
        Ok(_) => true,
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI=true but /dev/kvm cannot be opened: {e}"
            );
            eprintln!("{test}: /dev/kvm unavailable ({e}); run as root on a KVM host");
            false
        }
    }
}
