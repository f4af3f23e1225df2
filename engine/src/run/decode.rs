//! Records and aggregation entries from raw bytes to [`Value`]s, by the
//! descriptions code generation produced.

use crate::model::value::Value;
use d_lang::codegen::{Enabling, Field, FieldKind, RecordAction};

/// A record read from the ring buffer.
#[derive(Debug)]
pub struct Record<'a> {
    /// The enabling that produced it.
    pub enabling: &'a Enabling,
    /// CPU it was recorded on.
    pub cpu: u32,
    /// Actions that ran, in order, with their decoded fields.
    pub actions: Vec<(&'a RecordAction, Vec<Value>)>,
    /// The speculation that diverted this record (`speculate(id)`), if any.
    pub speculation: Option<u64>,
}

/// A run-time error a probe raised (an error record: EPID 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorRecord {
    /// CPU it happened on.
    pub cpu: u32,
    /// The enabling whose clause faulted.
    pub epid: u32,
    /// Its action number (0: the predicate).
    pub action: u64,
    /// `DTRACEFLT_*` code.
    pub fault: u64,
    /// The address, for address faults.
    pub addr: u64,
    /// Instruction index of the fault.
    pub pc: u64,
}

/// The error record in `bytes`, if it is one.
pub fn error_record(bytes: &[u8]) -> Option<ErrorRecord> {
    if bytes.len() < d_lang::codegen::layout::ERROR_RECORD_SIZE as usize || u32_at(bytes, 0) != 0 {
        return None;
    }
    Some(ErrorRecord {
        cpu: u32_at(bytes, 4),
        epid: u64_at(bytes, 8) as u32,
        action: u64_at(bytes, 16),
        fault: u64_at(bytes, 24),
        addr: u64_at(bytes, 32),
        pc: u64_at(bytes, 40),
    })
}

/// Why a record could not be decoded (a consumer/producer mismatch).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Shorter than its header or its enabling's size.
    #[error("record of {0} bytes is too short")]
    Short(usize),
    /// The EPID names no enabling.
    #[error("record names unknown enabled probe ID {0}")]
    UnknownEpid(u32),
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[off..off + 4]);
    u32::from_ne_bytes(w)
}

fn u64_at(b: &[u8], off: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[off..off + 8]);
    u64::from_ne_bytes(w)
}

/// Decode one field at `base` of `bytes` (which must hold it).
pub fn field(bytes: &[u8], base: usize, f: &Field) -> Value {
    let off = base + f.offset as usize;
    match f.kind {
        FieldKind::Int { size, signed } => match bytes.get(off..off + 8) {
            Some(_) => Value::int(u64_at(bytes, off) as i64, size, signed),
            None => Value::int(0, size, signed),
        },
        FieldKind::Str { size } => {
            let raw = bytes
                .get(off..(off + size as usize).min(bytes.len()))
                .unwrap_or(&[]);
            let end = raw.iter().position(|&c| c == 0).unwrap_or(raw.len());
            Value::Str(raw[..end].to_vec())
        }
        FieldKind::Bytes { size } => Value::Bytes(
            bytes
                .get(off..(off + size as usize).min(bytes.len()))
                .unwrap_or(&[])
                .to_vec(),
        ),
        FieldKind::Stack { frames, user } => {
            let word = |i: usize| {
                bytes
                    .get(off + 8 * i..off + 8 * i + 8)
                    .map_or(0, |_| u64_at(bytes, off + 8 * i))
            };
            let first = user as usize;
            let pcs = (first..first + frames as usize)
                .map(word)
                .take_while(|&pc| pc != 0)
                .collect();
            if user {
                Value::UStack {
                    pid: word(0) as u32,
                    pcs,
                }
            } else {
                Value::Stack(pcs)
            }
        }
        FieldKind::Addr { kind, user } => {
            let word = |i: usize| {
                bytes
                    .get(off + 8 * i..off + 8 * i + 8)
                    .map_or(0, |_| u64_at(bytes, off + 8 * i))
            };
            Value::Addr {
                addr: word(0),
                pid: user.then(|| word(1) as u32),
                kind,
            }
        }
    }
}

/// Decode a ring-buffer record.
pub fn record<'a>(enablings: &'a [Enabling], bytes: &[u8]) -> Result<Record<'a>, DecodeError> {
    if bytes.len() < 24 {
        return Err(DecodeError::Short(bytes.len()));
    }
    let epid = u32_at(bytes, 0);
    let cpu = u32_at(bytes, 4);
    let mask = u64_at(bytes, 8);
    let spec = u64_at(bytes, 16);
    let enabling = epid
        .checked_sub(1)
        .and_then(|i| enablings.get(i as usize))
        .ok_or(DecodeError::UnknownEpid(epid))?;
    if bytes.len() < enabling.size as usize {
        return Err(DecodeError::Short(bytes.len()));
    }
    // Bit i of the mask words: the header's for the first 64 actions,
    // then one word per 64 right after the header.
    let ran = |i: usize| match i / 64 {
        0 => mask & (1u64 << i) != 0,
        w => u64_at(bytes, 24 + 8 * (w - 1)) & (1u64 << (i % 64)) != 0,
    };
    let actions = enabling
        .actions
        .iter()
        .enumerate()
        .filter(|(i, _)| ran(*i))
        .map(|(_, a)| (a, a.fields.iter().map(|f| field(bytes, 0, f)).collect()))
        .collect();
    let speculation = (spec != 0).then_some(spec & !(1u64 << 63));
    Ok(Record {
        enabling,
        cpu,
        actions,
        speculation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use d_lang::codegen::RecordKind;
    use d_lang::ProbeInfo;

    #[test]
    fn decodes_header_mask_and_fields() {
        let probe = ProbeInfo {
            id: 1,
            provider: "dtrace".into(),
            module: String::new(),
            function: String::new(),
            name: "BEGIN".into(),
            args: vec![],
        };
        let en = Enabling {
            epid: 1,
            clause: 0,
            statement: 0,
            probe,
            size: 24 + 8 + 16,
            mask_words: 1,
            actions: vec![
                RecordAction {
                    kind: RecordKind::Trace,
                    fields: vec![Field {
                        offset: 24,
                        kind: FieldKind::Int {
                            size: 4,
                            signed: true,
                        },
                    }],
                },
                RecordAction {
                    kind: RecordKind::Trace,
                    fields: vec![Field {
                        offset: 32,
                        kind: FieldKind::Str { size: 16 },
                    }],
                },
            ],
        };
        let mut b = vec![0u8; 48];
        b[0..4].copy_from_slice(&1u32.to_ne_bytes());
        b[4..8].copy_from_slice(&3u32.to_ne_bytes());
        b[8..16].copy_from_slice(&3u64.to_ne_bytes());
        b[24..32].copy_from_slice(&(-5i64).to_ne_bytes());
        b[32..35].copy_from_slice(b"abc");
        let ens = [en];
        let r = record(&ens, &b).unwrap();
        assert_eq!(r.cpu, 3);
        assert_eq!(r.actions.len(), 2);
        assert_eq!(r.actions[0].1[0].as_i64(), Some(-5));
        assert_eq!(r.actions[1].1[0], Value::Str(b"abc".to_vec()));
        assert_eq!(record(&ens, &b[..10]).unwrap_err(), DecodeError::Short(10));
        b[0] = 9;
        assert_eq!(record(&ens, &b).unwrap_err(), DecodeError::UnknownEpid(9));
    }
}
