//! Aggregation snapshots: every key of an aggregation's per-CPU hash, with
//! the per-CPU values merged as DTrace merges its per-CPU buffers.

use super::decode::field;
use crate::backend::Map;
use crate::model::value::Value;
use crate::sys::SysError;
use d_lang::codegen::AggObj;
use d_lang::ir::AggFunc;

/// A merged aggregation value: the printer's own type.
pub use crate::model::AggValue as Merged;

fn word(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    if let Some(s) = b.get(i * 8..i * 8 + 8) {
        w.copy_from_slice(s);
    }
    u64::from_ne_bytes(w)
}

/// Merge one key's per-CPU values; `None` for a min/max no CPU has set.
pub fn merge(func: &AggFunc, per_cpu: &[Vec<u8>]) -> Option<Merged> {
    Some(match func {
        AggFunc::Count | AggFunc::Sum => Merged::Scalar(
            per_cpu
                .iter()
                .map(|v| word(v, 0) as i64)
                .fold(0i64, i64::wrapping_add),
        ),
        AggFunc::Min | AggFunc::Max => {
            let set = per_cpu
                .iter()
                .filter(|v| word(v, 0) != 0)
                .map(|v| word(v, 1) as i64);
            let m = if *func == AggFunc::Min {
                set.min()
            } else {
                set.max()
            };
            Merged::Scalar(m?)
        }
        AggFunc::Avg => Merged::Avg {
            count: per_cpu.iter().map(|v| word(v, 0)).sum(),
            total: per_cpu
                .iter()
                .map(|v| word(v, 1) as i64)
                .fold(0, i64::wrapping_add),
        },
        AggFunc::Stddev => Merged::Stddev {
            count: per_cpu.iter().map(|v| word(v, 0)).sum(),
            total: per_cpu
                .iter()
                .map(|v| word(v, 1) as i64)
                .fold(0, i64::wrapping_add),
            total_sq: per_cpu
                .iter()
                .map(|v| (word(v, 3) as u128) << 64 | word(v, 2) as u128)
                .fold(0u128, u128::wrapping_add),
        },
        AggFunc::Quantize | AggFunc::Lquantize { .. } | AggFunc::Llquantize { .. } => {
            let n = per_cpu.first().map_or(0, |v| v.len() / 8);
            Merged::Buckets(
                (0..n)
                    .map(|i| per_cpu.iter().map(|v| word(v, i) as i64).sum())
                    .collect(),
            )
        }
    })
}

/// One aggregation's entries: decoded keys and merged values.
pub fn read(agg: &AggObj, map: &dyn Map) -> Result<Vec<(Vec<Value>, Merged)>, SysError> {
    let mut out = Vec::new();
    if agg.array {
        // Keyless: slot 0; CPUs whose mark word is 0 never aggregated.
        let Some(values) = map.lookup_percpu(&0u32.to_ne_bytes())? else {
            return Ok(out);
        };
        let used: Vec<Vec<u8>> = values
            .iter()
            .filter(|v| word(v, 0) != 0)
            .map(|v| v[8..].to_vec())
            .collect();
        if let Some(merged) = (!used.is_empty())
            .then(|| merge(&agg.func, &used))
            .flatten()
        {
            out.push((Vec::new(), merged));
        }
        return Ok(out);
    }
    for key in map.keys()? {
        let Some(values) = map.lookup_percpu(&key)? else {
            continue;
        };
        let Some(merged) = merge(&agg.func, &values) else {
            continue;
        };
        let keys = agg.keys.iter().map(|f| field(&key, 0, f)).collect();
        out.push((keys, merged));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(words: &[u64]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_ne_bytes()).collect()
    }

    #[test]
    fn merges_like_dtrace() {
        assert_eq!(
            merge(&AggFunc::Count, &[v(&[2]), v(&[3])]),
            Some(Merged::Scalar(5))
        );
        assert_eq!(
            merge(
                &AggFunc::Min,
                &[v(&[0, 0]), v(&[1, -4i64 as u64]), v(&[1, 7])]
            ),
            Some(Merged::Scalar(-4))
        );
        assert_eq!(merge(&AggFunc::Max, &[v(&[0, 99])]), None);
        assert_eq!(
            merge(&AggFunc::Avg, &[v(&[2, 10]), v(&[1, 5])]),
            Some(Merged::Avg {
                count: 3,
                total: 15
            })
        );
        assert_eq!(
            merge(&AggFunc::Quantize, &[v(&[1, 2]), v(&[3, 4])]),
            Some(Merged::Buckets(vec![4, 6]))
        );
        assert_eq!(
            merge(
                &AggFunc::Stddev,
                &[v(&[1, 2, u64::MAX, 0]), v(&[1, 2, 1, 0])]
            ),
            Some(Merged::Stddev {
                count: 2,
                total: 4,
                total_sq: 1u128 << 64
            })
        );
    }
}
