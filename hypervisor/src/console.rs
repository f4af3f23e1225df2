//! The VM console: one output stream, fanned out to a log and to the
//! clients of a Unix socket whose input goes back to the guest.
//!
//! `lumen vmm` makes a [`ConsoleHub`] over stdout (or a log file) and
//! hands it to [`Vm::new`](crate::Vm::new): the 8250 and the virtio
//! console both write into it. With `--console-socket PATH` it opens a
//! [`ConsoleSocket`] (SmartOS's zoneadmd console socket, in spirit) fed
//! with [`Vm::console_input`](crate::Vm::console_input); every client sees
//! the output from the moment it connects, and what it types reaches the
//! serial port's input and the virtio console's receive queue. [`attach`]
//! is the terminal's end of that socket (`vmadm console`).
//!
//! Output is written by vCPU threads, which must never wait on a client:
//! each client has an outbox of at most [`CLIENT_BACKLOG`] bytes, drained
//! by a thread of its own, and a client whose outbox would overflow is
//! disconnected rather than waited for.

use crate::devices::bus::lock;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Output a client may fall behind by before it is disconnected: a few
/// screens of a busy boot, small enough that a stuck client costs little.
pub const CLIENT_BACKLOG: usize = 64 * 1024;

/// How long the end of the VM waits for clients to take their last output.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// How often the listener looks whether it should stop.
const ACCEPT_POLL_MS: i32 = 100;

/// The byte `attach` takes as "leave the console": Ctrl-], as SmartOS's
/// `zlogin -C` and telnet.
pub const ESCAPE: u8 = 0x1d;

/// Why the console socket could not be served or attached to.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("console socket {path}: {source}")]
    Listen { path: PathBuf, source: io::Error },
    #[error("console socket {path} is in use: another VMM listens on it")]
    InUse { path: PathBuf },
    #[error("{path} exists and is not a socket; not replacing it with the console socket")]
    NotASocket { path: PathBuf },
    #[error("cannot connect to console socket {path}: {source}")]
    Connect { path: PathBuf, source: io::Error },
    #[error("cannot switch the terminal to raw mode: {0}")]
    Terminal(nix::Error),
    #[error("console relay: {what}: {source}")]
    Relay {
        what: &'static str,
        source: io::Error,
    },
    #[error("cannot start a console thread: {0}")]
    Thread(io::Error),
}

/// Where bytes typed at the console go (the VM's serial port and virtio
/// console). Called from a client's reader thread.
pub trait ConsoleInput: Send + Sync {
    fn input(&self, bytes: &[u8]);
}

/// The console's output: a log plus every connected client. Cloning
/// gives another handle on the same hub.
#[derive(Clone)]
pub struct ConsoleHub {
    hub: Arc<Hub>,
}

struct Hub {
    state: Mutex<HubState>,
    /// Signalled when a client joins (for [`ConsoleHub::wait_for_client`]).
    joined: Condvar,
}

struct HubState {
    log: Box<dyn Write + Send>,
    clients: Vec<Arc<Client>>,
    next_id: u64,
}

/// One connected client: its socket, and the outbox its writer drains.
struct Client {
    id: u64,
    stream: UnixStream,
    outbox: Mutex<Outbox>,
    ready: Condvar,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

#[derive(Default)]
struct Outbox {
    bytes: VecDeque<u8>,
    /// The VM ended: send what is queued, then close.
    closing: bool,
    /// Disconnected: send nothing more.
    gone: bool,
}

impl Client {
    /// Queue `buf`; false when the client is gone or would overflow (and
    /// is now gone).
    fn offer(&self, buf: &[u8]) -> bool {
        let mut outbox = lock(&self.outbox);
        if outbox.gone {
            return false;
        }
        if outbox.bytes.len() + buf.len() > CLIENT_BACKLOG {
            outbox.gone = true;
            self.ready.notify_all();
            return false;
        }
        outbox.bytes.extend(buf);
        self.ready.notify_all();
        true
    }

    /// Disconnect now: the writer stops, and a blocked read or write on
    /// the socket returns.
    fn disconnect(&self) {
        lock(&self.outbox).gone = true;
        self.ready.notify_all();
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }

