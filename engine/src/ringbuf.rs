//! Reading trace records from a `BPF_MAP_TYPE_RINGBUF` map, sleeping in epoll when it is empty.
//!
//! The record walk is `aya`'s [`aya::maps::RingBuf`]: it maps the consumer
//! page read-write and the producer page plus the data area (mapped twice,
//! so records that wrap read as one slice) read-only, skips records with the
//! DISCARD bit, stops at one with the BUSY bit, and publishes the consumer
//! position with a store-release after each record. We adopt the map fd we
//! created ([`aya::maps::MapData::from_fd`] on a duplicate), so nothing of
//! aya's ELF loader is involved. What we add is the waiting: an epoll on
//! the map fd, which the kernel makes readable when a producer commits a
//! record while the consumer is caught up.

use crate::sys::epoll::Epoll;
use crate::sys::SysError;
use aya::maps::{Map, MapData, MapError};
use std::io;
use std::os::fd::{AsFd, BorrowedFd};

/// Why a ring buffer could not be opened or waited on.
#[derive(Debug, thiserror::Error)]
pub enum RingBufError {
    /// The map fd could not be duplicated.
    #[error("cannot duplicate the ring buffer map fd: {0}")]
    Dup(#[source] io::Error),
    /// aya could not adopt or map the fd (not a ring buffer map, or mmap failed).
    #[error("cannot map the ring buffer: {0}")]
    Map(#[source] MapError),
    /// An epoll call failed.
    #[error(transparent)]
    Sys(#[from] SysError),
}

/// The consumer end of a ring buffer map.
pub struct RingBuf {
    ring: aya::maps::RingBuf<MapData>,
    epoll: Epoll,
}

impl std::fmt::Debug for RingBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RingBuf")
            .field("fd", &self.ring.as_fd())
            .finish()
    }
}

impl RingBuf {
    /// Map the ring buffer map `map_fd` for reading. The fd is duplicated:
    /// the caller keeps its own.
    pub fn new(map_fd: BorrowedFd<'_>) -> Result<RingBuf, RingBufError> {
        let fd = map_fd.try_clone_to_owned().map_err(RingBufError::Dup)?;
        let data = MapData::from_fd(fd).map_err(RingBufError::Map)?;
        let map = Map::from_map_data(data).map_err(RingBufError::Map)?;
        let ring = aya::maps::RingBuf::try_from(map).map_err(RingBufError::Map)?;
        let epoll = Epoll::new()?;
        epoll.add(ring.as_fd(), 0)?;
        Ok(RingBuf { ring, epoll })
    }

    /// Hand every record available now to `f`, in commit order; the number
    /// handed. Records are released to the producer as soon as `f` returns.
    pub fn drain(&mut self, mut f: impl FnMut(&[u8])) -> usize {
        let mut n = 0;
        while let Some(item) = self.ring.next() {
            f(&item);
            n += 1;
        }
        n
    }

    /// [`Self::drain`]; if nothing was there, wait up to `timeout_ms` (-1:
    /// forever, 0: not at all) for a record and drain again. Returns the
    /// number of records handed to `f` (0 on timeout or a signal).
    pub fn poll(
        &mut self,
        timeout_ms: i32,
        mut f: impl FnMut(&[u8]),
    ) -> Result<usize, RingBufError> {
        let n = self.drain(&mut f);
        if n > 0 || timeout_ms == 0 {
            return Ok(n);
        }
        self.epoll.wait(timeout_ms)?;
        Ok(self.drain(f))
    }
}
