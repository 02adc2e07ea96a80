//! Global IDs and cursors: every value round-trips through its text form, and parsing any
//! string never panics and accepts exactly the canonical form.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use convene_domain::ThreadKey;
use convene_domain::ids::{
    GlobalId, GroupId, IdError, LogEntryId, MembershipId, NotificationId, PostId, PresentationId,
    ReportId, RevisionId, SessionId, ThreadId, UserId,
};
use convene_graphql::cursor;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use uuid::Uuid;

use super::config;

const PREFIXES: [&str; 11] = [
    "usr", "grp", "mem", "thr", "pst", "rev", "prs", "rpt", "ntf", "log", "ses",
];

/// One ID of every kind, all with the same UUID, in the order of [`PREFIXES`].
fn every_kind(uuid: Uuid) -> [GlobalId; 11] {
    [
        UserId::from_uuid(uuid).into(),
        GroupId::from_uuid(uuid).into(),
        MembershipId::from_uuid(uuid).into(),
        ThreadId::from_uuid(uuid).into(),
        PostId::from_uuid(uuid).into(),
        RevisionId::from_uuid(uuid).into(),
        PresentationId::from_uuid(uuid).into(),
        ReportId::from_uuid(uuid).into(),
        NotificationId::from_uuid(uuid).into(),
        LogEntryId::from_uuid(uuid).into(),
        SessionId::from_uuid(uuid).into(),
    ]
}

/// `<known prefix>_<32 lowercase hex digits>`, written out independently of the parser.
fn is_global_id_form(raw: &str) -> bool {
    raw.len() == 36
        && PREFIXES.iter().any(|prefix| raw.starts_with(prefix))
        && raw.as_bytes()[3] == b'_'
        && raw
            .bytes()
            .skip(4)
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Strings near the ID form as well as anything at all.
fn id_like() -> impl Strategy<Value = String> {
    let valid = (select(&PREFIXES[..]), any::<u128>()).prop_map(|(p, n)| format!("{p}_{n:032x}"));
    let mutated = (valid.clone(), 0usize..36, any::<char>()).prop_map(|(id, at, c)| {
        id.chars()
            .enumerate()
            .map(|(i, old)| if i == at { c } else { old })
            .collect()
    });
    prop_oneof![
        any::<String>(),
        valid,
        mutated,
        "(usr|grp|thr|pst|ses|xyz|USR|u)[_-][0-9a-fA-F_]{30,34}",
        "[a-z]{0,4}_[0-9a-f]{0,40}_?",
    ]
}

/// The two real cursor tags and near misses.
const TAGS: &[&[u8]] = &[b"k1:", b"t1:", b"k2:", b"k1", b""];

/// Strings near the cursor alphabet as well as anything at all.
fn cursor_like() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[A-Za-z0-9_-]{0,60}",
        "[A-Za-z0-9+/=_-]{20,36}",
    ]
}

proptest! {
    #![proptest_config(config(256))]

    /// `parse(format(id)) == id` for every kind and every UUID, and the text has the form.
    #[test]
    fn global_ids_round_trip(n in any::<u128>(), kind in 0usize..11) {
        let id = every_kind(Uuid::from_u128(n))[kind];
        let text = id.to_string();
        prop_assert!(is_global_id_form(&text), "{}", text);
        prop_assert!(text.starts_with(PREFIXES[kind]));
        prop_assert_eq!(GlobalId::parse(&text), Ok(id));
    }

    /// A typed ID accepts its own kind and calls another kind `WrongKind`, not `Malformed`.
    #[test]
    fn typed_ids_accept_only_their_kind(n in any::<u128>(), kind in 0usize..11) {
        let id = every_kind(Uuid::from_u128(n))[kind];
        let text = id.to_string();
        let user = text.parse::<UserId>();
        let thread = text.parse::<ThreadId>();
        prop_assert_eq!(user, if kind == 0 { Ok(UserId::from_uuid(Uuid::from_u128(n))) } else { Err(IdError::WrongKind) });
        prop_assert_eq!(thread, if kind == 3 { Ok(ThreadId::from_uuid(Uuid::from_u128(n))) } else { Err(IdError::WrongKind) });
    }

    /// Parsing any string never panics, and succeeds exactly on the canonical form, which it
    /// gives back unchanged; everything else is `Malformed`.
    #[test]
    fn global_ids_parse_exactly_the_canonical_form(raw in id_like()) {
        match GlobalId::parse(&raw) {
            Ok(id) => {
                prop_assert!(is_global_id_form(&raw), "accepted {:?}", raw);
                prop_assert_eq!(id.to_string(), raw);
            }
            Err(err) => {
                prop_assert!(!is_global_id_form(&raw), "refused {:?}", raw);
                prop_assert_eq!(err, IdError::Malformed);
            }
        }
    }

    #[test]
    fn id_cursors_round_trip(n in any::<u128>()) {
        let id = Uuid::from_u128(n);
        prop_assert_eq!(cursor::decode(&cursor::encode(id)).ok(), Some(id));
    }

    #[test]
    fn thread_cursors_round_trip(pinned in any::<bool>(), at_micros in any::<i64>(), n in any::<u128>()) {
        let key = ThreadKey { pinned, at_micros, id: Uuid::from_u128(n) };
        prop_assert_eq!(cursor::decode_thread(&cursor::encode_thread(key)).ok(), Some(key));
    }

    /// A cursor of one list is refused by the other.
    #[test]
    fn a_cursor_belongs_to_one_kind_of_list(pinned in any::<bool>(), at_micros in any::<i64>(), n in any::<u128>()) {
        let id = Uuid::from_u128(n);
        let key = ThreadKey { pinned, at_micros, id };
        prop_assert!(cursor::decode_thread(&cursor::encode(id)).is_err());
        prop_assert!(cursor::decode(&cursor::encode_thread(key)).is_err());
    }

    /// Decoding any string never panics; whatever decodes is canonical (encodes back to the
    /// same string), so two spellings never name one position.
    #[test]
    fn cursors_decode_any_string_without_panicking(raw in cursor_like()) {
        if let Ok(id) = cursor::decode(&raw) {
            prop_assert_eq!(cursor::encode(id), raw.clone());
        }
        if let Ok(key) = cursor::decode_thread(&raw) {
            prop_assert_eq!(cursor::encode_thread(key), raw);
        }
    }

    /// Well-encoded payloads decode exactly when their tag and length (and, for threads, the
    /// pinned byte) are right.
    #[test]
    fn cursors_decode_exactly_well_formed_payloads(
        tag in select(TAGS),
        key in vec(any::<u8>(), 0..40),
    ) {
        let raw = URL_SAFE_NO_PAD.encode([tag, &key[..]].concat());
        let id_ok = tag == b"k1:" && key.len() == 16;
        let thread_ok = tag == b"t1:" && key.len() == 25 && key[0] <= 1;
        prop_assert_eq!(cursor::decode(&raw).is_ok(), id_ok);
        prop_assert_eq!(cursor::decode_thread(&raw).is_ok(), thread_ok);
    }
}
