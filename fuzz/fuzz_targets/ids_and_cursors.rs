//! Parses arbitrary strings as global IDs and as both kinds of cursor. Parsing never panics;
//! whatever parses is in canonical form, so formatting it again gives back the same string.

#![no_main]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use convene_domain::ids::{GlobalId, GroupId, ThreadId, UserId};
use convene_graphql::cursor;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The raw bytes as a cursor's payload, so that the key decoders see every byte pattern.
    let payload = URL_SAFE_NO_PAD.encode(data);
    check_cursors(&payload);
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    check_cursors(raw);

    match GlobalId::parse(raw) {
        Ok(id) => {
            assert_eq!(id.to_string(), raw, "a parsed ID formats differently");
            assert!(
                is_global_id_form(raw),
                "{raw:?} parsed but is not <prefix>_<hex>"
            );
        }
        Err(_) => assert!(!is_global_id_form(raw), "{raw:?} was refused"),
    }
    if let Ok(id) = raw.parse::<UserId>() {
        assert_eq!(id.to_string(), raw);
    }
    if let Ok(id) = raw.parse::<GroupId>() {
        assert_eq!(id.to_string(), raw);
    }
    if let Ok(id) = raw.parse::<ThreadId>() {
        assert_eq!(id.to_string(), raw);
    }
});

fn check_cursors(raw: &str) {
    if let Ok(id) = cursor::decode(raw) {
        assert_eq!(cursor::encode(id), raw, "an ID cursor is not canonical");
        assert!(cursor::decode_thread(raw).is_err(), "one cursor, two lists");
    }
    if let Ok(key) = cursor::decode_thread(raw) {
        assert_eq!(
            cursor::encode_thread(key),
            raw,
            "a thread cursor is not canonical"
        );
    }
}

/// `<known prefix>_<32 lowercase hex digits>`, written out independently of the parser.
fn is_global_id_form(raw: &str) -> bool {
    const PREFIXES: [&str; 11] = [
        "usr", "grp", "mem", "thr", "pst", "rev", "prs", "rpt", "ntf", "log", "ses",
    ];
    raw.len() == 36
        && PREFIXES.iter().any(|p| raw.starts_with(p))
        && raw.as_bytes()[3] == b'_'
        && raw
            .bytes()
            .skip(4)
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
