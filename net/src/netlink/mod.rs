//! All of Lumen's netlink talk: one synchronous rtnetlink socket, the
//! requests `net` makes over it (links, addresses, routes, qdiscs, tc
//! filters), and the few kernel messages `netlink-packet-route` lacks
//! (the `tbf` qdisc's options), built on that crate's types.
//!
//! Synchronous on purpose: the zone supervisor that sets up a zone's NICs
//! is a single-threaded process that forks and clones, so it must not run
//! an async runtime's threads. A socket belongs to the network namespace
//! it was opened in ([`Netlink::open_in`] opens one in a zone's).
//!
//! This file is the socket and its one exchange (a request, then its
//! answers or the kernel's error); the requests are grouped by what they
//! change, each group in its own file: `links`, `routes` (addresses and
//! routes) and `tc` (qdiscs and filters).

mod links;
mod routes;
mod tc;

pub use links::{Link, LinkChange, LinkStats, Netns, VethSpec};
pub use tc::tbf_options;

use crate::error::{Errno, NetError, Result};
use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};

/// An open rtnetlink socket.
pub struct Netlink {
    sock: Socket,
    seq: u32,
}

impl Netlink {
    /// A socket in the calling thread's network namespace.
    pub fn open() -> Result<Netlink> {
        let mut sock = Socket::new(NETLINK_ROUTE).map_err(|e| sys("socket(NETLINK_ROUTE)", e))?;
        sock.bind_auto()
            .map_err(|e| sys("bind(NETLINK_ROUTE)", e))?;
        sock.connect(&SocketAddr::new(0, 0))
            .map_err(|e| sys("connect(NETLINK_ROUTE)", e))?;
        // Extended acks: the kernel's own words for what it refused.
        let _ = sock.set_ext_ack(true);
        Ok(Netlink { sock, seq: 0 })
    }

    /// A socket in network namespace `netns` (a zone's): the calling
    /// thread enters it, opens the socket and comes back; the socket stays
    /// bound to `netns`.
    pub fn open_in(netns: BorrowedFd<'_>) -> Result<Netlink> {
        let home = std::fs::File::open("/proc/thread-self/ns/net")
            .map_err(|e| sys("open /proc/thread-self/ns/net", e))?;
        setns(netns.as_raw_fd(), "entering the zone's network namespace")?;
        let opened = Netlink::open();
        // Coming back must not fail silently: the thread would go on in
        // the zone's namespace.
        if let Err(e) = setns(
            home.as_raw_fd(),
            "returning to the host's network namespace",
        ) {
            panic!("{e}");
        }
        opened
    }

    /// Send `msg` with `flags` and collect the answers: the messages of a
    /// dump, or nothing for an acknowledged change. `op` says what was
    /// asked, for errors.
    fn exchange(
        &mut self,
        op: &dyn Fn() -> String,
        msg: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<Vec<RouteNetlinkMessage>> {
        self.seq = self.seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | flags;
        header.sequence_number = self.seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
        packet.finalize();
        let mut buf = vec![0u8; packet.buffer_len()];
        packet.serialize(&mut buf);
        self.sock.send(&buf, 0).map_err(|e| NetError::Netlink {
            op: op(),
            errno: Errno(e.raw_os_error().unwrap_or(0)),
        })?;
        let dump = flags & NLM_F_DUMP == NLM_F_DUMP;
        let mut out = Vec::new();
        let mut rx = vec![0u8; 1 << 16];
        loop {
            let n = self
                .sock
                .recv(&mut &mut rx[..], 0)
                .map_err(|e| NetError::Netlink {
                    op: op(),
                    errno: Errno(e.raw_os_error().unwrap_or(0)),
                })?;
            let mut at = 0;
            while at < n {
                let parsed = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&rx[at..n])
                    .map_err(|e| NetError::Decode {
                        op: op(),
                        why: e.to_string(),
                    })?;
                let len = parsed.header.length as usize;
                if len == 0 {
                    return Err(NetError::Decode {
                        op: op(),
                        why: "a message of length 0".into(),
                    });
                }
                at += (len + 3) & !3;
                if parsed.header.sequence_number != self.seq {
                    continue;
                }
                match parsed.payload {
                    NetlinkPayload::Done(_) => return Ok(out),
                    NetlinkPayload::Error(e) => match e.code {
                        None => return Ok(out),
                        Some(code) => {
                            return Err(NetError::Netlink {
                                op: op(),
                                errno: Errno(-code.get()),
                            })
                        }
                    },
                    NetlinkPayload::InnerMessage(m) => {
                        out.push(m);
                        if !dump {
                            // An echo of a change; its ack follows.
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    fn change(
        &mut self,
        op: &dyn Fn() -> String,
        msg: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<()> {
        self.exchange(op, msg, NLM_F_ACK | flags).map(|_| ())
    }
}

fn sys(call: &str, e: std::io::Error) -> NetError {
    NetError::Sys {
        call: call.into(),
        errno: Errno(e.raw_os_error().unwrap_or(0)),
    }
}

fn setns(fd: RawFd, what: &str) -> Result<()> {
    // SAFETY: setns on a descriptor we hold; it changes only this thread.
    if unsafe { libc::setns(fd, libc::CLONE_NEWNET) } != 0 {
        return Err(NetError::last_os(format!("setns: {what}")));
    }
    Ok(())
}
