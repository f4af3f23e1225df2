//! The btrfs send stream, version 1 (btrfs-progs `send.h`, kernel
//! `fs/btrfs/send.h`): a header (`btrfs-stream\0`, version), then commands,
//! each a 10-byte header (payload length, command, CRC32C of the whole
//! command with the CRC field zero) and type-length-value attributes.
//!
//! [`Reader`] checks every command's length and CRC and refuses anything
//! truncated or corrupt; [`encode`] writes commands (Lumen rewrites the
//! subvolume's name in `SUBVOL`/`SNAPSHOT` to the dataset's).

use std::io::Read;

/// The stream's magic.
pub const MAGIC: &[u8; 13] = b"btrfs-stream\0";
/// The version Lumen reads and writes.
pub const VERSION: u32 = 1;
/// A command's header: length (u32), command (u16), CRC (u32).
const CMD_HEADER: usize = 10;
/// The largest command payload the kernel sends in version 1.
const MAX_PAYLOAD: usize = 1 << 16;

/// Commands.
#[allow(missing_docs)]
pub mod cmd {
    pub const SUBVOL: u16 = 1;
    pub const SNAPSHOT: u16 = 2;
    pub const MKFILE: u16 = 3;
    pub const MKDIR: u16 = 4;
    pub const MKNOD: u16 = 5;
    pub const MKFIFO: u16 = 6;
    pub const MKSOCK: u16 = 7;
    pub const SYMLINK: u16 = 8;
    pub const RENAME: u16 = 9;
    pub const LINK: u16 = 10;
    pub const UNLINK: u16 = 11;
    pub const RMDIR: u16 = 12;
    pub const SET_XATTR: u16 = 13;
    pub const REMOVE_XATTR: u16 = 14;
    pub const WRITE: u16 = 15;
    pub const CLONE: u16 = 16;
    pub const TRUNCATE: u16 = 17;
    pub const CHMOD: u16 = 18;
    pub const CHOWN: u16 = 19;
    pub const UTIMES: u16 = 20;
    pub const END: u16 = 21;
    pub const UPDATE_EXTENT: u16 = 22;
}

/// Attributes.
#[allow(missing_docs)]
pub mod attr {
    pub const UUID: u16 = 1;
    pub const CTRANSID: u16 = 2;
    pub const INO: u16 = 3;
    pub const SIZE: u16 = 4;
    pub const MODE: u16 = 5;
    pub const UID: u16 = 6;
    pub const GID: u16 = 7;
    pub const RDEV: u16 = 8;
    pub const CTIME: u16 = 9;
    pub const MTIME: u16 = 10;
    pub const ATIME: u16 = 11;
    pub const OTIME: u16 = 12;
    pub const XATTR_NAME: u16 = 13;
    pub const XATTR_DATA: u16 = 14;
    pub const PATH: u16 = 15;
    pub const PATH_TO: u16 = 16;
    pub const PATH_LINK: u16 = 17;
    pub const FILE_OFFSET: u16 = 18;
    pub const DATA: u16 = 19;
    pub const CLONE_UUID: u16 = 20;
    pub const CLONE_CTRANSID: u16 = 21;
    pub const CLONE_PATH: u16 = 22;
    pub const CLONE_OFFSET: u16 = 23;
    pub const CLONE_LEN: u16 = 24;
}

/// Why a stream was refused, with the byte offset of the command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// Not a btrfs send stream at all.
    #[error("invalid stream: not a send stream (bad magic)")]
    BadMagic,
    /// A version Lumen cannot read.
    #[error("invalid stream: version {0} (Lumen reads version 1)")]
    Version(u32),
    /// The stream ended inside a command, or without its END.
    #[error("invalid stream: truncated at byte {offset} ({what})")]
    Truncated {
        /// Where.
        offset: u64,
        /// What was being read.
        what: &'static str,
    },
    /// A command's CRC does not match its bytes.
    #[error("invalid stream: checksum mismatch in command {cmd} at byte {offset} (corrupt)")]
    Checksum {
        /// Where.
        offset: u64,
        /// The command.
        cmd: u16,
    },
    /// A command is malformed (bad attribute, missing attribute, path).
    #[error("invalid stream: command {cmd} at byte {offset}: {why}")]
    Malformed {
        /// Where.
        offset: u64,
        /// The command.
        cmd: u16,
        /// What is wrong.
        why: String,
    },
    /// Reading the stream failed.
    #[error("reading the stream: {0}")]
    Io(String),
}

