//! People: logging in and out, sessions, API tokens, users and passwords.

use crate::token_cache::Resolved;
use crate::{password, Ctx, Result, Service, NONE};
use base64::Engine as _;
use bihuan_domain::ids::{TokenId, UnitId, UserId};
use bihuan_domain::model::{ApiToken, User};
use bihuan_domain::permission::{Actor, Permission};
use bihuan_domain::role::Role;
use bihuan_domain::unit::{UnitKind, UnitPath};
use bihuan_domain::{DomainError, ErrorCode, FieldError};
use bihuan_store::auth::SessionRow;
use bihuan_store::{auth, campaigns, units, users, Tx};
use rand::RngCore;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// A fresh secret: 32 random bytes, URL-safe.
fn secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Secrets are stored only as their SHA-256.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub const TOKEN_PREFIX: &str = "bh_";

/// What a successful login hands back.
#[derive(Clone, Debug)]
pub struct LoginOutcome {
    pub user: User,
    pub session_token: String,
    pub csrf_token: String,
    pub expires_at: OffsetDateTime,
}

/// A request authenticated by a session cookie.
#[derive(Clone, Debug)]
pub struct SessionInfo {
    pub actor: Actor,
    pub user: User,
    pub csrf_token: String,
    pub token_hash: String,
}

fn bad_credentials() -> DomainError {
    DomainError::new(ErrorCode::InvalidCredentials, "用户名或密码错误", "Wrong username or password")
}

fn throttled(minutes: i64) -> DomainError {
    DomainError::new(
        ErrorCode::TooManyAttempts,
        format!("登录失败次数过多，请{minutes}分钟后再试"),
        format!("Too many failed logins; try again in {minutes} minutes"),
    )
}

impl Service {
    /// Builds the actor for a user: their unit's path, the jurisdiction (the
    /// nearest government at or above the unit) and the areas the unit leads.
    pub async fn actor_for(&self, tx: &mut Tx, user: &User) -> Result<Actor> {
        let unit = units::get(tx, user.unit_id).await?.ok_or_else(|| DomainError::not_found("单位", "Unit"))?;
        // Without a government above it, a unit's jurisdiction is its root.
        let root = unit.path.ids().first().map(|r| UnitPath::root(*r)).unwrap_or_else(|| unit.path.clone());
        let jurisdiction = units::nearest_of_kind(tx, &unit.path, UnitKind::Government).await?.unwrap_or(root);
        let led_areas = campaigns::areas_led_by(tx, unit.id).await?;
        Ok(Actor {
            user_id: user.id,
            username: user.username.clone(),
            role: user.role,
            unit_id: unit.id,
            unit_path: unit.path,
            jurisdiction,
            led_areas,
        })
    }