    /// Drain the outbox into the socket until disconnected or closed.
    fn write_loop(&self, mut stream: UnixStream) {
        loop {
            let chunk: Vec<u8> = {
                let mut outbox = lock(&self.outbox);
                while outbox.bytes.is_empty() && !outbox.closing && !outbox.gone {
                    outbox = self.ready.wait(outbox).unwrap_or_else(|p| p.into_inner());
                }
                if outbox.gone || outbox.bytes.is_empty() {
                    break;
                }
                let n = outbox.bytes.len().min(16 * 1024);
                outbox.bytes.drain(..n).collect()
            };
            // Blocking is fine here: this thread is the client's alone.
            if stream.write_all(&chunk).is_err() {
                break;
            }
        }
        self.disconnect();
    }

    fn writer_finished(&self) -> bool {
        lock(&self.threads)
            .first()
            .is_none_or(|writer| writer.is_finished())
    }
}

impl ConsoleHub {
    /// A hub writing to `log` (stdout, or a console log file), with no clients yet.
    pub fn new(log: Box<dyn Write + Send>) -> ConsoleHub {
        ConsoleHub {
            hub: Arc::new(Hub {
                state: Mutex::new(HubState {
                    log,
                    clients: Vec::new(),
                    next_id: 1,
                }),
                joined: Condvar::new(),
            }),
        }
    }

    /// Write `buf` to the log and queue it for every client; never waits
    /// on a client. A client that cannot keep up is disconnected.
    pub fn send(&self, buf: &[u8]) {
        let mut state = lock(&self.hub.state);
        // Flushed on every write so a console log is complete when the VM
        // dies. A log that can no longer be written (closed stdout) must
        // not stop the guest or the clients.
        let _ = state.log.write_all(buf);
        let _ = state.log.flush();
        state.clients.retain(|client| {
            if client.offer(buf) {
                return true;
            }
            eprintln!(
                "lumen vmm: console client {} fell {} KiB behind; disconnected",
                client.id,
                CLIENT_BACKLOG / 1024
            );
            client.disconnect();
            false
        });
    }

    /// Clients connected now.
    pub fn clients(&self) -> usize {
        lock(&self.hub.state).clients.len()
    }

    /// Wait up to `timeout` for at least one client; whether there is one.
    pub fn wait_for_client(&self, timeout: Duration) -> bool {
        let state = lock(&self.hub.state);
        let (state, _) = self
            .hub
            .joined
            .wait_timeout_while(state, timeout, |s| s.clients.is_empty())
            .unwrap_or_else(|p| p.into_inner());
        !state.clients.is_empty()
    }

    /// Serve a connected `stream` as a client: output from now on goes to
    /// it, and what it sends goes to `input`, until either side closes.
    pub fn add_client(
        &self,
        stream: UnixStream,
        input: Arc<dyn ConsoleInput>,
    ) -> Result<(), ConsoleError> {
        let reader = stream.try_clone().map_err(ConsoleError::Thread)?;
        let writer = stream.try_clone().map_err(ConsoleError::Thread)?;
        let mut state = lock(&self.hub.state);
        let id = state.next_id;
        state.next_id += 1;
        let client = Arc::new(Client {
            id,
            stream,
            outbox: Mutex::new(Outbox::default()),
            ready: Condvar::new(),
            threads: Mutex::new(Vec::new()),
        });
        let c = client.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("console{id}-out"))
            .spawn(move || c.write_loop(writer));
        let writer_thread = match spawned {
            Ok(t) => t,
            Err(e) => {
                client.disconnect();
                return Err(ConsoleError::Thread(e));
            }
        };
        lock(&client.threads).push(writer_thread);
        let (c, hub) = (client.clone(), Arc::downgrade(&self.hub));
        let spawned = std::thread::Builder::new()
            .name(format!("console{id}-in"))
            .spawn(move || read_loop(&c, reader, input.as_ref(), &hub));
        match spawned {
            Ok(t) => lock(&client.threads).push(t),
            Err(e) => {
                client.disconnect();
                return Err(ConsoleError::Thread(e));
            }
        }
        state.clients.push(client);
        self.hub.joined.notify_all();
        Ok(())
    }

