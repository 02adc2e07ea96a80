//! The security suite: SECURITY.md, line by line, each threat with the tests that fail when its
//! guarantee breaks. Read it top to bottom; names are `module::test` under `security`, or a
//! path from the suite's root where a test lives elsewhere.
//!
//! 1. **Canary sweep.** A unique word in a private group's title, thread, post, presentation
//!    and member list; as anonymous, a non-member and a removed member, every query,
//!    subscription and file route is called; the word never appears.
//!    - `canary::a_private_or_secret_groups_content_never_reaches_outsiders`: the word in a
//!      SECRET group's slug, name and description, and in both groups' threads, posts, an
//!      earlier revision, presentations and their files, member handles and display names, a
//!      join request and the moderation log's reasons; anonymous, a non-member, a removed and a
//!      banned member call every root `Query` field with every field of every type
//!      (selections generated from `schema.graphql`; a new root field fails the test until it
//!      has a probe), subscribe to every `Subscription` field while the canary goes on being
//!      written, and download every file, with and without ranges.
//!    - `canary::a_retried_creation_shows_nothing_to_a_member_who_has_left`: an idempotent
//!      retry of `startThread`, `postReply` or `sharePresentation` by a member removed or
//!      banned since is `NOT_FOUND`, not the thread as it is now.
//!    - `canary::the_subscription_table_covers_every_subscription`,
//!      `sdl::the_generated_selections_cover_every_field`: the sweep's tables are the schema's.
//!    - `live::refusals::outsiders_and_anonymous_viewers_hear_not_found_and_nothing_private`.
//! 2. **Existence oracle.** A SECRET group's thread ID and a random unknown ID get the same
//!    `NOT_FOUND` response.
//!    - `existence::every_id_a_request_can_name_answers_a_secret_object_like_nothing`: byte for
//!      byte, for `node`, `nodes`, every `ID` argument of every mutation (the test fails when
//!      `schema.graphql` has one it does not name), every subscription, `group(slug:)`,
//!      `groups(query:)` and `/files/{id}`, as anonymous, a non-member, a removed and a banned
//!      member.
//!    - `existence::a_secret_group_is_indistinguishable_from_nothing_for_outsiders`,
//!      `existence::messages_never_echo_the_requested_id_or_slug`.
//! 3. **Role matrix.** Every mutation × {anonymous, non-member, pending, member, banned,
//!    moderator of another group, moderator, owner, site admin}: allowed exactly where the
//!    policy says, table-driven.
//!    - `role_matrix::every_mutation_is_allowed_exactly_where_the_policy_says`: each cell in a
//!      fresh group, success or the exact error code, and a refused cell leaves its group as it
//!      was.
//!    - `role_matrix::the_tables_name_every_mutation_of_the_schema`.
//!    - `role_matrix::public_groups_are_read_by_all_and_written_by_members`.
//! 4. **Revocation.** Remove or ban a member, or revoke a session, while a subscription is
//!    open: no further event reaches it and it ends with `FORBIDDEN`.
//!    - `live::revocation::removal_from_a_private_group_ends_the_subscription`,
//!      `live::revocation::a_ban_from_a_private_group_ends_the_subscription`,
//!      `live::revocation::revoking_the_session_ends_the_subscription`,
//!      `live::revocation::logging_out_ends_the_subscription_of_a_cookie_session`,
//!      `live::revocation::a_password_change_ends_the_subscriptions_of_other_sessions`,
//!      `live::revocation::removal_or_ban_from_a_public_group_keeps_the_subscription`.
//! 5. **GraphQL abuse.** Depth, complexity, alias and directive limits, 1000-deep fragments,
//!    10 000 directives, a JSON array batch, huge variables: refused with a clear error, the
//!    server keeps serving.
//!    - `abuse::abusive_documents_are_refused_with_a_clear_error_and_the_server_keeps_serving`:
//!      depth, complexity (connections cost their page size), recursion through 1 000 nested
//!      fragment spreads, aliases, directives (6 on a field, and 10 000), query length,
//!      variables over 256 KiB with nothing written, a JSON array batch, and no schema
//!      suggestions for anonymous clients; the README's demo query passes.
//!    - `abuse::document_limits_are_configurable`.
//!    - The request limits around them: `abuse::oversized_headers_get_431_and_slow_requests_408`,
//!      `abuse::a_websocket_connection_holds_a_bounded_number_of_subscriptions`, and the JSON
//!      body limit, `http::a_json_body_over_one_mib_is_413`.
//! 6. **CSRF.** A cookie-authenticated `text/plain` or form POST, a mutation over GET, a
//!    multipart upload without the preflight header: refused, nothing written.
//!    - `csrf::text_and_form_bodies_are_refused_and_write_nothing`,
//!      `csrf::a_mutation_over_get_is_405_and_writes_nothing`,
//!      `csrf::forgeable_requests_with_a_cookie_are_refused_and_write_nothing` (a real
//!      url-encoded form, multipart without or with a wrong preflight header, an upload, a
//!      creating mutation over GET; no CORS grant to another origin),
//!      `csrf::bearer_clients_and_preflighted_uploads_are_unaffected`.
//! 7. **Websocket.** A foreign `Origin` is refused; graphql-transport-ws close codes; message
//!    size limit; a client that never reads is disconnected before it costs more than a
//!    bounded buffer.
//!    - `live::refusals::handshakes_are_accepted_without_origin_or_from_allowed_origins_only`,
//!      `live::protocol::an_unparsable_message_closes_with_4400`,
//!      `live::protocol::subscribing_before_connection_init_closes_with_4401`,
//!      `live::refusals::an_unknown_or_ended_token_closes_the_socket_with_4403`,
//!      `live::protocol::a_client_that_never_sends_connection_init_is_closed_with_4408`,
//!      `live::protocol::a_second_connection_init_closes_with_4429`,
//!      `live::protocol::a_message_over_the_limit_closes_the_connection_and_the_server_serves_on`,
//!      `live::slow::a_client_that_never_reads_is_disconnected_and_the_others_hear_everything`.
//! 8. **Accounts.** argon2id; the same answer and similar time for unknown user and wrong
//!    password; rate limits per IP and per account; session tokens of 256 random bits, stored
//!    hashed, revocable; password change ends other sessions; tokens never in logs or errors.
//!    - `accounts::passwords_are_argon2id_and_tokens_256_random_bits_stored_hashed`: the hash
//!      in the database is argon2id (m=19456, t=2, p=1); tokens are 64 lowercase hex digits,
//!      all different; no table holds a token or a password, the sessions hold the SHA-256.
//!    - `accounts::unknown_user_and_wrong_password_get_the_same_error`,
//!      `accounts::an_unknown_user_costs_as_much_work_as_a_wrong_password` (one argon2id run
//!      each, counted on `/metrics`, never timed).
//!    - Rate limits: `abuse::an_aliased_batch_of_100_logins_counts_as_100`,
//!      `abuse::logins_are_limited_per_account_across_addresses_and_per_trusted_forwarded_address`,
//!      `abuse::forwarded_addresses_from_an_untrusted_peer_are_ignored`,
//!      `abuse::registrations_are_limited_per_address`,
//!      `abuse::posting_is_limited_per_user_and_a_refused_post_is_not_written`; hashing that
//!      cannot start within a second is `RATE_LIMITED` (a unit test of
//!      `crates/server/src/passwords.rs`).
//!    - `accounts::logout_invalidates_the_token_for_every_request`,
//!      `accounts::the_viewer_lists_and_revokes_their_own_sessions`,
//!      `accounts::changing_the_password_ends_the_other_sessions`,
//!      `accounts::another_users_email_and_sessions_are_null`.
//!    - `accounts::tokens_never_appear_in_the_logs` (the real binary at `debug`),
//!      `accounts::tokens_never_appear_in_an_error` (every kind of refusal, headers and body,
//!      for live and ended tokens).
//! 9. **Markdown.** Rendered and sanitized; an XSS corpus in every text field leaves no
//!    script, event handler or `javascript:` URL in any output.
//!    - `markdown::no_script_handler_or_dangerous_url_reaches_body_html`,
//!      `markdown::an_xss_corpus_in_every_text_field_stays_data_or_harmless_html`: display
//!      names, group names and descriptions, applications, reasons, thread titles, bodies,
//!      edits, presentation titles, descriptions, speakers and file names, read back through
//!      every field of the schema: every `…Html` field harmless, every `…Url` field http(s)
//!      or a file of ours, every other string the exact text written, as JSON data; recording
//!      links that are not http(s) are refused.
//!    - `markdown::the_tag_scanner_sees_what_a_browser_would`: the checker is not blind.
//! 10. **Uploads.** Size limit, count limit, type allow-list by content not name, a generated
//!     key, `Content-Disposition: attachment` and `nosniff`, 404 to those who may not read.
//!     - `uploads::an_upload_over_the_limit_is_payload_too_large_and_leaves_nothing`,
//!       `uploads::a_request_carries_at_most_one_file`,
//!       `uploads::refused_uploads_leave_no_file_behind`,
//!       `uploads::the_type_comes_from_the_bytes_and_files_are_attachments_with_nosniff`,
//!       `uploads::a_path_like_filename_is_reduced_to_its_last_component`,
//!       `uploads::files_are_404_to_whoever_may_not_read_the_group`.
//! 11. **Durability.** SIGKILL at random moments while clients post: every acknowledged post
//!     is there, none half there, on SQLite and PostgreSQL.
//!     - `durability::acknowledged_posts_survive_sigkill_exactly_once`: the real binary, eight
//!       clients, five SIGKILLs at random moments (every other one right after an
//!       acknowledgment), retries with the same idempotency key; every acknowledged post is
//!       there once and whole, and the counters agree.
//! 12. **Caching.** Responses carrying private data are `Cache-Control: private, no-store`.
//!     - `cache::graphql_responses_are_never_cached`,
//!       `cache::viewer_data_and_private_files_are_never_stored_by_caches`.

mod sdl;

mod abuse;
mod accounts;
mod cache;
mod canary;
mod csrf;
mod durability;
mod existence;
mod markdown;
mod role_matrix;
mod uploads;
