use async_graphql::{Context, ID, InputObject, Object};
use chrono::{Duration, Utc};
use convene_domain::ids::{SessionId, UserId};
use convene_domain::ports::IdempotencyKey;
use convene_domain::session_token::SESSION_LIFETIME;
use convene_domain::values::{DisplayName, Email, Handle, Password};
use convene_domain::{DomainError, Session, SessionToken, User};

use super::{parse, parse_id, payload};
use crate::context::{Ctx, RequestInfo, SESSION_COOKIE};
use crate::error::{DomainResultExt, GqlResult, gql};
use crate::objects::UserObject;

const MAX_IDEMPOTENCY_KEY: usize = 200;
const MAX_USER_AGENT: usize = 512;

#[derive(Default)]
pub(crate) struct AccountMutations;

#[derive(InputObject)]
pub(crate) struct RegisterInput {
    handle: String,
    email: String,
    password: String,
    display_name: String,
    /// A retry with the same key within 24 hours returns the first result.
    idempotency_key: Option<String>,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub(crate) struct LoginInput {
    /// A handle or an email address.
    login: String,
    password: String,
    client_mutation_id: Option<String>,
}

#[derive(InputObject, Default)]
pub(crate) struct LogoutInput {
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub(crate) struct ChangePasswordInput {
    current_password: String,
    new_password: String,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub(crate) struct RevokeSessionInput {
    session_id: ID,
    client_mutation_id: Option<String>,
}

payload!(
    /// The new user, signed in: `token` is the bearer token (also set as a cookie).
    RegisterPayload { viewer: UserObject, token: String }
);
payload!(LoginPayload {
    viewer: UserObject,
    token: String
});
payload!(LogoutPayload {});
payload!(ChangePasswordPayload { viewer: UserObject });
payload!(RevokeSessionPayload { deleted_id: ID });

#[Object]
impl AccountMutations {
    /// Creates an account and signs it in.
    async fn register(
        &self,
        ctx: &Context<'_>,
        input: RegisterInput,
    ) -> GqlResult<RegisterPayload> {
        let services = ctx.services()?;
        let handle = parse(&input.handle, Handle::parse)?;
        let email = parse(&input.email, Email::parse)?;
        let password = parse(&input.password, |p| Password::parse(p, "password"))?;
        let display_name = parse(&input.display_name, DisplayName::parse)?;
        services
            .rate_limits
            .register(client_ip(ctx), email.as_str())
            .gql()?;
        let key = match input.idempotency_key {
            Some(key) if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY => {
                return Err(gql(DomainError::invalid(
                    "idempotencyKey",
                    "must be 1 to 200 bytes",
                )));
            }
            Some(key) => Some(IdempotencyKey {
                scope: format!("register:{handle}"),
                key,
            }),
            None => None,
        };
        let now = Utc::now();
        if let Some(key) = &key {
            if let Some(user) = retried_registration(ctx, key, &password).await? {
                let token = start_session(ctx, &user).await?;
                return Ok(RegisterPayload {
                    client_mutation_id: input.client_mutation_id,
                    viewer: UserObject(user),
                    token,
                });
            }
        }
        let hash = services.hasher.hash(&password).await.gql()?;
        let user = User {
            id: UserId::generate(),
            handle,
            email,
            display_name: display_name.into_inner(),
            bio: None,
            organization: None,
            is_admin: false,
            created_at: now,
        };
        services
            .accounts
            .create_user(&user, &hash, key.as_ref())
            .await
            .gql()?;
        let token = start_session(ctx, &user).await?;
        Ok(RegisterPayload {
            client_mutation_id: input.client_mutation_id,
            viewer: UserObject(user),
            token,
        })
    }

    /// Signs in with a handle or email and a password. An unknown user and a wrong password
    /// get the same answer.
    async fn login(&self, ctx: &Context<'_>, input: LoginInput) -> GqlResult<LoginPayload> {
        let services = ctx.services()?;
        let limits = &services.rate_limits;
        limits.login_from(client_ip(ctx)).gql()?;
        let found = services.accounts.credentials(&input.login).await.gql()?;
        limits
            .login_to(found.as_ref().map(|(user, _)| user.id), &input.login)
            .gql()?;
        let hash = found.as_ref().map(|(_, hash)| hash.as_str());
        let matches = services.hasher.verify(&input.password, hash).await.gql()?;
        let user = match found {
            Some((user, _)) if matches => user,
            _ => return Err(gql(DomainError::Unauthenticated)),
        };
        let token = start_session(ctx, &user).await?;
        Ok(LoginPayload {
            client_mutation_id: input.client_mutation_id,
            viewer: UserObject(user),
            token,
        })
    }

    /// Ends the current session; its token stops working at once.
    async fn logout(
        &self,
        ctx: &Context<'_>,
        input: Option<LogoutInput>,
    ) -> GqlResult<LogoutPayload> {
        let (user, session) = ctx.require_user()?;
        ctx.services()?
            .accounts
            .delete_session(user.id, session)
            .await
            .gql()?;
        clear_cookie(ctx)?;
        Ok(LogoutPayload {
            client_mutation_id: input.unwrap_or_default().client_mutation_id,
        })
    }

    /// Changes the viewer's password and ends their other sessions.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        input: ChangePasswordInput,
    ) -> GqlResult<ChangePasswordPayload> {
        let (user, session) = ctx.require_user()?;
        let services = ctx.services()?;
        let new_password = parse(&input.new_password, |p| Password::parse(p, "newPassword"))?;
        let hash = services.accounts.password_hash(user.id).await.gql()?;
        if !services
            .hasher
            .verify(&input.current_password, hash.as_deref())
            .await
            .gql()?
        {
            return Err(gql(DomainError::invalid(
                "currentPassword",
                "is not the current password",
            )));
        }
        let new_hash = services.hasher.hash(&new_password).await.gql()?;
        services
            .accounts
            .change_password(user.id, &new_hash, session)
            .await
            .gql()?;
        Ok(ChangePasswordPayload {
            client_mutation_id: input.client_mutation_id,
            viewer: UserObject(user.clone()),
        })
    }

    /// Ends one of the viewer's sessions.
    async fn revoke_session(
        &self,
        ctx: &Context<'_>,
        input: RevokeSessionInput,
    ) -> GqlResult<RevokeSessionPayload> {
        let (user, current) = ctx.require_user()?;
        let id: SessionId = parse_id(&input.session_id)?;
        ctx.services()?
            .accounts
            .delete_session(user.id, id)
            .await
            .gql()?;
        if id == current {
            clear_cookie(ctx)?;
        }
        Ok(RevokeSessionPayload {
            client_mutation_id: input.client_mutation_id,
            deleted_id: ID(id.to_string()),
        })
    }
}

/// The user a retried `register` already created, when the key is known and the password
/// matches; a retry with another password is a conflict like any taken handle.
async fn retried_registration(
    ctx: &Context<'_>,
    key: &IdempotencyKey,
    password: &Password,
) -> GqlResult<Option<User>> {
    let services = ctx.services()?;
    let since = Utc::now() - Duration::hours(24);
    let Some(user_id) = services.accounts.user_for_key(key, since).await.gql()? else {
        return Ok(None);
    };
    let hash = services.accounts.password_hash(user_id).await.gql()?;
    if !services
        .hasher
        .verify(password.expose(), hash.as_deref())
        .await
        .gql()?
    {
        return Err(gql(DomainError::Conflict("the handle is taken")));
    }
    let user = services
        .accounts
        .users_by_ids(&[user_id])
        .await
        .gql()?
        .pop();
    user.map(Some).ok_or_else(|| gql(DomainError::NotFound))
}

/// The client's address, when the request came over the network.
fn client_ip(ctx: &Context<'_>) -> Option<std::net::IpAddr> {
    ctx.data_opt::<RequestInfo>()
        .and_then(|info| info.client_ip)
}

/// Opens a session for `user`, sets the session cookie and returns the bearer token.
async fn start_session(ctx: &Context<'_>, user: &User) -> GqlResult<String> {
    let services = ctx.services()?;
    let user_agent = ctx
        .data_opt::<RequestInfo>()
        .and_then(|info| info.user_agent.as_deref());
    let token = SessionToken::generate().gql()?;
    let now = Utc::now();
    let session = Session {
        id: SessionId::generate(),
        user_id: user.id,
        created_at: now,
        last_seen_at: now,
        expires_at: now + SESSION_LIFETIME,
        user_agent: user_agent.map(|ua| ua.chars().take(MAX_USER_AGENT).collect()),
    };
    services
        .accounts
        .create_session(&session, &token.hash())
        .await
        .gql()?;
    let secure = if services.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    ctx.append_http_header(
        "set-cookie",
        format!(
            "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
            token.expose(),
            SESSION_LIFETIME.num_seconds()
        ),
    );
    Ok(token.expose().to_owned())
}

fn clear_cookie(ctx: &Context<'_>) -> GqlResult<()> {
    let secure = if ctx.services()?.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    ctx.append_http_header(
        "set-cookie",
        format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    );
    Ok(())
}