/// CRC32C (Castagnoli), as btrfs computes it: no pre- or post-inversion.
pub fn crc32c(seed: u32, data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let t = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, e) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    (c >> 1) ^ 0x82f6_3b78
                } else {
                    c >> 1
                };
            }
            *e = c;
        }
        t
    });
    let mut crc = seed;
    for &b in data {
        crc = t[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

/// One command, its attributes in stream order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The command number ([`cmd`]).
    pub cmd: u16,
    /// (attribute, value) pairs.
    pub attrs: Vec<(u16, Vec<u8>)>,
    /// Byte offset of the command in the stream.
    pub offset: u64,
    /// The command's bytes as read (for passing it on unchanged).
    pub raw: Vec<u8>,
}

impl Command {
    fn malformed(&self, why: impl Into<String>) -> StreamError {
        StreamError::Malformed {
            offset: self.offset,
            cmd: self.cmd,
            why: why.into(),
        }
    }

    /// The value of attribute `a`.
    pub fn get(&self, a: u16) -> Result<&[u8], StreamError> {
        self.attrs
            .iter()
            .find(|(k, _)| *k == a)
            .map(|(_, v)| v.as_slice())
            .ok_or_else(|| self.malformed(format!("attribute {a} missing")))
    }

    /// Attribute `a` as a little-endian u64.
    pub fn u64(&self, a: u16) -> Result<u64, StreamError> {
        let v = self.get(a)?;
        let b: [u8; 8] = v
            .try_into()
            .map_err(|_| self.malformed(format!("attribute {a} is not 8 bytes")))?;
        Ok(u64::from_le_bytes(b))
    }

    /// Attribute `a` as a UUID.
    pub fn uuid(&self, a: u16) -> Result<[u8; 16], StreamError> {
        self.get(a)?
            .try_into()
            .map_err(|_| self.malformed(format!("attribute {a} is not a UUID")))
    }

    /// Attribute `a` as a timespec (seconds, nanoseconds).
    pub fn time(&self, a: u16) -> Result<(i64, i64), StreamError> {
        let v = self.get(a)?;
        if v.len() != 12 {
            return Err(self.malformed(format!("attribute {a} is not a timespec")));
        }
        let mut s = [0u8; 8];
        s.copy_from_slice(&v[..8]);
        let mut n = [0u8; 4];
        n.copy_from_slice(&v[8..]);
        Ok((i64::from_le_bytes(s), i64::from(u32::from_le_bytes(n))))
    }

    /// Attribute `a` as a path inside the subvolume: relative, no `..`,
    /// no NUL (a stream may not reach outside what it makes).
    pub fn path(&self, a: u16) -> Result<String, StreamError> {
        let v = self.get(a)?;
        let s = std::str::from_utf8(v)
            .map_err(|_| self.malformed("a path is not UTF-8"))?
            .to_string();
        if s.starts_with('/') || s.contains('\0') || s.split('/').any(|c| c == "..") {
            return Err(self.malformed(format!("path {s:?} leaves the subvolume")));
        }
        Ok(s)
    }
}

/// Reads and checks a stream's commands.
pub struct Reader<R: Read> {
    r: R,
    offset: u64,
    /// Payload bytes read so far.
    pub bytes: u64,
}

fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> Result<usize, StreamError> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(StreamError::Io(e.to_string())),
        }
    }
    Ok(got)
}

