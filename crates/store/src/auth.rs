//! Sessions, API tokens and login attempts. Secrets are stored only as
//! SHA-256 hashes: a copy of the database does not let anyone log in.

use crate::{run, Result, StoreError, Ts, Tx};
#[allow(unused_imports)]
use crate::db::ts_opt;
use bihuan_domain::ids::{AreaId, TokenId, UserId};
use bihuan_domain::model::{ApiToken, User};
use bihuan_domain::unit::{UnitKind, UnitPath};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRow {
    pub token_hash: String,
    pub user_id: Uuid,
    pub csrf_token: String,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

pub async fn insert_session(
    tx: &mut Tx,
    s: &SessionRow,
    ip: Option<&str>,
    user_agent: Option<&str>,
) -> Result<()> {
    let sql = "INSERT INTO user_session (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    run!(tx, |c| {
        sqlx::query(sql)
            .bind(&s.token_hash)
            .bind(s.user_id)
            .bind(&s.csrf_token)
            .bind(Ts(s.created_at))
            .bind(Ts(s.last_seen_at))
            .bind(Ts(s.expires_at))
            .bind(ip)
            .bind(user_agent)
            .execute(&mut *c).await?.rows_affected()
    });
    Ok(())
}

pub async fn get_session(tx: &mut Tx, token_hash: &str) -> Result<Option<SessionRow>> {
    let sql = "SELECT token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at FROM user_session WHERE token_hash = $1";
    Ok(run!(tx, |c| sqlx::query_as(sql).bind(token_hash).fetch_optional(&mut *c).await?))
}

pub async fn touch_session(tx: &mut Tx, token_hash: &str, seen: OffsetDateTime, expires: OffsetDateTime) -> Result<()> {
    let sql = "UPDATE user_session SET last_seen_at = $1, expires_at = $2 WHERE token_hash = $3";
    run!(tx, |c| sqlx::query(sql).bind(Ts(seen)).bind(Ts(expires)).bind(token_hash).execute(&mut *c).await?.rows_affected());
    Ok(())
}

pub async fn delete_session(tx: &mut Tx, token_hash: &str) -> Result<()> {
    run!(tx, |c| sqlx::query("DELETE FROM user_session WHERE token_hash = $1").bind(token_hash).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// Ends every session of a user except, optionally, one (after a password change).
pub async fn delete_user_sessions(tx: &mut Tx, user: UserId, keep: Option<&str>) -> Result<u64> {
    let sql = "DELETE FROM user_session WHERE user_id = $1 AND token_hash <> $2";
    Ok(run!(tx, |c| {
        sqlx::query(sql).bind(user.0).bind(keep.unwrap_or_default()).execute(&mut *c).await?.rows_affected()
    }))
}

pub async fn delete_expired_sessions(tx: &mut Tx, now: OffsetDateTime) -> Result<u64> {
    Ok(run!(tx, |c| {
        sqlx::query("DELETE FROM user_session WHERE expires_at < $1").bind(Ts(now)).execute(&mut *c).await?.rows_affected()
    }))
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: Uuid,
    user_id: Uuid,
    name: String,
    prefix: String,
    created_at: OffsetDateTime,
    last_used_at: Option<OffsetDateTime>,
    expires_at: Option<OffsetDateTime>,
    revoked_at: Option<OffsetDateTime>,
}

impl From<TokenRow> for ApiToken {
    fn from(r: TokenRow) -> Self {
        ApiToken {
            id: TokenId(r.id),
            user_id: UserId(r.user_id),
            name: r.name,
            prefix: r.prefix,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
        }
    }
}

const TOKEN_COLUMNS: &str = "id, user_id, name, prefix, created_at, last_used_at, expires_at, revoked_at";

pub async fn insert_token(tx: &mut Tx, t: &ApiToken, token_hash: &str) -> Result<()> {
    let sql = "INSERT INTO api_token (id, user_id, name, token_hash, prefix, created_at, last_used_at, expires_at, revoked_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    run!(tx, |c| {
        sqlx::query(sql)
            .bind(t.id.0)
            .bind(t.user_id.0)
            .bind(&t.name)
            .bind(token_hash)
            .bind(&t.prefix)
            .bind(Ts(t.created_at))
            .bind(ts_opt(t.last_used_at))
            .bind(ts_opt(t.expires_at))
            .bind(ts_opt(t.revoked_at))
            .execute(&mut *c).await?.rows_affected()
    });
    Ok(())
}

pub async fn token_by_hash(tx: &mut Tx, token_hash: &str) -> Result<Option<ApiToken>> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_token WHERE token_hash = $1");
    let row: Option<TokenRow> = run!(tx, |c| sqlx::query_as(&sql).bind(token_hash).fetch_optional(&mut *c).await?);
    Ok(row.map(ApiToken::from))
}

/// A bearer token with everything needed to act as its user, read in one
/// statement: the token, its user, the user's unit, the nearest government
/// at or above that unit, and the areas the unit leads.
#[derive(Clone, Debug)]
pub struct TokenHolder {
    pub token: ApiToken,
    pub user: User,
    pub unit_path: UnitPath,
    /// `None` when no government is at or above the unit.
    pub jurisdiction: Option<UnitPath>,
    pub led_areas: Vec<AreaId>,
}

