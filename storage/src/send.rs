//! `zfs send`: the kernel's btrfs send stream (`BTRFS_IOC_SEND`) of one
//! snapshot, or incremental from an earlier one, or (`-R`) of a dataset,
//! its descendants and all their snapshots, as one stream.
//!
//! Each subvolume's `SUBVOL`/`SNAPSHOT` command is rewritten to carry the
//! snapshot's name relative to the sent dataset (`@s`, `child@s`), so a
//! receiver knows where each goes; a plain one-snapshot stream stays one
//! `btrfs receive` takes too. Every command read back from the kernel is
//! checked (length, CRC) before it is passed on.

use crate::dataset::fire;
use crate::error::{io, Result, StorageError};
use crate::handle::{open_dir, Pool};
use crate::layout::{Entry, Kind};
use crate::name::{AnyName, DatasetName, SnapshotName};
use crate::stream::{self, attr, cmd, Reader};
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// How to send.
#[derive(Debug, Clone, Default)]
pub struct SendOptions {
    /// `-i`: incremental from this earlier snapshot (of the same dataset,
    /// or with `-R` the same snapshot name on every dataset).
    pub from: Option<String>,
    /// `-R`: the dataset, its descendants and their snapshots.
    pub replicate: bool,
}

/// A snapshot to send: it, what it is relative to, its name in the stream.
struct Part<'a> {
    snap: &'a Entry,
    parent: Option<&'a Entry>,
    stream_name: String,
}

/// `name` of `d` relative to `top` (`""`, `child`, `child/grand`).
fn relative(top: &DatasetName, d: &DatasetName) -> String {
    d.components()[top.components().len()..].join("/")
}

impl Pool {
    /// Write the stream for `snap` to `out`; the bytes written.
    pub fn send(
        &self,
        snap: &SnapshotName,
        opts: &SendOptions,
        out: &mut dyn Write,
    ) -> Result<u64> {
        let entries = self.entries()?;
        let find = |n: &SnapshotName| {
            entries
                .iter()
                .find(|e| e.name == AnyName::Snapshot(n.clone()))
                .ok_or_else(|| StorageError::NoSuchDataset(n.to_string()))
        };
        find(snap)?;
        let top = &snap.dataset;
        let datasets: Vec<&DatasetName> = entries
            .iter()
            .filter(|e| e.kind != Kind::Snapshot)
            .map(|e| e.name.dataset())
            .filter(|d| *d == top || (opts.replicate && d.is_within(top)))
            .collect();
        let from_snap = |d: &DatasetName| -> Result<Option<SnapshotName>> {
            opts.from
                .as_deref()
                .map(|f| {
                    let f = f.rsplit('@').next().unwrap_or(f);
                    SnapshotName::of(d, f).map_err(StorageError::from)
                })
                .transpose()
        };
        let mut parts = Vec::new();
        for d in datasets {
            let rel = relative(top, d);
            let mine: Vec<&Entry> = entries
                .iter()
                .filter(|e| e.kind == Kind::Snapshot && e.name.dataset() == d)
                .collect();
            let last = SnapshotName::of(d, &snap.snap)?;
            let last_e = find(&last).map_err(|_| StorageError::Refused {
                action: "send",
                name: snap.to_string(),
                why: format!("{last} does not exist (snapshot with -r first)"),
            })?;
            let from = from_snap(d)?.map(|f| find(&f)).transpose()?;
            if let Some(f) = from {
                if (f.record.otime, f.record.id) >= (last_e.record.otime, last_e.record.id) {
                    return Err(StorageError::Refused {
                        action: "send",
                        name: snap.to_string(),
                        why: format!("incremental source {} is not earlier", f.name),
                    });
                }
            }
            // Without -R only the one snapshot; with it every snapshot up to it.
            let chosen: Vec<&Entry> = if opts.replicate {
                mine.into_iter()
                    .filter(|e| {
                        (e.record.otime, e.record.id) <= (last_e.record.otime, last_e.record.id)
                    })
                    .filter(|e| {
                        from.is_none_or(|f| {
                            (e.record.otime, e.record.id) > (f.record.otime, f.record.id)
                        })
                    })
                    .collect()
            } else {
                vec![last_e]
            };
            let mut prev = from;
            for s in chosen {
                let AnyName::Snapshot(sn) = &s.name else {
                    continue;
                };
                parts.push(Part {
                    snap: s,
                    parent: prev,
                    stream_name: format!("{rel}@{}", sn.snap),
                });
                prev = Some(s);
            }
        }
        out.write_all(&stream::header())
            .map_err(io("standard output"))?;
        let mut total = 17u64;
        let name = snap.to_string();
        for part in &parts {
            total += self.send_part(part, out, &name, total)?;
        }
        out.write_all(&stream::encode(cmd::END, &[]))
            .map_err(io("standard output"))?;
        out.flush().map_err(io("standard output"))?;
        total += 10;
        fire(&name, |n| probes::zfs::send__progress(|| (n, total)));
        Ok(total)
    }

    /// One snapshot's commands, from the kernel through a pipe.
    fn send_part(&self, part: &Part, out: &mut dyn Write, name: &str, before: u64) -> Result<u64> {
        let subvol = open_dir(&part.snap.path)?;
        let mut fds = [0i32; 2];
        // SAFETY: pipe2 writes two new fds into the array.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(io("a pipe")(std::io::Error::last_os_error()));
        }
        // SAFETY: both fds were just made and are owned here.
        let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        let kernel = self.kernel.clone();
        let parent = part.parent.map(|p| p.record.id);
        let what = part.snap.name.to_string();
        // The kernel writes the whole stream in one ioctl: on a thread, so
        // this one reads the pipe as it fills.
        let sender = std::thread::spawn(move || {
            let r = kernel.send(&subvol, w.as_raw_fd(), parent, 0);
            drop(w);
            r
        });
        let mut reader = Reader::new(std::fs::File::from(r));
        let mut written = 0u64;
        let mut next_probe = before + (16 << 20);
        let copied = (|| -> Result<()> {
            let reader = reader
                .as_mut()
                .map_err(|e| StorageError::Stream(e.clone()))?;
            while let Some(c) = reader.next_command()? {
                let bytes = match c.cmd {
                    cmd::END => continue,
                    cmd::SUBVOL | cmd::SNAPSHOT => {
                        stream::with_attr(&c, attr::PATH, part.stream_name.as_bytes())
                    }
                    _ => c.raw,
                };
                out.write_all(&bytes).map_err(io("standard output"))?;
                written += bytes.len() as u64;
                if before + written >= next_probe {
                    next_probe += 16 << 20;
                    fire(name, |n| {
                        probes::zfs::send__progress(|| (n, before + written))
                    });
                }
            }
            Ok(())
        })();
        // A reader that stopped early leaves the kernel writing to a pipe
        // no one reads: close it so the ioctl ends (EPIPE).
        drop(reader);
        let sent = sender.join().map_err(|_| StorageError::Refused {
            action: "send",
            name: what.clone(),
            why: "the sending thread panicked".into(),
        })?;
        copied?;
        sent.map_err(crate::error::kernel("send", &what))?;
        Ok(written)
    }
}