    /// Close every client: each gets what is queued for it, for up to
    /// `grace` in all, and is then disconnected.
    pub fn disconnect_all(&self, grace: Duration) {
        let clients = std::mem::take(&mut lock(&self.hub.state).clients);
        for client in &clients {
            lock(&client.outbox).closing = true;
            client.ready.notify_all();
        }
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline && clients.iter().any(|c| !c.writer_finished()) {
            std::thread::sleep(Duration::from_millis(5));
        }
        for client in &clients {
            client.disconnect();
        }
        for client in clients {
            let threads = std::mem::take(&mut *lock(&client.threads));
            for t in threads {
                let _ = t.join();
            }
        }
    }

    fn remove(&self, id: u64) {
        lock(&self.hub.state).clients.retain(|c| c.id != id);
    }
}

impl Write for ConsoleHub {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.send(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        // send() flushes the log every time; clients drain on their own.
        Ok(())
    }
}

/// Hand what a client sends to the VM until it disconnects; then drop it.
fn read_loop(client: &Client, mut stream: UnixStream, input: &dyn ConsoleInput, hub: &Weak<Hub>) {
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => input.input(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    client.disconnect();
    if let Some(hub) = hub.upgrade() {
        ConsoleHub { hub }.remove(client.id);
    }
}

/// The listening console socket of one VM. Dropping it stops listening,
/// removes the socket file and closes every client.
pub struct ConsoleSocket {
    path: PathBuf,
    hub: ConsoleHub,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl ConsoleSocket {
    /// Listen on `path` (mode 0600: the console is the guest's keyboard),
    /// serving clients of `hub` whose input goes to `input`. A stale
    /// socket left by a VMM that died is replaced; a live one, or a file
    /// that is not a socket, is an error.
    pub fn listen(
        path: &Path,
        hub: ConsoleHub,
        input: Arc<dyn ConsoleInput>,
    ) -> Result<ConsoleSocket, ConsoleError> {
        let listen_err = |source| ConsoleError::Listen {
            path: path.to_owned(),
            source,
        };
        remove_stale(path)?;
        let listener = UnixListener::bind(path).map_err(listen_err)?;
        let mut socket = ConsoleSocket {
            path: path.to_owned(),
            hub: hub.clone(),
            stop: Arc::new(AtomicBool::new(false)),
            accept: None,
        };
        // From here on, dropping `socket` removes the file on error.
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(listen_err)?;
        let stop = socket.stop.clone();
        let thread = std::thread::Builder::new()
            .name("console-accept".into())
            .spawn(move || accept_loop(&listener, &hub, &input, &stop))
            .map_err(ConsoleError::Thread)?;
        socket.accept = Some(thread);
        Ok(socket)
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Wait up to `timeout` for a client to connect; whether one has.
    pub fn wait_for_client(&self, timeout: Duration) -> bool {
        self.hub.wait_for_client(timeout)
    }
}

impl Drop for ConsoleSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
        self.hub.disconnect_all(CLOSE_GRACE);
    }
}

/// Make way for the socket at `path`: nothing there, or a socket nobody
/// listens on (which is removed).
fn remove_stale(path: &Path) -> Result<(), ConsoleError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(ConsoleError::Listen {
                path: path.to_owned(),
                source,
            })
        }
    };
    if !meta.file_type().is_socket() {
        return Err(ConsoleError::NotASocket {
            path: path.to_owned(),
        });
    }
    if UnixStream::connect(path).is_ok() {
        return Err(ConsoleError::InUse {
            path: path.to_owned(),
        });
    }
    std::fs::remove_file(path).map_err(|source| ConsoleError::Listen {
        path: path.to_owned(),
        source,
    })
}

