//! The HTTP `Range` header (RFC 9110 §14), so that a player can seek in a recording without
//! downloading it whole. Only one byte range is served: a server may ignore a header it does
//! not want to honour, so several ranges, other units and malformed values get the full body.

use std::ops::Range;

/// What to send for a `Range` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RangeOutcome {
    /// 200 with the whole body: no range, or one to ignore.
    Full,
    /// 206 with these bytes (end exclusive, within the size).
    Partial(Range<u64>),
    /// 416: the range starts at or after the end.
    Unsatisfiable,
}

/// Reads `header` (the `Range` value) against a body of `size` bytes.
pub(crate) fn parse_range(header: &str, size: u64) -> RangeOutcome {
    let Some((unit, set)) = header.trim().split_once('=') else {
        return RangeOutcome::Full;
    };
    if !unit.eq_ignore_ascii_case("bytes") {
        return RangeOutcome::Full;
    }
    // Lists may hold empty elements (RFC 9110 §5.6.1), which count for nothing.
    let mut specs = set
        .split(',')
        .map(str::trim)
        .filter(|spec| !spec.is_empty());
    let (Some(spec), None) = (specs.next(), specs.next()) else {
        return RangeOutcome::Full;
    };
    let Some((first, last)) = spec.split_once('-') else {
        return RangeOutcome::Full;
    };
    match (number(first), number(last)) {
        // `-n`: the last n bytes. An empty body has no last bytes to send in a 206.
        (None, Some(suffix)) if first.is_empty() => match (suffix, size) {
            (0, _) => RangeOutcome::Unsatisfiable,
            (_, 0) => RangeOutcome::Full,
            _ => RangeOutcome::Partial(size - suffix.min(size)..size),
        },
        // `a-`: from a to the end.
        (Some(first), None) if last.is_empty() => from(first, size, size),
        // `a-b`: both inclusive; b before a makes the header invalid.
        (Some(first), Some(last)) if last >= first => {
            from(first, last.saturating_add(1).min(size), size)
        }
        _ => RangeOutcome::Full,
    }
}

fn from(first: u64, end: u64, size: u64) -> RangeOutcome {
    if first >= size {
        RangeOutcome::Unsatisfiable
    } else {
        RangeOutcome::Partial(first..end)
    }
}

/// Decimal digits only (`str::parse` would take a `+`); too large a number saturates, which
/// still compares correctly against any size.
fn number(digits: &str) -> Option<u64> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.bytes().fold(0u64, |value, digit| {
        value
            .saturating_mul(10)
            .saturating_add(u64::from(digit - b'0'))
    }))
}

#[cfg(test)]
mod tests {
    use super::RangeOutcome::{Full, Partial, Unsatisfiable};
    use super::parse_range;

    #[test]
    fn a_closed_range_is_inclusive() {
        assert_eq!(parse_range("bytes=0-0", 100), Partial(0..1));
        assert_eq!(parse_range("bytes=0-99", 100), Partial(0..100));
        assert_eq!(parse_range("bytes=10-19", 100), Partial(10..20));
        assert_eq!(parse_range("bytes=99-99", 100), Partial(99..100));
    }

    #[test]
    fn an_end_beyond_the_size_is_clamped() {
        assert_eq!(parse_range("bytes=50-1000", 100), Partial(50..100));
        assert_eq!(
            parse_range("bytes=0-99999999999999999999999", 100),
            Partial(0..100)
        );
        assert_eq!(
            parse_range(&format!("bytes=5-{}", u64::MAX), 100),
            Partial(5..100)
        );
    }

    #[test]
    fn an_open_range_runs_to_the_end() {
        assert_eq!(parse_range("bytes=0-", 100), Partial(0..100));
        assert_eq!(parse_range("bytes=42-", 100), Partial(42..100));
        assert_eq!(parse_range("bytes=99-", 100), Partial(99..100));
    }

    #[test]
    fn a_suffix_range_takes_the_last_bytes() {
        assert_eq!(parse_range("bytes=-1", 100), Partial(99..100));
        assert_eq!(parse_range("bytes=-30", 100), Partial(70..100));
        assert_eq!(parse_range("bytes=-100", 100), Partial(0..100));
        assert_eq!(parse_range("bytes=-500", 100), Partial(0..100));
        assert_eq!(
            parse_range("bytes=-99999999999999999999999", 100),
            Partial(0..100)
        );
    }

    #[test]
    fn a_start_at_or_after_the_end_is_unsatisfiable() {
        assert_eq!(parse_range("bytes=100-", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=100-200", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=500-600", 100), Unsatisfiable);
        assert_eq!(
            parse_range("bytes=99999999999999999999999-", 100),
            Unsatisfiable
        );
    }

    #[test]
    fn an_empty_suffix_is_unsatisfiable() {
        assert_eq!(parse_range("bytes=-0", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=-000", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 0), Unsatisfiable);
    }

    #[test]
    fn an_empty_body() {
        assert_eq!(parse_range("bytes=0-", 0), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-0", 0), Unsatisfiable);
        assert_eq!(parse_range("bytes=-5", 0), Full);
        assert_eq!(parse_range("", 0), Full);
    }

    #[test]
    fn several_ranges_get_the_full_body() {
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Full);
        assert_eq!(parse_range("bytes=0-1, -5", 100), Full);
        assert_eq!(parse_range("bytes=200-300,500-600", 100), Full);
    }

    #[test]
    fn empty_list_elements_and_spacing_are_tolerated() {
        assert_eq!(parse_range("bytes=0-9,", 100), Partial(0..10));
        assert_eq!(parse_range("bytes= , 0-9 ,", 100), Partial(0..10));
        assert_eq!(parse_range("  bytes=0-9  ", 100), Partial(0..10));
        assert_eq!(parse_range("Bytes=0-9", 100), Partial(0..10));
        assert_eq!(parse_range("BYTES=-10", 100), Partial(90..100));
    }

    #[test]
    fn malformed_or_foreign_headers_get_the_full_body() {
        for header in [
            "",
            "bytes",
            "bytes=",
            "bytes=,",
            "bytes=-",
            "bytes=5",
            "bytes=a-b",
            "bytes=1-a",
            "bytes=+1-5",
            "bytes=1-+5",
            "bytes=-+5",
            "bytes=1 -5",
            "bytes=0x10-",
            "bytes=9-5",
            "bytes=1-2-3",
            "bytes=--5",
            "items=0-5",
            "0-5",
            "bytes 0-5",
        ] {
            assert_eq!(parse_range(header, 100), Full, "{header:?}");
        }
    }
}