/// The token with this hash and its holder (see [`TokenHolder`]); `None`
/// for an unknown token. Revoked and expired tokens and inactive users are
/// returned as they are: the caller decides.
pub async fn token_holder(tx: &mut Tx, token_hash: &str) -> Result<Option<TokenHolder>> {
    // One row per led area (at least one, by the LEFT JOIN); the nearest
    // government is the one whose path is the longest prefix of the unit's
    // (as in `units::nearest_of_kind`).
    let sql = format!(
        "SELECT t.id AS t_id, t.name AS t_name, t.prefix AS t_prefix, t.created_at AS t_created_at, \
         t.last_used_at AS t_last_used_at, t.expires_at AS t_expires_at, t.revoked_at AS t_revoked_at, {users}, \
         n.path AS unit_path, \
         (SELECT g.path FROM unit g WHERE g.kind = $2 AND n.path LIKE g.path || '%' ORDER BY LENGTH(g.path) DESC LIMIT 1) AS jurisdiction, \
         l.area_id AS led_area \
         FROM api_token t JOIN app_user u ON u.id = t.user_id JOIN unit n ON n.id = u.unit_id \
         LEFT JOIN area_lead l ON l.unit_id = n.id WHERE t.token_hash = $1",
        users = crate::users::COLUMNS
    );
    type Head = (TokenRow, crate::users::UserRow, String, Option<String>);
    let (head, led): (Option<Head>, Vec<Uuid>) = run!(tx, |c| {
        use sqlx::{FromRow, Row};
        let rows = sqlx::query(&sql).bind(token_hash).bind(UnitKind::Government.as_str()).fetch_all(&mut *c).await?;
        let mut head = None;
        let mut led = Vec::new();
        for r in &rows {
            if head.is_none() {
                let token = TokenRow {
                    id: r.try_get("t_id")?,
                    user_id: r.try_get("id")?,
                    name: r.try_get("t_name")?,
                    prefix: r.try_get("t_prefix")?,
                    created_at: r.try_get("t_created_at")?,
                    last_used_at: r.try_get("t_last_used_at")?,
                    expires_at: r.try_get("t_expires_at")?,
                    revoked_at: r.try_get("t_revoked_at")?,
                };
                head = Some((token, crate::users::UserRow::from_row(r)?, r.try_get("unit_path")?, r.try_get("jurisdiction")?));
            }
            led.extend(r.try_get::<Option<Uuid>, _>("led_area")?);
        }
        (head, led)
    });
    let Some((token, user, unit_path, jurisdiction)) = head else { return Ok(None) };
    Ok(Some(TokenHolder {
        token: ApiToken::from(token),
        user: User::try_from(user)?,
        unit_path: UnitPath::from_stored(unit_path),
        jurisdiction: jurisdiction.map(UnitPath::from_stored),
        led_areas: led.into_iter().map(AreaId).collect(),
    }))
}

pub async fn get_token(tx: &mut Tx, id: TokenId) -> Result<Option<ApiToken>> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_token WHERE id = $1");
    let row: Option<TokenRow> = run!(tx, |c| sqlx::query_as(&sql).bind(id.0).fetch_optional(&mut *c).await?);
    Ok(row.map(ApiToken::from))
}

pub async fn list_tokens(tx: &mut Tx, user: UserId) -> Result<Vec<ApiToken>> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_token WHERE user_id = $1 ORDER BY created_at DESC, id");
    let rows: Vec<TokenRow> = run!(tx, |c| sqlx::query_as(&sql).bind(user.0).fetch_all(&mut *c).await?);
    Ok(rows.into_iter().map(ApiToken::from).collect())
}

pub async fn revoke_token(tx: &mut Tx, id: TokenId, at: OffsetDateTime) -> Result<()> {
    let n = run!(tx, |c| {
        sqlx::query("UPDATE api_token SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(Ts(at))
            .bind(id.0)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    if n == 1 { Ok(()) } else { Err(StoreError::NotFound) }
}

pub async fn touch_token(tx: &mut Tx, id: TokenId, at: OffsetDateTime) -> Result<()> {
    run!(tx, |c| sqlx::query("UPDATE api_token SET last_used_at = $1 WHERE id = $2").bind(Ts(at)).bind(id.0).execute(&mut *c).await?.rows_affected());
    Ok(())
}

pub async fn record_attempt(tx: &mut Tx, at: OffsetDateTime, username: &str, ip: &str, success: bool) -> Result<()> {
    let sql = "INSERT INTO login_attempt (id, at, username, ip, success) VALUES ($1, $2, $3, $4, $5)";
    run!(tx, |c| {
        sqlx::query(sql).bind(Uuid::now_v7()).bind(Ts(at)).bind(username).bind(ip).bind(success).execute(&mut *c).await?.rows_affected()
    });
    Ok(())
}

/// Failed attempts for a username since `since`, not counting those before
/// the last successful login.
pub async fn recent_failures_for_user(tx: &mut Tx, username: &str, since: OffsetDateTime) -> Result<i64> {
    let sql = "SELECT COUNT(*) FROM login_attempt f WHERE f.username = $1 AND NOT f.success AND f.at >= $2 AND NOT EXISTS \
               (SELECT 1 FROM login_attempt s WHERE s.username = $1 AND s.success AND s.at >= f.at)";
    Ok(run!(tx, |c| sqlx::query_scalar(sql).bind(username).bind(Ts(since)).fetch_one(&mut *c).await?))
}

pub async fn recent_failures_for_ip(tx: &mut Tx, ip: &str, since: OffsetDateTime) -> Result<i64> {
    let sql = "SELECT COUNT(*) FROM login_attempt WHERE ip = $1 AND NOT success AND at >= $2";
    Ok(run!(tx, |c| sqlx::query_scalar(sql).bind(ip).bind(Ts(since)).fetch_one(&mut *c).await?))
}

pub async fn prune_attempts(tx: &mut Tx, before: OffsetDateTime) -> Result<u64> {
    Ok(run!(tx, |c| sqlx::query("DELETE FROM login_attempt WHERE at < $1").bind(Ts(before)).execute(&mut *c).await?.rows_affected()))
}
