use chrono::Duration;

use super::*;
use crate::ids::{GroupId, UserId};
use crate::model::{JoinPolicy, Role, Visibility};

fn group(visibility: Visibility) -> Group {
    Group {
        id: GroupId::generate(),
        slug: "counter-trafficking".into(),
        name: "Counter-Trafficking".into(),
        description: String::new(),
        visibility,
        join_policy: JoinPolicy::Request,
        created_at: Utc::now(),
    }
}

fn scope(group: &Group, standing: Standing) -> Scope<'_> {
    Scope {
        now: Utc::now(),
        actor: Actor {
            user_id: UserId::generate(),
            is_admin: standing == Standing::Admin,
        },
        standing,
        group,
    }
}

fn body(text: &str) -> PostBody {
    PostBody::parse(text).expect("valid body")
}

fn title() -> ThreadTitle {
    ThreadTitle::parse("Unveiling research").expect("valid title")
}

#[test]
fn post_ids_always_follow_the_last_post() {
    let future = PostId::from_uuid(uuid::Uuid::from_u128(u128::MAX - 5));
    assert!(next_post_id(Some(future)) > future);
    let past = PostId::generate();
    assert!(next_post_id(Some(past)) > past);
}

#[test]
fn outsiders_of_a_private_group_find_nothing_and_cannot_post() {
    let g = group(Visibility::Private);
    for standing in [
        Standing::Anonymous,
        Standing::Outsider,
        Standing::Pending,
        Standing::Banned,
    ] {
        assert!(matches!(
            start_thread(&scope(&g, standing), title(), body("x")),
            Err(DomainError::NotFound)
        ));
    }
    let public = group(Visibility::Public);
    assert!(matches!(
        start_thread(&scope(&public, Standing::Outsider), title(), body("x")),
        Err(DomainError::Forbidden(_))
    ));
}

#[test]
fn a_locked_thread_takes_replies_from_moderators_only() {
    let g = group(Visibility::Private);
    let member = scope(&g, Standing::Active(Role::Member));
    let (mut thread, opening) = start_thread(&member, title(), body("opening")).expect("started");
    thread.is_locked = true;
    assert!(matches!(
        reply(&member, &thread, Some(opening.id), body("late"), None),
        Err(DomainError::Forbidden(_))
    ));
    let moderator = scope(&g, Standing::Active(Role::Moderator));
    let (updated, post) = reply(
        &moderator,
        &thread,
        Some(opening.id),
        body("closing note"),
        Some(&opening),
    )
    .expect("moderator replies");
    assert_eq!(updated.reply_count, 1);
    assert!(post.id > opening.id);
    assert_eq!(post.reply_to, Some(opening.id));
}

#[test]
fn edits_keep_the_earlier_version() {
    let g = group(Visibility::Public);
    let author = scope(&g, Standing::Active(Role::Member));
    let (_, post) = start_thread(&author, title(), body("first *draft*")).expect("started");
    let other = scope(&g, Standing::Active(Role::Member));
    assert!(matches!(
        edit(&other, &post, body("hijack")),
        Err(DomainError::Forbidden(_))
    ));

    let later = Scope {
        now: author.now + Duration::minutes(5),
        ..author
    };
    let (edited, revision) = edit(&later, &post, body("second")).expect("author edits");
    assert_eq!(edited.body.as_deref(), Some("second"));
    assert_eq!(edited.edited_at, Some(later.now));
    assert_eq!(revision.body, "first *draft*");
    assert_eq!(revision.editor_id, post.author_id);
    assert_eq!(revision.created_at, post.created_at);

    let banned = Scope {
        standing: Standing::Banned,
        ..later
    };
    assert!(matches!(
        edit(&banned, &edited, body("third")),
        Err(DomainError::Forbidden(_))
    ));
}

#[test]
fn deletion_removes_the_body_and_logs_a_moderators_action() {
    let g = group(Visibility::Private);
    let author = scope(&g, Standing::Active(Role::Member));
    let (_, post) = start_thread(&author, title(), body("a survivor's name")).expect("started");
    let (deleted, log) = delete(&author, &post, None).expect("author deletes");
    assert!(deleted.body.is_none() && deleted.body_html.is_none() && deleted.is_deleted());
    assert!(log.is_none(), "deleting one's own post is not moderation");

    let moderator = scope(&g, Standing::Active(Role::Moderator));
    let reason = Reason::parse("personal data").ok();
    let (_, log) = delete(&moderator, &post, reason).expect("moderator deletes");
    let log = log.expect("logged");
    assert_eq!(log.action, ModerationAction::PostDeleted);
    assert_eq!(log.target_post_id, Some(post.id));
    assert_eq!(log.reason.as_deref(), Some("personal data"));
    assert!(matches!(
        delete(&moderator, &deleted, None),
        Err(DomainError::Conflict(_))
    ));
}

#[test]
fn only_the_threads_author_or_a_moderator_marks_the_answer() {
    let g = group(Visibility::Public);
    let author = scope(&g, Standing::Active(Role::Member));
    let (thread, opening) = start_thread(&author, title(), body("question")).expect("started");
    let helper = scope(&g, Standing::Active(Role::Member));
    let (_, answer) =
        reply(&helper, &thread, Some(opening.id), body("answer"), None).expect("reply");
    assert!(matches!(
        mark_answer(&helper, &thread, Some(&answer)),
        Err(DomainError::Forbidden(_))
    ));
    assert_eq!(
        mark_answer(&author, &thread, Some(&answer))
            .expect("author")
            .answer_id,
        Some(answer.id)
    );
    let admin = scope(&g, Standing::Admin);
    assert_eq!(
        mark_answer(&admin, &thread, None).expect("admin").answer_id,
        None
    );
}

#[test]
fn flags_are_for_moderators_and_logged_only_on_change() {
    let g = group(Visibility::Public);
    let member = scope(&g, Standing::Active(Role::Member));
    let (thread, _) = start_thread(&member, title(), body("x")).expect("started");
    assert!(matches!(
        flag(&member, &thread, ThreadFlag::Pin),
        Err(DomainError::Forbidden(_))
    ));
    let owner = scope(&g, Standing::Active(Role::Owner));
    let (pinned, log) = flag(&owner, &thread, ThreadFlag::Pin).expect("pins");
    assert!(pinned.is_pinned);
    assert_eq!(log.map(|l| l.action), Some(ModerationAction::ThreadPinned));
    let (_, again) = flag(&owner, &pinned, ThreadFlag::Pin).expect("pins again");
    assert!(again.is_none());
}

#[test]
fn a_presentation_needs_a_file_or_a_recording() {
    let g = group(Visibility::Private);
    let member = scope(&g, Standing::Active(Role::Member));
    let new = |url: Option<&str>| NewPresentation {
        title: PresentationTitle::parse("Leave No Child Behind").expect("title"),
        description: Description::parse("").expect("description"),
        speakers: vec![],
        event_date: None,
        recording_url: url.map(|u| RecordingUrl::parse(u).expect("url")),
    };
    assert!(matches!(
        share(&member, None, new(None), None),
        Err(DomainError::Invalid(_))
    ));
    let shared = share(&member, None, new(Some("https://example.org/rec")), None).expect("shared");
    assert_eq!(shared.uploader_id, member.actor.user_id);
    let outsider = scope(&g, Standing::Outsider);
    assert!(matches!(
        delete_presentation(&outsider, &shared),
        Err(DomainError::NotFound)
    ));
    let moderator = scope(&g, Standing::Active(Role::Moderator));
    assert!(
        delete_presentation(&moderator, &shared)
            .expect("moderator deletes")
            .is_some()
    );
}
