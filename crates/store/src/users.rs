//! Users and their password hashes.

use crate::{run, Result, StoreError, Ts, Tx};
#[allow(unused_imports)]
use crate::db::ts_opt;
use bihuan_domain::ids::{UnitId, UserId};
use bihuan_domain::model::User;
use bihuan_domain::permission::Scope;
use bihuan_domain::role::Role;
use bihuan_domain::unit::UnitPath;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: Uuid,
    username: String,
    display_name: String,
    unit_id: Uuid,
    role: String,
    phone: Option<String>,
    email: Option<String>,
    language: String,
    active: bool,
    must_change_password: bool,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    version: i64,
}

pub(crate) const COLUMNS: &str = "u.id, u.username, u.display_name, u.unit_id, u.role, u.phone, u.email, u.language, u.active, \
                       u.must_change_password, u.created_at, u.updated_at, u.version";

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<User> {
        Ok(User {
            id: UserId(r.id),
            username: r.username,
            display_name: r.display_name,
            unit_id: UnitId(r.unit_id),
            role: Role::parse(&r.role).ok_or_else(|| StoreError::Corrupt(format!("role {}", r.role)))?,
            phone: r.phone,
            email: r.email,
            language: r.language,
            active: r.active,
            must_change_password: r.must_change_password,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        })
    }
}

pub async fn insert(tx: &mut Tx, u: &User, password_hash: &str) -> Result<()> {
    let sql = "INSERT INTO app_user (id, username, display_name, unit_id, role, password_hash, phone, email, language, active, \
               must_change_password, password_changed_at, created_at, updated_at, version) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";
    run!(tx, |c| {
        sqlx::query(sql)
            .bind(u.id.0)
            .bind(&u.username)
            .bind(&u.display_name)
            .bind(u.unit_id.0)
            .bind(u.role.as_str())
            .bind(password_hash)
            .bind(&u.phone)
            .bind(&u.email)
            .bind(&u.language)
            .bind(u.active)
            .bind(u.must_change_password)
            .bind(Ts(u.created_at))
            .bind(Ts(u.created_at))
            .bind(Ts(u.updated_at))
            .bind(u.version)
            .execute(&mut *c).await?.rows_affected()
    });
    Ok(())
}