    /// Checks a password, with throttling per account and per address.
    pub async fn verify_login(&self, username: &str, password: &str, ip: &str) -> Result<User> {
        let username = normalize_username(username);
        let username = username.as_str();
        let now = self.now();
        let since = now - self.settings.throttle_window;
        let mut tx = self.db.begin().await?;
        let minutes = self.settings.throttle_window.whole_minutes();
        if auth::recent_failures_for_user(&mut tx, username, since).await? >= self.settings.max_failures_per_account
            || auth::recent_failures_for_ip(&mut tx, ip, since).await? >= self.settings.max_failures_per_address
        {
            tx.rollback().await?;
            return Err(throttled(minutes));
        }
        let found = users::get_with_hash(&mut tx, username).await?;
        let hasher = self.settings.password.clone();
        let pw = password.to_string();
        let stored = found.as_ref().map(|(_, h)| h.clone());
        // Verify even for unknown users so that timing does not reveal which exist.
        let ok = tokio::task::spawn_blocking(move || match stored {
            Some(h) => hasher.verify(&pw, &h),
            None => {
                let _ = hasher.hash(&pw);
                false
            }
        })
        .await
        .map_err(crate::internal)?;
        let user = match (ok, found) {
            (true, Some((u, _))) if u.active => u,
            _ => {
                auth::record_attempt(&mut tx, now, username, ip, false).await?;
                let attempt = serde_json::json!({ "username": username, "ip": ip });
                self.audit(&mut tx, &Ctx::system("anonymous"), "auth.login_failed", "login_attempt", None, NONE, Some(&attempt)).await?;
                tx.commit().await?;
                return Err(bad_credentials());
            }
        };
        auth::record_attempt(&mut tx, now, username, ip, true).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Logs in and opens a session.
    pub async fn login(&self, username: &str, password: &str, ip: &str, user_agent: Option<&str>) -> Result<LoginOutcome> {
        let user = self.verify_login(username, password, ip).await?;
        let now = self.now();
        let token = secret();
        let csrf = secret();
        let expires = now + self.settings.session_idle.min(self.settings.session_max);
        let mut tx = self.db.begin().await?;
        auth::insert_session(
            &mut tx,
            &SessionRow {
                token_hash: digest(&token),
                user_id: user.id.0,
                csrf_token: csrf.clone(),
                created_at: now,
                last_seen_at: now,
                expires_at: expires,
            },
            Some(ip),
            user_agent,
        )
        .await?;
        let actor = self.actor_for(&mut tx, &user).await?;
        self.audit(&mut tx, &Ctx::user(actor, None), "auth.login", "user", Some(user.id.to_string()), NONE, NONE).await?;
        tx.commit().await?;
        Ok(LoginOutcome { user, session_token: token, csrf_token: csrf, expires_at: expires })
    }

    /// Resolves a session cookie; extends the idle timeout at most once a minute.
    pub async fn session(&self, token: &str) -> Result<Option<SessionInfo>> {
        let now = self.now();
        let hash = digest(token);
        let mut tx = self.db.read().await?;
        let Some(s) = auth::get_session(&mut tx, &hash).await? else { return Ok(None) };
        if s.expires_at <= now {
            return Ok(None);
        }
        let Some(user) = users::get(&mut tx, UserId(s.user_id)).await? else { return Ok(None) };
        if !user.active {
            return Ok(None);
        }
        let actor = self.actor_for(&mut tx, &user).await?;
        tx.commit().await?;
        if now - s.last_seen_at > time::Duration::minutes(1) {
            let expires = (now + self.settings.session_idle).min(s.created_at + self.settings.session_max);
            let mut w = self.db.begin().await?;
            auth::touch_session(&mut w, &hash, now, expires).await?;
            w.commit().await?;
        }
        Ok(Some(SessionInfo { actor, user, csrf_token: s.csrf_token, token_hash: hash }))
    }

    pub async fn logout(&self, ctx: &Ctx, token_hash: &str) -> Result<()> {
        let mut tx = self.db.begin().await?;
        auth::delete_session(&mut tx, token_hash).await?;
        let id = ctx.actor().map(|a| a.user_id.to_string());
        self.audit(&mut tx, ctx, "auth.logout", "user", id, NONE, NONE).await?;
        tx.commit().await?;
        self.forget_resolved_tokens();
        Ok(())
    }

    /// Resolves a bearer token: who acts with it, or `None` for an unknown,
    /// revoked or expired token or an inactive user. A resolution is reused
    /// for up to `token_cache::TTL` (changes made through this service end
    /// that at once; see `forget_resolved_tokens`).
    pub async fn token_actor(&self, token: &str) -> Result<Option<(Actor, User)>> {
        let now = self.now();
        let hash = digest(token);
        let resolved = match self.tokens.get(&hash) {
            Some(r) => r,
            None => {
                let generation = self.tokens.generation();
                let mut tx = self.db.read().await?;
                let holder = auth::token_holder(&mut tx, &hash).await?;
                tx.commit().await?;
                let Some(h) = holder else { return Ok(None) };
                if h.token.revoked_at.is_some() || !h.user.active {
                    return Ok(None);
                }
                // Without a government above it, a unit's jurisdiction is its root.
                let root = h.unit_path.ids().first().map(|r| UnitPath::root(*r)).unwrap_or_else(|| h.unit_path.clone());
                let actor = Actor {
                    user_id: h.user.id,
                    username: h.user.username.clone(),
                    role: h.user.role,
                    unit_id: h.user.unit_id,
                    unit_path: h.unit_path,
                    jurisdiction: h.jurisdiction.unwrap_or(root),
                    led_areas: h.led_areas,
                };
                let r = Resolved {
                    actor,
                    user: h.user,
                    token_id: h.token.id,
                    expires_at: h.token.expires_at,
                    last_used_at: h.token.last_used_at,
                };
                self.tokens.put(generation, hash.clone(), r.clone());
                r
            }
        };
        if resolved.expires_at.is_some_and(|e| e <= now) {
            return Ok(None);
        }
        if resolved.last_used_at.is_none_or(|l| now - l > time::Duration::minutes(1)) {
            let mut w = self.db.begin().await?;
            auth::touch_token(&mut w, resolved.token_id, now).await?;
            w.commit().await?;
            self.tokens.touched(&hash, now);
        }
        Ok(Some((resolved.actor, resolved.user)))
    }

    /// Creates an API token for `user` and returns it with its secret, which
    /// is shown this once.
    pub async fn create_token(&self, ctx: &Ctx, user: UserId, name: &str, days: Option<i64>) -> Result<(ApiToken, String)> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(DomainError::field("name", "请填写令牌名称（不超过100字）", "Give the token a name (at most 100 characters)"));
        }
        if let Some(a) = ctx.actor()
            && a.user_id != user {
                return Err(DomainError::forbidden());
            }
        if days.is_some_and(|d| !(1..=3650).contains(&d)) {
            return Err(DomainError::field("expires_in_days", "有效期应在1到3650天之间", "Validity must be 1 to 3650 days"));
        }
        let now = self.now();
        let secret = format!("{TOKEN_PREFIX}{}", secret());
        let token = ApiToken {
            id: TokenId::new(),
            user_id: user,
            name: name.to_string(),
            prefix: secret.chars().take(10).collect(),
            created_at: now,
            last_used_at: None,
            expires_at: days.map(|d| now + time::Duration::days(d)),
            revoked_at: None,
        };
        let mut tx = self.db.begin().await?;
        users::get(&mut tx, user).await?.ok_or_else(|| DomainError::not_found("用户", "User"))?;
        auth::insert_token(&mut tx, &token, &digest(&secret)).await?;
        self.audit(&mut tx, ctx, "token.create", "api_token", Some(token.id.to_string()), NONE, Some(&token)).await?;
        tx.commit().await?;
        Ok((token, secret))
    }

    pub async fn tokens(&self, user: UserId) -> Result<Vec<ApiToken>> {
        let mut tx = self.db.read().await?;
        Ok(auth::list_tokens(&mut tx, user).await?)
    }

    /// Revokes a token. Users revoke their own; administrators any.
    pub async fn revoke_token(&self, ctx: &Ctx, id: TokenId) -> Result<ApiToken> {
        let mut tx = self.db.begin().await?;
        let before = auth::get_token(&mut tx, id).await?.ok_or_else(|| DomainError::not_found("令牌", "Token"))?;
        if let Some(a) = ctx.actor()
            && a.user_id != before.user_id && a.role != Role::Admin {
                return Err(DomainError::not_found("令牌", "Token"));
            }
        if before.revoked_at.is_some() {
            return Err(DomainError::conflict("该令牌已被吊销", "The token is already revoked"));
        }
        let now = self.now();
        auth::revoke_token(&mut tx, id, now).await?;
        let after = ApiToken { revoked_at: Some(now), ..before.clone() };
        self.audit(&mut tx, ctx, "token.revoke", "api_token", Some(id.to_string()), Some(&before), Some(&after)).await?;
        tx.commit().await?;
        self.forget_resolved_tokens();
        Ok(after)
    }

    /// Changes one's own password, after checking the current one; ends the
    /// user's other sessions.
    pub async fn change_password(&self, ctx: &Ctx, current: &str, new: &str, keep_session: Option<&str>) -> Result<()> {
        let actor = ctx.actor().ok_or_else(DomainError::forbidden)?;
        password::check_policy(new, &actor.username)?;
        let mut tx = self.db.begin().await?;
        let stored = users::password_hash(&mut tx, actor.user_id).await?;
        let hasher = self.settings.password.clone();
        let (cur, newp) = (current.to_string(), new.to_string());
        let (ok, hash) = tokio::task::spawn_blocking(move || (hasher.verify(&cur, &stored), hasher.hash(&newp)))
            .await
            .map_err(crate::internal)?;
        if !ok {
            return Err(DomainError::invalid(vec![FieldError::new("current_password", "当前密码不正确", "The current password is wrong")]));
        }
        if current == new {
            return Err(DomainError::field("new_password", "新密码不能与当前密码相同", "The new password must differ from the current one"));
        }
        let now = self.now();
        users::set_password(&mut tx, actor.user_id, &hash?, false, now).await?;
        auth::delete_user_sessions(&mut tx, actor.user_id, keep_session).await?;
        self.audit(&mut tx, ctx, "user.password_change", "user", Some(actor.user_id.to_string()), NONE, NONE).await?;
        tx.commit().await?;
        self.forget_resolved_tokens();
        Ok(())
    }

    /// Sets a user's password as an administrator (or the operator at the
    /// command line); the user must change it at next login.
    pub async fn reset_password(&self, ctx: &Ctx, user: UserId, new: &str) -> Result<()> {
        let mut tx = self.db.begin().await?;
        let target = users::get(&mut tx, user).await?.ok_or_else(|| DomainError::not_found("用户", "User"))?;
        let unit = units::get(&mut tx, target.unit_id).await?.ok_or_else(|| DomainError::not_found("单位", "Unit"))?;
        ctx.check(Permission::ManageUser { unit: &unit.path, role: target.role }, "用户", "User")?;
        password::check_policy(new, &target.username)?;
        let hash = self.hash(new).await?;
        let must_change = ctx.actor().is_some_and(|a| a.user_id != user);
        users::set_password(&mut tx, user, &hash, must_change, self.now()).await?;
        auth::delete_user_sessions(&mut tx, user, None).await?;
        self.audit(&mut tx, ctx, "user.password_reset", "user", Some(user.to_string()), NONE, NONE).await?;
        tx.commit().await?;
        self.forget_resolved_tokens();
        Ok(())
    }

    pub async fn hash(&self, password: &str) -> Result<String> {
        let hasher = self.settings.password.clone();
        let pw = password.to_string();
        tokio::task::spawn_blocking(move || hasher.hash(&pw)).await.map_err(crate::internal)?
    }

    pub async fn create_user(&self, ctx: &Ctx, input: &NewUser) -> Result<User> {
        let mut errors = Vec::new();
        let username = normalize_username(&input.username);
        if username.len() < 2
            || username.len() > 64
            || !username.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            errors.push(FieldError::new(
                "username",
                "用户名应为2到64个字母、数字或 . _ -",
                "The username must be 2 to 64 letters, digits, '.', '_' or '-'",
            ));
        }
        let display_name = input.display_name.trim().to_string();
        if display_name.is_empty() || display_name.chars().count() > 50 {
            errors.push(FieldError::new("display_name", "请填写姓名（不超过50字）", "Enter the person's name (at most 50 characters)"));
        }
        let role = Role::parse(&input.role);
        if role.is_none() {
            errors.push(FieldError::new("role", "请选择有效的角色", "Choose a valid role"));
        }
        if let Some(p) = input.phone.as_deref().filter(|p| !p.trim().is_empty())
            && !bihuan_domain::unit::valid_phone(p) {
                errors.push(FieldError::new("phone", "电话号码格式不正确", "The phone number is not valid"));
            }
        if let Some(e) = input.email.as_deref().filter(|e| !e.trim().is_empty())
            && (!e.contains('@') || e.contains(' ')) {
                errors.push(FieldError::new("email", "电子邮箱格式不正确", "The email address is not valid"));
            }
        if let Err(e) = password::check_policy(&input.password, &username) {
            errors.extend(e.fields);
        }
        let unit_id = UnitId::parse(&input.unit_id);
        if unit_id.is_none() {
            errors.push(FieldError::new("unit_id", "请选择所属单位", "Choose the user's unit"));
        }
        let (Some(role), Some(unit_id), true) = (role, unit_id, errors.is_empty()) else {
            return Err(DomainError::invalid(errors));
        };
        let mut tx = self.db.begin().await?;
        let unit = units::get(&mut tx, unit_id).await?.ok_or_else(|| DomainError::field("unit_id", "所属单位不存在", "The unit does not exist"))?;
        ctx.check(Permission::ManageUser { unit: &unit.path, role }, "单位", "Unit")?;
        check_fit(role, &unit)?;
        let now = self.now();
        let user = User {
            id: UserId::new(),
            username,
            display_name,
            unit_id,
            role,
            phone: input.phone.clone().filter(|p| !p.trim().is_empty()),
            email: input.email.clone().filter(|p| !p.trim().is_empty()),
            language: match input.language.as_deref() {
                Some("en") | Some("en-US") => "en-US".into(),
                _ => "zh-CN".into(),
            },
            active: true,
            must_change_password: input.must_change_password,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let hash = self.hash(&input.password).await?;
        users::insert(&mut tx, &user, &hash).await?;
        self.audit(&mut tx, ctx, "user.create", "user", Some(user.id.to_string()), NONE, Some(&user)).await?;
        tx.commit().await?;
        Ok(user)
    }

    pub async fn update_user(&self, ctx: &Ctx, id: UserId, change: &UserChange) -> Result<User> {
        let mut tx = self.db.begin().await?;
        let before = users::get(&mut tx, id).await?.ok_or_else(|| DomainError::not_found("用户", "User"))?;
        let old_unit = units::get(&mut tx, before.unit_id).await?.ok_or_else(|| DomainError::not_found("单位", "Unit"))?;
        ctx.check(Permission::ManageUser { unit: &old_unit.path, role: before.role }, "用户", "User")?;
        let mut after = before.clone();
        if let Some(n) = &change.display_name {
            let n = n.trim();
            if n.is_empty() || n.chars().count() > 50 {
                return Err(DomainError::field("display_name", "请填写姓名（不超过50字）", "Enter the person's name (at most 50 characters)"));
            }
            after.display_name = n.to_string();
        }
        if let Some(r) = &change.role {
            after.role = Role::parse(r).ok_or_else(|| DomainError::field("role", "请选择有效的角色", "Choose a valid role"))?;
        }
        if let Some(u) = &change.unit_id {
            after.unit_id = UnitId::parse(u).ok_or_else(|| DomainError::field("unit_id", "请选择所属单位", "Choose the user's unit"))?;
        }
        let new_unit = units::get(&mut tx, after.unit_id).await?.ok_or_else(|| DomainError::field("unit_id", "所属单位不存在", "The unit does not exist"))?;
        ctx.check(Permission::ManageUser { unit: &new_unit.path, role: after.role }, "单位", "Unit")?;
        if after.role != before.role || after.unit_id != before.unit_id {
            check_fit(after.role, &new_unit)?;
        }
        if let Some(p) = &change.phone {
            after.phone = Some(p.trim().to_string()).filter(|p| !p.is_empty());
        }
        if let Some(e) = &change.email {
            after.email = Some(e.trim().to_string()).filter(|e| !e.is_empty());
        }
        if let Some(l) = &change.language {
            after.language = if l.starts_with("en") { "en-US".into() } else { "zh-CN".into() };
        }
        if let Some(a) = change.active {
            if ctx.actor().is_some_and(|x| x.user_id == id) && !a {
                return Err(DomainError::conflict("不能停用自己的账号", "You cannot deactivate your own account"));
            }
            after.active = a;
        }
        after.updated_at = self.now();
        after.version = before.version + 1;
        users::update(&mut tx, &after, change.version.unwrap_or(before.version)).await?;
        if !after.active {
            auth::delete_user_sessions(&mut tx, id, None).await?;
        }
        self.audit(&mut tx, ctx, "user.update", "user", Some(id.to_string()), Some(&before), Some(&after)).await?;
        tx.commit().await?;
        self.forget_resolved_tokens();
        Ok(after)
    }

    /// Changes one's own language.
    pub async fn set_language(&self, ctx: &Ctx, language: &str) -> Result<User> {
        let actor = ctx.actor().ok_or_else(DomainError::forbidden)?;
        let mut tx = self.db.begin().await?;
        let before = users::get(&mut tx, actor.user_id).await?.ok_or_else(|| DomainError::not_found("用户", "User"))?;
        let mut after = before.clone();
        after.language = if language.starts_with("en") { "en-US".into() } else { "zh-CN".into() };
        after.version += 1;
        after.updated_at = self.now();
        users::update(&mut tx, &after, before.version).await?;
        self.audit(&mut tx, ctx, "user.update", "user", Some(actor.user_id.to_string()), Some(&before), Some(&after)).await?;
        tx.commit().await?;
        self.forget_resolved_tokens();
        Ok(after)
    }

    pub async fn get_user(&self, ctx: &Ctx, id: UserId) -> Result<User> {
        let mut tx = self.db.read().await?;
        let user = users::get(&mut tx, id).await?.ok_or_else(|| DomainError::not_found("用户", "User"))?;
        let unit = units::get(&mut tx, user.unit_id).await?.ok_or_else(|| DomainError::not_found("用户", "User"))?;
        ctx.check(Permission::ReadUser { unit: &unit.path }, "用户", "User")?;
        Ok(user)
    }

    /// Users the caller may see, with their unit's name.
    pub async fn list_users(&self, ctx: &Ctx, filter: &users::UserFilter) -> Result<Vec<(User, String)>> {
        let scope = ctx.actor().map(|a| a.scope()).unwrap_or(bihuan_domain::permission::Scope::All);
        let mut tx = self.db.read().await?;
        Ok(users::list(&mut tx, &scope, filter).await?)
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<User>> {
        let mut tx = self.db.read().await?;
        Ok(users::get_with_hash(&mut tx, &normalize_username(username)).await?.map(|(u, _)| u))
    }

}

/// Usernames are case-insensitive: `ZhangSan` and `zhangsan` are one account.
pub fn normalize_username(s: &str) -> String {
    bihuan_domain::text::normalize_width(s).to_lowercase()
}

/// A user's role must suit the kind of unit they belong to.
fn check_fit(role: Role, unit: &bihuan_domain::model::Unit) -> Result<()> {
    if role.fits(unit.kind) {
        return Ok(());
    }
    Err(DomainError::field(
        "role",
        format!("“{}”角色不能设在“{}”类单位（{}）", role.label_zh(), unit.kind.label_zh(), unit.name),
        format!("A {} cannot belong to a {} ({})", role.label_en().to_lowercase(), unit.kind.label_en().to_lowercase(), unit.name),
    ))
}

#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub unit_id: String,
    pub role: String,
    pub password: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub language: Option<String>,
    #[serde(default)]
    pub must_change_password: bool,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserChange {
    pub display_name: Option<String>,
    pub role: Option<String>,
    pub unit_id: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub language: Option<String>,
    pub active: Option<bool>,
    pub version: Option<i64>,
}