impl<R: Read> Reader<R> {
    /// Read and check the stream header.
    pub fn new(mut r: R) -> Result<Reader<R>, StreamError> {
        let mut head = [0u8; 17];
        let n = read_full(&mut r, &mut head)?;
        if n < MAGIC.len() || &head[..13] != MAGIC {
            if n < 17 && MAGIC.starts_with(&head[..n]) {
                return Err(StreamError::Truncated {
                    offset: n as u64,
                    what: "the stream header",
                });
            }
            return Err(StreamError::BadMagic);
        }
        if n < 17 {
            return Err(StreamError::Truncated {
                offset: n as u64,
                what: "the stream header",
            });
        }
        let version = u32::from_le_bytes([head[13], head[14], head[15], head[16]]);
        if version != VERSION {
            return Err(StreamError::Version(version));
        }
        Ok(Reader {
            r,
            offset: 17,
            bytes: 17,
        })
    }

    /// The next command; None where the stream ends cleanly between
    /// commands (the caller decides whether an END was needed).
    pub fn next_command(&mut self) -> Result<Option<Command>, StreamError> {
        let mut head = [0u8; CMD_HEADER];
        let n = read_full(&mut self.r, &mut head)?;
        if n == 0 {
            return Ok(None);
        }
        let offset = self.offset;
        if n < CMD_HEADER {
            return Err(StreamError::Truncated {
                offset,
                what: "a command header",
            });
        }
        let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let cmd = u16::from_le_bytes([head[4], head[5]]);
        let crc = u32::from_le_bytes([head[6], head[7], head[8], head[9]]);
        if len > MAX_PAYLOAD {
            return Err(StreamError::Malformed {
                offset,
                cmd,
                why: format!("payload of {len} bytes is more than a command holds"),
            });
        }
        let mut raw = vec![0u8; CMD_HEADER + len];
        raw[..CMD_HEADER].copy_from_slice(&head);
        if read_full(&mut self.r, &mut raw[CMD_HEADER..])? < len {
            return Err(StreamError::Truncated {
                offset,
                what: "a command's attributes",
            });
        }
        raw[6..10].fill(0);
        if crc32c(0, &raw) != crc {
            return Err(StreamError::Checksum { offset, cmd });
        }
        raw[6..10].copy_from_slice(&crc.to_le_bytes());
        let mut attrs = Vec::new();
        let mut at = CMD_HEADER;
        while at < raw.len() {
            if at + 4 > raw.len() {
                return Err(StreamError::Malformed {
                    offset,
                    cmd,
                    why: "an attribute header runs past the command".into(),
                });
            }
            let a = u16::from_le_bytes([raw[at], raw[at + 1]]);
            let l = u16::from_le_bytes([raw[at + 2], raw[at + 3]]) as usize;
            let Some(v) = raw.get(at + 4..at + 4 + l) else {
                return Err(StreamError::Malformed {
                    offset,
                    cmd,
                    why: format!("attribute {a} runs past the command"),
                });
            };
            attrs.push((a, v.to_vec()));
            at += 4 + l;
        }
        self.offset += raw.len() as u64;
        self.bytes = self.offset;
        Ok(Some(Command {
            cmd,
            attrs,
            offset,
            raw,
        }))
    }
}

/// The stream header.
pub fn header() -> Vec<u8> {
    let mut h = MAGIC.to_vec();
    h.extend_from_slice(&VERSION.to_le_bytes());
    h
}

/// Encode one command with its CRC.
pub fn encode(cmd: u16, attrs: &[(u16, &[u8])]) -> Vec<u8> {
    let mut out = vec![0u8; CMD_HEADER];
    for (a, v) in attrs {
        out.extend_from_slice(&a.to_le_bytes());
        out.extend_from_slice(&(v.len() as u16).to_le_bytes());
        out.extend_from_slice(v);
    }
    let len = (out.len() - CMD_HEADER) as u32;
    out[0..4].copy_from_slice(&len.to_le_bytes());
    out[4..6].copy_from_slice(&cmd.to_le_bytes());
    let crc = crc32c(0, &out);
    out[6..10].copy_from_slice(&crc.to_le_bytes());
    out
}