pub async fn update(tx: &mut Tx, u: &User, expected_version: i64) -> Result<()> {
    let sql = "UPDATE app_user SET display_name = $1, unit_id = $2, role = $3, phone = $4, email = $5, language = $6, active = $7, \
               must_change_password = $8, updated_at = $9, version = $10 WHERE id = $11 AND version = $12";
    let n = run!(tx, |c| {
        sqlx::query(sql)
            .bind(&u.display_name)
            .bind(u.unit_id.0)
            .bind(u.role.as_str())
            .bind(&u.phone)
            .bind(&u.email)
            .bind(&u.language)
            .bind(u.active)
            .bind(u.must_change_password)
            .bind(Ts(u.updated_at))
            .bind(u.version)
            .bind(u.id.0)
            .bind(expected_version)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    if n == 1 { Ok(()) } else { Err(StoreError::Stale) }
}

pub async fn set_password(
    tx: &mut Tx,
    id: UserId,
    password_hash: &str,
    must_change: bool,
    at: OffsetDateTime,
) -> Result<()> {
    let sql = "UPDATE app_user SET password_hash = $1, must_change_password = $2, password_changed_at = $3, updated_at = $3, \
               version = version + 1 WHERE id = $4";
    let n = run!(tx, |c| {
        sqlx::query(sql).bind(password_hash).bind(must_change).bind(Ts(at)).bind(id.0).execute(&mut *c).await?.rows_affected()
    });
    if n == 1 { Ok(()) } else { Err(StoreError::NotFound) }
}

pub async fn get(tx: &mut Tx, id: UserId) -> Result<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM app_user u WHERE u.id = $1");
    let row: Option<UserRow> = run!(tx, |c| sqlx::query_as(&sql).bind(id.0).fetch_optional(&mut *c).await?);
    row.map(User::try_from).transpose()
}

/// A user with the stored password hash, for logging in.
pub async fn get_with_hash(tx: &mut Tx, username: &str) -> Result<Option<(User, String)>> {
    let sql = format!("SELECT {COLUMNS}, u.password_hash FROM app_user u WHERE u.username = $1");
    let row = run!(tx, |c| {
        let r = sqlx::query(&sql).bind(username).fetch_optional(&mut *c).await?;
        match r {
            Some(r) => {
                use sqlx::{FromRow, Row};
                let user = UserRow::from_row(&r)?;
                let hash: String = r.try_get("password_hash")?;
                Some((user, hash))
            }
            None => None,
        }
    });
    match row {
        Some((u, h)) => Ok(Some((User::try_from(u)?, h))),
        None => Ok(None),
    }
}

pub async fn password_hash(tx: &mut Tx, id: UserId) -> Result<String> {
    let h: Option<String> =
        run!(tx, |c| sqlx::query_scalar("SELECT password_hash FROM app_user WHERE id = $1").bind(id.0).fetch_optional(&mut *c).await?);
    h.ok_or(StoreError::NotFound)
}

#[derive(Clone, Debug, Default)]
pub struct UserFilter {
    pub unit: Option<UnitId>,
    pub within: Option<UnitPath>,
    pub role: Option<Role>,
    pub q: Option<String>,
    pub after_username: Option<String>,
    pub limit: i64,
}

/// Users whose unit lies in `scope`, by username.
pub async fn list(tx: &mut Tx, scope: &Scope, f: &UserFilter) -> Result<Vec<(User, String)>> {
    let mut sql = format!(
        "SELECT {COLUMNS}, n.name AS unit_name FROM app_user u JOIN unit n ON n.id = u.unit_id \
         WHERE n.path LIKE $1 AND n.path LIKE $2 AND u.username > $3"
    );
    sql.push_str(if f.unit.is_some() { " AND u.unit_id = $4" } else { " AND $4 IS NULL" });
    sql.push_str(if f.role.is_some() { " AND u.role = $5" } else { " AND $5 IS NULL" });
    let like = f.q.as_ref().map(|q| format!("%{}%", crate::units::escape_like(&q.trim().to_lowercase())));
    sql.push_str(if like.is_some() {
        " AND (LOWER(u.username) LIKE $6 ESCAPE '\\' OR LOWER(u.display_name) LIKE $6 ESCAPE '\\')"
    } else {
        " AND $6 IS NULL"
    });
    sql.push_str(" ORDER BY u.username LIMIT $7");
    let scope_prefix = match scope {
        Scope::All => "%".to_string(),
        Scope::Subtree(p) => format!("{}%", p.as_str()),
    };
    let within = f.within.as_ref().map(|p| format!("{}%", p.as_str())).unwrap_or_else(|| "%".into());
    let limit = if f.limit <= 0 { 500 } else { f.limit };
    let rows = run!(tx, |c| {
        use sqlx::{FromRow, Row};
        let rows = sqlx::query(&sql)
            .bind(&scope_prefix)
            .bind(&within)
            .bind(f.after_username.clone().unwrap_or_default())
            .bind(f.unit.map(|u| u.0))
            .bind(f.role.map(|r| r.as_str()))
            .bind(&like)
            .bind(limit)
            .fetch_all(&mut *c)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push((UserRow::from_row(r)?, r.try_get::<String, _>("unit_name")?));
        }
        out
    });
    rows.into_iter().map(|(u, n)| Ok((User::try_from(u)?, n))).collect()
}

pub async fn count(tx: &mut Tx) -> Result<i64> {
    Ok(run!(tx, |c| sqlx::query_scalar("SELECT COUNT(*) FROM app_user").fetch_one(&mut *c).await?))
}
