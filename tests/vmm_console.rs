//! The VM console end to end: `lumen vmm --console-socket` serves the
//! console output (8250 and virtio console) to socket clients as well as
//! stdout, brings what a client types back to the guest, removes the
//! socket when the VM ends, and never lets a client that stops reading
//! stall the VM.

mod common;

use common::{kvm, text, LUMEN};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long any one step may take: generous, for nested KVM.
const PATIENCE: Duration = Duration::from_secs(60);

/// Write guest `name` to `dir`; its path.
fn guest(dir: &Path, name: &str) -> PathBuf {
    let bytes = hypervisor::guests::by_name(name).unwrap_or_else(|| panic!("no test guest {name}"));
    let path = dir.join(format!("{name}.bin"));
    std::fs::write(&path, bytes).expect("write guest");
    path
}

/// A running `lumen vmm`, its stdout and stderr read as they come (so a
/// guest that prints a lot never blocks on a full pipe).
struct Vmm {
    child: Child,
    stdout: Option<JoinHandle<Vec<u8>>>,
    stderr: Option<JoinHandle<Vec<u8>>>,
}

/// What a finished `lumen vmm` left.
struct Finished {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

fn drain(mut r: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = r.read_to_end(&mut bytes);
        bytes
    })
}

impl Vmm {
    /// `lumen vmm --payload IMAGE --console-socket SOCKET --console-wait ARGS`:
    /// the guest starts once the test has connected.
    fn start(image: &Path, socket: &Path, args: &[&str]) -> Vmm {
        let mut child = Command::new(LUMEN)
            .arg("vmm")
            .arg("--payload")
            .arg(image)
            .arg("--console-socket")
            .arg(socket)
            .arg("--console-wait")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run lumen vmm");
        let stdout = drain(child.stdout.take().expect("stdout"));
        let stderr = drain(child.stderr.take().expect("stderr"));
        Vmm {
            child,
            stdout: Some(stdout),
            stderr: Some(stderr),
        }
    }

    /// Connect to the console socket once the VMM has made it.
    fn connect(&mut self, socket: &Path) -> UnixStream {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(s) = UnixStream::connect(socket) {
                s.set_read_timeout(Some(PATIENCE)).unwrap();
                return s;
            }
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                let done = self.collect(status);
                panic!(
                    "lumen vmm ended ({}) before its console socket took a client: {}",
                    done.status, done.stderr
                );
            }
            assert!(Instant::now() < deadline, "no console socket at {socket:?}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Wait for the VMM to end (killing it after PATIENCE).
    fn finish(mut self) -> Finished {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return self.collect(status);
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let status = self.child.wait().expect("wait");
                let done = self.collect(status);
                panic!(
                    "lumen vmm did not end within {PATIENCE:?}; stderr: {}",
                    done.stderr
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn collect(&mut self, status: ExitStatus) -> Finished {
        let take = |h: &mut Option<JoinHandle<Vec<u8>>>| {
            text(&h.take().map(|h| h.join().unwrap()).unwrap_or_default())
        };
        Finished {
            status,
            stdout: take(&mut self.stdout),
            stderr: take(&mut self.stderr),
        }
    }
}

/// Read from the console until `want` has been seen; everything read.
fn read_until(client: &mut UnixStream, want: &str) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !text(&got).contains(want) {
        match client.read(&mut buf) {
            Ok(0) => panic!("console closed before {want:?}; got {:?}", text(&got)),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!("console read ({e}) before {want:?}; got {:?}", text(&got)),
        }
    }
    text(&got)
}

#[test]
fn a_line_typed_on_the_socket_reaches_the_virtio_console_and_its_answer_comes_back() {
    if !kvm("a_line_typed_on_the_socket_reaches_the_virtio_console_and_its_answer_comes_back") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let image = guest(dir.path(), "console");
    let socket = dir.path().join("console.sock");
    let mut vmm = Vmm::start(
        &image,
        &socket,
        &["--virtio-console", "--boot-args", "wait=3000000"],
    );
    let mut client = vmm.connect(&socket);
    read_until(&mut client, "console: hello\n");
    client.write_all(b"ping\n").unwrap();
    read_until(&mut client, "console: got ping\n");
    let done = vmm.finish();
    assert_eq!(done.status.code(), Some(0), "{}", done.stderr);
    assert_eq!(
        done.stdout, "console: hello\nconsole: got ping\n",
        "{}",
        done.stderr
    );
    assert!(!socket.exists(), "the socket file outlived the VM");
    // The VMM closed the client's connection when the VM ended.
    let mut rest = Vec::new();
    client.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "{:?}", text(&rest));
}

#[test]
fn serial_output_reaches_both_a_socket_client_and_stdout() {
    if !kvm("serial_output_reaches_both_a_socket_client_and_stdout") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let image = guest(dir.path(), "hello");
    let socket = dir.path().join("console.sock");
    let mut vmm = Vmm::start(&image, &socket, &[]);
    let mut client = vmm.connect(&socket);
    let mut seen = Vec::new();
    client.read_to_end(&mut seen).unwrap();
    let done = vmm.finish();
    assert_eq!(done.status.code(), Some(0), "{}", done.stderr);
    assert_eq!(text(&seen), "hello from lumen guest\n");
    assert_eq!(done.stdout, "hello from lumen guest\n");
    assert!(!socket.exists(), "the socket file outlived the VM");
}

#[test]
fn a_client_that_never_reads_does_not_stall_the_vm() {
    if !kvm("a_client_that_never_reads_does_not_stall_the_vm") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let image = guest(dir.path(), "console");
    let socket = dir.path().join("console.sock");
    // 256 blocks of 4 KiB: far beyond the client's 64 KiB backlog and
    // its socket buffer.
    let mut vmm = Vmm::start(
        &image,
        &socket,
        &["--virtio-console", "--boot-args", "flood=256 wait=3000000"],
    );
    let mut stuck = vmm.connect(&socket);
    // It types, but never reads what the VM prints.
    stuck.write_all(b"ping\n").unwrap();
    let done = vmm.finish();
    assert_eq!(done.status.code(), Some(0), "{}", done.stderr);
    // Stdout got everything: the flood, then the answer.
    let dots = done.stdout.lines().filter(|l| l.len() == 63).count();
    assert_eq!(dots, 256 * 64, "{}", done.stderr);
    assert!(
        done.stdout.ends_with("console: got ping\n"),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr.contains("fell 64 KiB behind; disconnected"),
        "{}",
        done.stderr
    );
    assert!(!socket.exists(), "the socket file outlived the VM");
    drop(stuck);
}
