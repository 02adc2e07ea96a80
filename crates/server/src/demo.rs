//! `convene seed-demo`: the community Convene was first asked for, for trying it out.
//!
//! Every step looks for what it would create first, so running the command again changes
//! nothing.

use anyhow::Context as _;
use chrono::{TimeZone, Utc};
use convene_domain::content::NewPresentation;
use convene_domain::ids::UserId;
use convene_domain::membership::{Command, NewGroup, Outcome};
use convene_domain::ports::{AccountStore, ContentStore, GroupStore, PasswordHasher};
use convene_domain::values::{
    Description, DisplayName, Email, GroupName, GroupSlug, Handle, Password, PostBody,
    PresentationTitle, RecordingUrl, SpeakerName, ThreadTitle,
};
use convene_domain::{Actor, Group, PageRequest, SessionToken, ThreadOrder, User, membership};
use convene_persistence::Database;

use crate::passwords::Argon2Hasher;

const SLUG: &str = "counter-trafficking";
const WEBINAR: &str = "Unveiling Research and Best Practices to End Child Trafficking";

/// What `seed-demo` did, for the command to print.
pub struct DemoReport {
    /// The demo accounts and, for those created now, their password.
    pub accounts: Vec<(String, Option<String>)>,
    pub created_group: bool,
    pub created_thread: bool,
    pub created_presentation: bool,
}

struct Stores<'a> {
    accounts: &'a dyn AccountStore,
    groups: &'a dyn GroupStore,
    content: &'a dyn ContentStore,
}

/// Creates whatever part of the demo community is missing.
pub async fn seed_demo(database: &Database) -> anyhow::Result<DemoReport> {
    let (accounts, groups, content) = (
        database.account_store(),
        database.group_store(),
        database.content_store(),
    );
    let stores = Stores {
        accounts: accounts.as_ref(),
        groups: groups.as_ref(),
        content: content.as_ref(),
    };
    let hasher = Argon2Hasher::new()?;
    let mut report = DemoReport {
        accounts: Vec::new(),
        created_group: false,
        created_thread: false,
        created_presentation: false,
    };
    let amina = demo_user(&stores, &hasher, "amina", "Amina Diallo", &mut report).await?;
    let lucas = demo_user(&stores, &hasher, "lucas", "Lucas Moreau", &mut report).await?;
    let (amina, lucas) = (Actor::from(&amina), Actor::from(&lucas));
    let now = Utc::now();

    let group = match stores.groups.group_by_slug(SLUG).await? {
        Some(group) => group,
        None => {
            let new = NewGroup {
                slug: GroupSlug::parse(SLUG)?,
                name: GroupName::parse("Counter-Trafficking")?,
                description: Description::parse(
                    "Practitioners working against human trafficking — case workers, researchers, NGO and \
                     agency staff — sharing research, practice and the material of our webinars.",
                )?,
                visibility: convene_domain::Visibility::Private,
                join_policy: convene_domain::JoinPolicy::Request,
            };
            let (group, owner) = membership::create_group(amina, new, now)?;
            stores.groups.create_group(&group, &owner).await?;
            report.created_group = true;
            group
        }
    };
    admit(&stores, &group, amina, lucas).await?;

    let threads = stores
        .content
        .group_threads(group.id, ThreadOrder::Created, &PageRequest::first(100))
        .await?;
    let thread = match threads.items.into_iter().find(|t| t.title == WEBINAR) {
        Some(thread) => thread,
        None => {
            let (thread, _) = stores
                .content
                .start_thread(
                    amina,
                    group.id,
                    ThreadTitle::parse(WEBINAR)?,
                    PostBody::parse(OPENING)?,
                    None,
                    now,
                )
                .await?;
            for (author, text) in [(lucas, QUESTION), (amina, ANSWER), (lucas, THANKS)] {
                stores
                    .content
                    .reply(
                        author,
                        thread.id,
                        PostBody::parse(text)?,
                        None,
                        None,
                        Utc::now(),
                    )
                    .await?;
            }
            report.created_thread = true;
            thread
        }
    };

    let shared = stores
        .content
        .presentations(group.id, Some(thread.id), &PageRequest::first(1))
        .await?;
    if shared.items.is_empty() {
        let event = Utc
            .with_ymd_and_hms(2024, 7, 15, 12, 0, 0)
            .single()
            .context("the webinar's date")?;
        let new = NewPresentation {
            title: PresentationTitle::parse(WEBINAR)?,
            description: Description::parse(
                "Public webinar organized with the University of Geneva Children's Rights Academy ahead of \
                 the World Day Against Trafficking in Persons, under its theme \"Leave No Child Behind in \
                 the Fight Against Human Trafficking\".",
            )?,
            speakers: vec![SpeakerName::parse("Amina Diallo")?],
            event_date: Some(event),
            recording_url: Some(RecordingUrl::parse(
                "https://example.org/recordings/unveiling-research-2024",
            )?),
        };
        stores
            .content
            .share_presentation(
                amina,
                group.id,
                Some(thread.id),
                new,
                None,
                None,
                Utc::now(),
            )
            .await?;
        report.created_presentation = true;
    }
    Ok(report)
}

