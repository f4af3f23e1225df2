//! Traffic control: qdiscs and tc filters on a link, and the `tbf`
//! qdisc's options, which `netlink-packet-route` lacks and are built here
//! byte by byte.
//!
//! Apart from links and routes because only a vNIC's shaping and its
//! classifier ([`crate::traffic`]) use these, and the hand-built `tbf`
//! options are the one place this crate writes a kernel struct itself.

use super::Netlink;
use crate::error::{NetError, Result};
use netlink_packet_core::{DefaultNla, NLM_F_CREATE, NLM_F_DUMP, NLM_F_REPLACE};
use netlink_packet_route::tc::{TcAttribute, TcHandle, TcMessage, TcOption};
use netlink_packet_route::RouteNetlinkMessage;

impl Netlink {
    fn tc_message(index: u32, parent: TcHandle, handle: TcHandle) -> TcMessage {
        let mut m = TcMessage::default();
        m.header.index = index as i32;
        m.header.parent = parent;
        m.header.handle = handle;
        m
    }

    /// Create or replace the qdisc at `parent` of link `index`.
    pub fn qdisc_replace(
        &mut self,
        index: u32,
        parent: TcHandle,
        handle: TcHandle,
        kind: &str,
        options: Vec<TcOption>,
    ) -> Result<()> {
        let mut m = Self::tc_message(index, parent, handle);
        m.attributes.push(TcAttribute::Kind(kind.into()));
        if !options.is_empty() {
            m.attributes.push(TcAttribute::Options(options));
        }
        self.change(
            &|| format!("setting qdisc {kind} on link {index}"),
            RouteNetlinkMessage::NewQueueDiscipline(m),
            NLM_F_CREATE | NLM_F_REPLACE,
        )
    }

    /// Remove the qdisc at `parent` of link `index`; no error if there
    /// was none to remove.
    pub fn qdisc_del(&mut self, index: u32, parent: TcHandle) -> Result<()> {
        let m = Self::tc_message(index, parent, TcHandle::UNSPEC);
        match self.change(
            &|| format!("removing a qdisc of link {index}"),
            RouteNetlinkMessage::DelQueueDiscipline(m),
            0,
        ) {
            Err(NetError::Netlink { errno, .. })
                if errno.0 == libc::ENOENT || errno.0 == libc::EINVAL =>
            {
                Ok(())
            }
            r => r,
        }
    }

    /// The qdiscs of link `index`: (parent, kind).
    pub fn qdiscs(&mut self, index: u32) -> Result<Vec<(TcHandle, String)>> {
        let m = Self::tc_message(index, TcHandle::UNSPEC, TcHandle::UNSPEC);
        let msgs = self.exchange(
            &|| format!("listing qdiscs of link {index}"),
            RouteNetlinkMessage::GetQueueDiscipline(m),
            NLM_F_DUMP,
        )?;
        Ok(msgs
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewQueueDiscipline(q) if q.header.index == index as i32 => {
                    let kind = q.attributes.iter().find_map(|a| match a {
                        TcAttribute::Kind(k) => Some(k.clone()),
                        _ => None,
                    })?;
                    Some((q.header.parent, kind))
                }
                _ => None,
            })
            .collect())
    }

    /// Create or replace filter `prio` of kind `kind` at `parent` of link
    /// `index`, for every protocol.
    pub fn filter_replace(
        &mut self,
        index: u32,
        parent: TcHandle,
        prio: u16,
        kind: &str,
        options: Vec<TcOption>,
    ) -> Result<()> {
        // tcm_info: priority in the high half, protocol (ETH_P_ALL,
        // network order) in the low half.
        let mut m = Self::tc_message(index, parent, TcHandle { major: 0, minor: 1 });
        m.header.info = (u32::from(prio) << 16) | u32::from(0x0003u16.to_be());
        m.attributes.push(TcAttribute::Kind(kind.into()));
        m.attributes.push(TcAttribute::Options(options));
        self.change(
            &|| format!("setting a {kind} filter on link {index}"),
            RouteNetlinkMessage::NewTrafficFilter(m),
            NLM_F_CREATE | NLM_F_REPLACE,
        )
    }

    /// Remove every filter of priority `prio` at `parent` of link
    /// `index`; no error if there was none.
    pub fn filter_del(&mut self, index: u32, parent: TcHandle, prio: u16) -> Result<()> {
        let mut m = Self::tc_message(index, parent, TcHandle::UNSPEC);
        m.header.info = u32::from(prio) << 16;
        match self.change(
            &|| format!("removing a filter of link {index}"),
            RouteNetlinkMessage::DelTrafficFilter(m),
            0,
        ) {
            Err(NetError::Netlink { errno, .. })
                if errno.0 == libc::ENOENT || errno.0 == libc::EINVAL =>
            {
                Ok(())
            }
            r => r,
        }
    }

    /// The filters at `parent` of link `index`, as the kernel lists them.
    pub fn filters(&mut self, index: u32, parent: TcHandle) -> Result<Vec<TcMessage>> {
        let m = Self::tc_message(index, parent, TcHandle::UNSPEC);
        let msgs = match self.exchange(
            &|| format!("listing filters of link {index}"),
            RouteNetlinkMessage::GetTrafficFilter(m),
            NLM_F_DUMP,
        ) {
            Ok(m) => m,
            // No clsact qdisc, so no filters.
            Err(NetError::Netlink { errno, .. }) if errno.0 == libc::EINVAL => Vec::new(),
            Err(e) => return Err(e),
        };
        Ok(msgs
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewTrafficFilter(f) => Some(f),
                _ => None,
            })
            .collect())
    }
}