fn accept_loop(
    listener: &UnixListener,
    hub: &ConsoleHub,
    input: &Arc<dyn ConsoleInput>,
    stop: &AtomicBool,
) {
    while !stop.load(Ordering::SeqCst) {
        let mut pfd = libc::pollfd {
            fd: listener.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        let n = unsafe { libc::poll(&mut pfd, 1, ACCEPT_POLL_MS) };
        if n <= 0 {
            continue;
        }
        match listener.accept() {
            Ok((stream, _)) => {
                if let Err(e) = hub.add_client(stream, input.clone()) {
                    eprintln!("lumen vmm: console client refused: {e}");
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                // Out of descriptors, say: the VM goes on, and so do we,
                // without spinning.
                eprintln!("lumen vmm: console socket: accept: {e}");
                std::thread::sleep(Duration::from_millis(ACCEPT_POLL_MS as u64));
            }
        }
    }
}

/// The terminal in raw mode while this lives; restored on drop, so an
/// error or a panic in between leaves a usable terminal.
struct RawMode {
    stdin: io::Stdin,
    saved: nix::sys::termios::Termios,
}

impl RawMode {
    fn enter() -> Result<RawMode, ConsoleError> {
        use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
        let stdin = io::stdin();
        let saved = tcgetattr(stdin.as_fd()).map_err(ConsoleError::Terminal)?;
        let mut raw = saved.clone();
        cfmakeraw(&mut raw);
        tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw).map_err(ConsoleError::Terminal)?;
        Ok(RawMode { stdin, saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        use nix::sys::termios::{tcsetattr, SetArg};
        let _ = tcsetattr(self.stdin.as_fd(), SetArg::TCSANOW, &self.saved);
    }
}

/// Attach this terminal to the console socket at `path`: what the VM
/// prints appears on stdout, what is typed goes to the VM, until the VMM
/// closes the socket or (on a terminal) the user types Ctrl-] ([`ESCAPE`]).
/// On a terminal stdin is in raw mode meanwhile, so Ctrl-C reaches the
/// guest; the mode is restored however this returns. Piped stdin is sent
/// as is, and its end leaves the output relayed until the socket closes.
pub fn attach(path: &Path) -> Result<(), ConsoleError> {
    let stream = UnixStream::connect(path).map_err(|source| ConsoleError::Connect {
        path: path.to_owned(),
        source,
    })?;
    let stdin = io::stdin();
    let interactive = stdin.is_terminal();
    let raw = if interactive {
        eprintln!("[Connected to console. Escape: ^]]");
        Some(RawMode::enter()?)
    } else {
        None
    };
    let result = relay(
        stdin.as_fd(),
        &mut io::stdout().lock(),
        &stream,
        interactive,
    );
    drop(raw);
    if interactive {
        eprintln!("\n[Disconnected from console]");
    }
    result
}

/// Copy `input` to `stream` and `stream` to `output` until the stream
/// closes, or `escape` is set and [`ESCAPE`] is read from `input` (bytes
/// before it are still sent).
fn relay(
    input: BorrowedFd<'_>,
    output: &mut dyn Write,
    stream: &UnixStream,
    escape: bool,
) -> Result<(), ConsoleError> {
    let err = |what: &'static str| move |source: io::Error| ConsoleError::Relay { what, source };
    // Read the descriptor itself, not through std's buffered stdin, so
    // poll's readiness and the reads agree.
    let mut input_file = File::from(input.try_clone_to_owned().map_err(err("stdin"))?);
    let mut from_vm = stream;
    let mut to_vm = stream;
    let mut input_open = true;
    let mut buf = [0u8; 4096];
    loop {
        let mut fds = [
            libc::pollfd {
                fd: stream.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                // A negative fd is ignored by poll: stdin reached its end.
                fd: if input_open { input.as_raw_fd() } else { -1 },
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: two valid pollfds for the duration of the call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(ConsoleError::Relay {
                what: "poll",
                source: e,
            });
        }
        let ready = libc::POLLIN | libc::POLLHUP | libc::POLLERR;
        if fds[0].revents & ready != 0 {
            match from_vm.read(&mut buf) {
                // The VMM closed the console: the VM ended.
                Ok(0) => return Ok(()),
                Ok(n) => {
                    output.write_all(&buf[..n]).map_err(err("stdout"))?;
                    output.flush().map_err(err("stdout"))?;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return Ok(()),
                Err(e) => return Err(err("console socket")(e)),
            }
        }
        if fds[1].revents & ready != 0 {
            let n = match input_file.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(err("stdin")(e)),
            };
            if n == 0 {
                input_open = false;
                continue;
            }
            let (send, leave) = match buf[..n].iter().position(|&b| escape && b == ESCAPE) {
                Some(at) => (&buf[..at], true),
                None => (&buf[..n], false),
            };
            if to_vm.write_all(send).is_err() {
                // The VMM went away mid-write: the same as it closing.
                return Ok(());
            }
            if leave {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Log(Arc<Mutex<Vec<u8>>>);
    impl Write for Log {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[derive(Default)]
    struct Typed(Mutex<Vec<u8>>);
    impl ConsoleInput for Typed {
        fn input(&self, bytes: &[u8]) {
            self.0.lock().unwrap().extend_from_slice(bytes);
        }
    }

    fn hub() -> (ConsoleHub, Log, Arc<Typed>) {
        let log = Log::default();
        (
            ConsoleHub::new(Box::new(log.clone())),
            log,
            Arc::new(Typed::default()),
        )
    }

    /// Read from `s` until `want` has arrived (or fail after a while).
    fn read_until(s: &mut UnixStream, want: &[u8]) -> Vec<u8> {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        while !got.windows(want.len()).any(|w| w == want) {
            let n = s.read(&mut buf).expect("read");
            assert!(n > 0, "closed before {want:?}; got {got:?}");
            got.extend_from_slice(&buf[..n]);
        }
        got
    }

    #[test]
    fn output_reaches_the_log_and_every_client() {
        let (hub, log, typed) = hub();
        let (a, mut a_peer) = UnixStream::pair().unwrap();
        let (b, mut b_peer) = UnixStream::pair().unwrap();
        hub.add_client(a, typed.clone()).unwrap();
        hub.add_client(b, typed).unwrap();
        assert_eq!(hub.clients(), 2);
        hub.clone().write_all(b"hello\n").unwrap();
        assert_eq!(read_until(&mut a_peer, b"hello\n"), b"hello\n");
        assert_eq!(read_until(&mut b_peer, b"hello\n"), b"hello\n");
        assert_eq!(log.0.lock().unwrap().as_slice(), b"hello\n");
        hub.disconnect_all(CLOSE_GRACE);
    }

    #[test]
    fn client_input_reaches_the_vm() {
        let (hub, _, typed) = hub();
        let (a, mut a_peer) = UnixStream::pair().unwrap();
        hub.add_client(a, typed.clone()).unwrap();
        a_peer.write_all(b"ping\n").unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while typed.0.lock().unwrap().as_slice() != b"ping\n" {
            assert!(Instant::now() < deadline, "input never arrived");
            std::thread::sleep(Duration::from_millis(5));
        }
        hub.disconnect_all(CLOSE_GRACE);
    }

    #[test]
    fn a_client_that_never_reads_is_dropped_and_others_go_on() {
        let (hub, log, typed) = hub();
        let (stuck, _stuck_peer) = UnixStream::pair().unwrap();
        let (live, mut live_peer) = UnixStream::pair().unwrap();
        hub.add_client(stuck, typed.clone()).unwrap();
        hub.add_client(live, typed).unwrap();
        // The live client reads everything as it comes; the sender waits
        // for it now and then, so that only the stuck client falls behind.
        let received = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = received.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match live_peer.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => counter.fetch_add(n, Ordering::SeqCst),
                };
            }
        });
        // Far more than the backlog plus any socket buffer; each send
        // returns at once whatever the stuck client does.
        let block = [b'.'; 4096];
        let started = Instant::now();
        for i in 1..=1024usize {
            hub.send(&block);
            while received.load(Ordering::SeqCst) + 8 * 4096 < i * 4096 {
                assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "live client stalled"
                );
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        assert_eq!(hub.clients(), 1, "the stuck client is gone");
        assert_eq!(log.0.lock().unwrap().len(), 1024 * 4096);
        hub.disconnect_all(CLOSE_GRACE);
        reader.join().unwrap();
        assert_eq!(received.load(Ordering::SeqCst), 1024 * 4096);
    }

    #[test]
    fn a_client_that_disconnects_is_removed() {
        let (hub, _, typed) = hub();
        let (a, a_peer) = UnixStream::pair().unwrap();
        hub.add_client(a, typed).unwrap();
        drop(a_peer);
        let deadline = Instant::now() + Duration::from_secs(10);
        while hub.clients() != 0 {
            assert!(Instant::now() < deadline, "client never removed");
            std::thread::sleep(Duration::from_millis(5));
        }
        hub.send(b"nobody listens\n");
    }

    #[test]
    fn the_socket_serves_clients_and_is_removed_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("console.sock");
        let (hub, _, typed) = hub();
        let socket = ConsoleSocket::listen(&path, hub.clone(), typed).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let mut client = UnixStream::connect(&path).unwrap();
        assert!(socket.wait_for_client(Duration::from_secs(10)));
        hub.send(b"boot\n");
        assert_eq!(read_until(&mut client, b"boot\n"), b"boot\n");
        // A second VMM may not take a live socket.
        let (other, _, typed) = self::hub();
        assert!(matches!(
            ConsoleSocket::listen(&path, other, typed),
            Err(ConsoleError::InUse { .. })
        ));
        hub.send(b"last words\n");
        drop(socket);
        assert!(!path.exists());
        // The client got what was queued, then the end of the stream.
        let mut rest = Vec::new();
        client.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, b"last words\n");
    }

    #[test]
    fn a_stale_socket_is_replaced_and_a_plain_file_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("console.sock");
        drop(UnixListener::bind(&path).unwrap());
        assert!(path.exists(), "a socket left behind");
        let (hub, _, typed) = hub();
        let socket = ConsoleSocket::listen(&path, hub, typed).unwrap();
        drop(socket);
        std::fs::write(&path, b"not a socket").unwrap();
        let (hub, _, typed) = self::hub();
        assert!(matches!(
            ConsoleSocket::listen(&path, hub, typed),
            Err(ConsoleError::NotASocket { .. })
        ));
        assert_eq!(std::fs::read(&path).unwrap(), b"not a socket");
    }

    #[test]
    fn relay_stops_at_the_escape_and_sends_what_came_before() {
        let (mut typed_in, stdin) = UnixStream::pair().unwrap();
        let (mut vm_side, client) = UnixStream::pair().unwrap();
        let relay = std::thread::spawn(move || {
            let mut out = Vec::new();
            relay(stdin.as_fd(), &mut out, &client, true).map(|()| out)
        });
        typed_in.write_all(b"ls\r\x1dnot sent").unwrap();
        relay.join().unwrap().unwrap();
        let mut got = Vec::new();
        vm_side
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        // The relay's stream end is dropped with the thread: read to EOF.
        vm_side.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"ls\r");
    }

    #[test]
    fn relay_copies_output_until_the_vm_closes_the_socket() {
        let (_typed_in, stdin) = UnixStream::pair().unwrap();
        let (mut vm_side, client) = UnixStream::pair().unwrap();
        let relay = std::thread::spawn(move || {
            let mut out = Vec::new();
            relay(stdin.as_fd(), &mut out, &client, true).map(|()| out)
        });
        vm_side.write_all(b"login: ").unwrap();
        drop(vm_side);
        assert_eq!(relay.join().unwrap().unwrap(), b"login: ");
    }

    #[test]
    fn piped_input_is_sent_whole_and_its_end_keeps_the_output_flowing() {
        let (mut typed_in, stdin) = UnixStream::pair().unwrap();
        let (mut vm_side, client) = UnixStream::pair().unwrap();
        let relay = std::thread::spawn(move || {
            let mut out = Vec::new();
            relay(stdin.as_fd(), &mut out, &client, false).map(|()| out)
        });
        typed_in.write_all(b"a\x1db\n").unwrap();
        drop(typed_in);
        assert_eq!(read_until(&mut vm_side, b"a\x1db\n"), b"a\x1db\n");
        vm_side.write_all(b"answer\n").unwrap();
        drop(vm_side);
        assert_eq!(relay.join().unwrap().unwrap(), b"answer\n");
    }
}