/// The demo user with this handle, registered now (with a fresh random password) if missing.
async fn demo_user(
    stores: &Stores<'_>,
    hasher: &Argon2Hasher,
    handle: &str,
    name: &str,
    report: &mut DemoReport,
) -> anyhow::Result<User> {
    if let Some(user) = stores.accounts.user_by_handle(handle).await? {
        report.accounts.push((handle.to_owned(), None));
        return Ok(user);
    }
    let password = SessionToken::generate()?.expose()[..24].to_owned();
    let user = User {
        id: UserId::generate(),
        handle: Handle::parse(handle)?,
        email: Email::parse(&format!("{handle}@demo.convene.invalid"))?,
        display_name: DisplayName::parse(name)?.into_inner(),
        bio: None,
        organization: Some("Convene demo".to_owned()),
        is_admin: false,
        created_at: Utc::now(),
    };
    let hash = hasher
        .hash(&Password::parse(&password, "password")?)
        .await?;
    stores.accounts.create_user(&user, &hash, None).await?;
    report.accounts.push((handle.to_owned(), Some(password)));
    Ok(user)
}

/// Makes `member` an active member of the group (asking, then approved by `owner`).
async fn admit(
    stores: &Stores<'_>,
    group: &Group,
    owner: Actor,
    member: Actor,
) -> anyhow::Result<()> {
    let existing = stores
        .groups
        .memberships_of(member.user_id, &[group.id])
        .await?;
    if existing.iter().any(|m| m.is_active()) {
        return Ok(());
    }
    let request = match existing.into_iter().next() {
        Some(pending) => pending,
        None => match stores
            .groups
            .execute(
                member,
                Command::Join {
                    group: group.id,
                    application: None,
                },
                Utc::now(),
            )
            .await?
        {
            Outcome::Membership(m) => m,
            Outcome::Deleted(_) => anyhow::bail!("joining returned no membership"),
        },
    };
    stores
        .groups
        .execute(
            owner,
            Command::Approve {
                membership: request.id,
                reason: None,
            },
            Utc::now(),
        )
        .await?;
    Ok(())
}

const OPENING: &str = "On **15 July 2024** we held the public webinar *Unveiling Research and Best Practices to \
End Child Trafficking*, organized with the University of Geneva Children's Rights Academy ahead of the World \
Day Against Trafficking in Persons (theme: *Leave No Child Behind in the Fight Against Human Trafficking*).\n\n\
The recording is shared in this thread. Questions and follow-ups from the session go here.";

const QUESTION: &str = "Thank you for the session. Which screening practices did the speakers recommend for \
identifying unaccompanied children at risk during the first contact?";

const ANSWER: &str = "The panel stressed child-friendly first interviews, interpreters trained in trauma-informed \
practice, and referral to guardianship services *before* any status procedure. The slides on referral \
pathways are in the recording from minute 34.";

const THANKS: &str =
    "Very helpful — we will bring the referral checklist to our next case conference.";