/// The `tbf` qdisc's options (`TCA_TBF_PARMS` and `TCA_TBF_BURST`), which
/// `netlink-packet-route` does not have: a token bucket of `burst` bytes
/// filling at `rate_bytes` a second, holding at most `limit` bytes queued.
pub fn tbf_options(rate_bytes: u64, burst: u32, limit: u32) -> Vec<TcOption> {
    // struct tc_ratespec: cell_log u8, linklayer u8, overhead u16,
    // cell_align i16, mpu u16, rate u32.
    let ratespec = |rate: u32| -> [u8; 12] {
        let mut r = [0u8; 12];
        r[1] = 1; // TC_LINKLAYER_ETHERNET: no rate table needed.
        r[8..12].copy_from_slice(&rate.to_ne_bytes());
        r
    };
    // struct tc_tbf_qopt: rate, peakrate, limit, buffer (in psched ticks
    // of 64 ns), mtu. The buffer is overridden by TCA_TBF_BURST below, but
    // must be sane for kernels that read it first.
    let rate32 = u32::try_from(rate_bytes).unwrap_or(u32::MAX);
    let buffer_ns = (u64::from(burst) * 1_000_000_000) / rate_bytes.max(1);
    let buffer_ticks = u32::try_from(buffer_ns >> 6).unwrap_or(u32::MAX);
    let mut parms = Vec::with_capacity(36);
    parms.extend_from_slice(&ratespec(rate32));
    parms.extend_from_slice(&[0u8; 12]);
    parms.extend_from_slice(&limit.to_ne_bytes());
    parms.extend_from_slice(&buffer_ticks.to_ne_bytes());
    parms.extend_from_slice(&0u32.to_ne_bytes());
    const TCA_TBF_PARMS: u16 = 1;
    const TCA_TBF_RATE64: u16 = 4;
    const TCA_TBF_BURST: u16 = 6;
    let mut out = vec![TcOption::Other(DefaultNla::new(TCA_TBF_PARMS, parms))];
    if rate_bytes > u64::from(u32::MAX) {
        out.push(TcOption::Other(DefaultNla::new(
            TCA_TBF_RATE64,
            rate_bytes.to_ne_bytes().to_vec(),
        )));
    }
    out.push(TcOption::Other(DefaultNla::new(
        TCA_TBF_BURST,
        burst.to_ne_bytes().to_vec(),
    )));
    out
}