/// `c` with attribute `a` replaced by `value` (re-encoded, new CRC).
pub fn with_attr(c: &Command, a: u16, value: &[u8]) -> Vec<u8> {
    let attrs: Vec<(u16, &[u8])> = c
        .attrs
        .iter()
        .map(|(k, v)| (*k, if *k == a { value } else { v.as_slice() }))
        .collect();
    encode(c.cmd, &attrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut s = header();
        s.extend(encode(
            cmd::SUBVOL,
            &[
                (attr::PATH, b"@s"),
                (attr::UUID, &[7u8; 16]),
                (attr::CTRANSID, &9u64.to_le_bytes()),
            ],
        ));
        s.extend(encode(
            cmd::WRITE,
            &[
                (attr::PATH, b"f"),
                (attr::FILE_OFFSET, &0u64.to_le_bytes()),
                (attr::DATA, b"hello"),
            ],
        ));
        s.extend(encode(cmd::END, &[]));
        s
    }

    #[test]
    fn crc32c_is_castagnoli_without_inversion() {
        // The standard check value of CRC-32C is for the inverted form.
        assert_eq!(!crc32c(!0, b"123456789"), 0xe306_9283);
    }

    #[test]
    fn a_stream_reads_back() {
        let s = sample();
        let mut r = Reader::new(&s[..]).expect("header");
        let c = r.next_command().expect("ok").expect("subvol");
        assert_eq!(c.cmd, cmd::SUBVOL);
        assert_eq!(c.path(attr::PATH).expect("path"), "@s");
        assert_eq!(c.uuid(attr::UUID).expect("uuid"), [7u8; 16]);
        assert_eq!(c.u64(attr::CTRANSID).expect("ctransid"), 9);
        let w = r.next_command().expect("ok").expect("write");
        assert_eq!(w.get(attr::DATA).expect("data"), b"hello");
        assert_eq!(r.next_command().expect("ok").expect("end").cmd, cmd::END);
        assert_eq!(r.next_command().expect("ok"), None);
    }

    #[test]
    fn every_truncation_is_refused() {
        let s = sample();
        // Cutting anywhere inside a command is an error, never a short read
        // taken for the end.
        let ends: Vec<usize> = {
            let mut r = Reader::new(&s[..]).expect("header");
            let mut v = vec![17];
            while let Some(c) = r.next_command().expect("ok") {
                v.push(c.offset as usize + c.raw.len());
            }
            v
        };
        for cut in 0..s.len() {
            let got = (|| {
                let mut r = Reader::new(&s[..cut])?;
                while r.next_command()?.is_some() {}
                Ok::<_, StreamError>(())
            })();
            if ends.contains(&cut) {
                assert!(got.is_ok(), "cut at a command boundary {cut}: {got:?}");
            } else {
                assert!(got.is_err(), "cut at {cut} was accepted");
            }
        }
    }

    #[test]
    fn every_flipped_bit_of_a_command_is_caught() {
        let s = sample();
        for i in 17..s.len() {
            for bit in 0..8 {
                let mut bad = s.clone();
                bad[i] ^= 1 << bit;
                let got = (|| {
                    let mut r = Reader::new(&bad[..])?;
                    while r.next_command()?.is_some() {}
                    Ok::<_, StreamError>(())
                })();
                assert!(got.is_err(), "byte {i} bit {bit} flipped was accepted");
            }
        }
    }

    #[test]
    fn paths_may_not_leave_the_subvolume() {
        for p in ["../etc/passwd", "/etc/passwd", "a/../../b"] {
            let raw = encode(cmd::MKFILE, &[(attr::PATH, p.as_bytes())]);
            let mut s = header();
            s.extend(raw);
            let mut r = Reader::new(&s[..]).expect("header");
            let c = r.next_command().expect("ok").expect("cmd");
            assert!(c.path(attr::PATH).is_err(), "{p} accepted");
        }
    }

    #[test]
    fn not_a_stream() {
        assert!(matches!(
            Reader::new(&b"hello world, this is no stream"[..]),
            Err(StreamError::BadMagic)
        ));
        let mut h = header();
        h[13] = 3;
        assert!(matches!(Reader::new(&h[..]), Err(StreamError::Version(3))));
    }
}
