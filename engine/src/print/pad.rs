//! C printf's field padding, over bytes: `%-Ns` and `%Ns` for the printers.

/// Append `s` padded with spaces to `width` bytes: on the right when
/// `left` (C's `%-Ns`), else on the left (`%Ns`). Never truncates.
pub(crate) fn pad(out: &mut Vec<u8>, s: &[u8], width: usize, left: bool) {
    let fill = width.saturating_sub(s.len());
    if !left {
        out.extend(std::iter::repeat_n(b' ', fill));
    }
    out.extend_from_slice(s);
    if left {
        out.extend(std::iter::repeat_n(b' ', fill));
    }
}

/// Append bytes to a `String`, replacing invalid UTF-8 (D strings are bytes;
/// the printers' output is text).
pub(crate) fn push_lossy(out: &mut String, bytes: &[u8]) {
    out.push_str(&String::from_utf8_lossy(bytes));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_both_ways_and_never_truncates() {
        let mut v = Vec::new();
        pad(&mut v, b"ab", 5, false);
        pad(&mut v, b"cd", 4, true);
        pad(&mut v, b"long", 2, true);
        assert_eq!(v, b"   abcd  long");
        let mut s = String::new();
        push_lossy(&mut s, b"a\xffb");
        assert_eq!(s, "a\u{fffd}b");
    }
}
