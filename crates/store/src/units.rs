//! Units: the organisation tree.

use crate::{run, Result, StoreError, Ts, Tx};
#[allow(unused_imports)]
use crate::db::ts_opt;
use bihuan_domain::ids::UnitId;
use bihuan_domain::model::Unit;
use bihuan_domain::permission::Scope;
use bihuan_domain::unit::{EnterpriseFlag, EnterpriseScale, LocalityKind, UnitKind, UnitPath};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct UnitRow {
    id: Uuid,
    parent_id: Option<Uuid>,
    path: String,
    kind: String,
    name: String,
    short_name: Option<String>,
    locality_kind: Option<String>,
    duties: Option<String>,
    credit_code: Option<String>,
    address: Option<String>,
    industry: Option<String>,
    scale: Option<String>,
    flags: String,
    legal_representative: Option<String>,
    legal_representative_phone: Option<String>,
    principal: Option<String>,
    principal_phone: Option<String>,
    longitude: Option<f64>,
    latitude: Option<f64>,
    active: bool,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    version: i64,
}

const COLUMNS: &str = "id, parent_id, path, kind, name, short_name, locality_kind, duties, credit_code, address, industry, scale, flags, \
     legal_representative, legal_representative_phone, principal, principal_phone, longitude, latitude, active, created_at, updated_at, version";

impl TryFrom<UnitRow> for Unit {
    type Error = StoreError;
    fn try_from(r: UnitRow) -> Result<Unit> {
        let kind = UnitKind::parse(&r.kind).ok_or_else(|| StoreError::Corrupt(format!("unit kind {}", r.kind)))?;
        Ok(Unit {
            id: UnitId(r.id),
            parent_id: r.parent_id.map(UnitId),
            path: UnitPath::from_stored(r.path),
            kind,
            name: r.name,
            short_name: r.short_name,
            locality_kind: r.locality_kind.as_deref().and_then(LocalityKind::parse),
            duties: r.duties,
            credit_code: r.credit_code,
            address: r.address,
            industry: r.industry,
            scale: r.scale.as_deref().and_then(EnterpriseScale::parse),
            flags: r.flags.split(',').filter_map(EnterpriseFlag::parse).collect(),
            legal_representative: r.legal_representative,
            legal_representative_phone: r.legal_representative_phone,
            principal: r.principal,
            principal_phone: r.principal_phone,
            longitude: r.longitude,
            latitude: r.latitude,
            active: r.active,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        })
    }
}

/// Flags are stored as `,a,b,` so that one flag is found with `LIKE '%,a,%'`.
fn flags_text(flags: &[EnterpriseFlag]) -> String {
    if flags.is_empty() {
        String::new()
    } else {
        format!(",{},", flags.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(","))
    }
}

pub async fn insert(tx: &mut Tx, u: &Unit) -> Result<()> {
    let sql = format!(
        "INSERT INTO unit ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)"
    );
    run!(tx, |c| {
        sqlx::query(&sql)
            .bind(u.id.0)
            .bind(u.parent_id.map(|p| p.0))
            .bind(u.path.as_str())
            .bind(u.kind.as_str())
            .bind(&u.name)
            .bind(&u.short_name)
            .bind(u.locality_kind.map(|k| k.as_str()))
            .bind(&u.duties)
            .bind(&u.credit_code)
            .bind(&u.address)
            .bind(&u.industry)
            .bind(u.scale.map(|s| s.as_str()))
            .bind(flags_text(&u.flags))
            .bind(&u.legal_representative)
            .bind(&u.legal_representative_phone)
            .bind(&u.principal)
            .bind(&u.principal_phone)
            .bind(u.longitude)
            .bind(u.latitude)
            .bind(u.active)
            .bind(Ts(u.created_at))
            .bind(Ts(u.updated_at))
            .bind(u.version)
            .execute(&mut *c).await?.rows_affected()
    });
    Ok(())
}

/// Writes the new state of a unit if nobody changed it since `expected_version`.
pub async fn update(tx: &mut Tx, u: &Unit, expected_version: i64) -> Result<()> {
    let sql = "UPDATE unit SET name = $1, short_name = $2, locality_kind = $3, duties = $4, credit_code = $5, address = $6, \
               industry = $7, scale = $8, flags = $9, legal_representative = $10, legal_representative_phone = $11, principal = $12, \
               principal_phone = $13, longitude = $14, latitude = $15, active = $16, updated_at = $17, version = $18 \
               WHERE id = $19 AND version = $20";
    let n = run!(tx, |c| {
        sqlx::query(sql)
            .bind(&u.name)
            .bind(&u.short_name)
            .bind(u.locality_kind.map(|k| k.as_str()))
            .bind(&u.duties)
            .bind(&u.credit_code)
            .bind(&u.address)
            .bind(&u.industry)
            .bind(u.scale.map(|s| s.as_str()))
            .bind(flags_text(&u.flags))
            .bind(&u.legal_representative)
            .bind(&u.legal_representative_phone)
            .bind(&u.principal)
            .bind(&u.principal_phone)
            .bind(u.longitude)
            .bind(u.latitude)
            .bind(u.active)
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

pub async fn get(tx: &mut Tx, id: UnitId) -> Result<Option<Unit>> {
    let sql = format!("SELECT {COLUMNS} FROM unit WHERE id = $1");
    let row: Option<UnitRow> = run!(tx, |c| sqlx::query_as(&sql).bind(id.0).fetch_optional(&mut *c).await?);
    row.map(Unit::try_from).transpose()
}

pub async fn find_by_name(tx: &mut Tx, parent: Option<UnitId>, name: &str) -> Result<Option<Unit>> {
    let sql = match parent {
        Some(_) => format!("SELECT {COLUMNS} FROM unit WHERE parent_id = $1 AND name = $2"),
        None => format!("SELECT {COLUMNS} FROM unit WHERE parent_id IS NULL AND name = $2 AND $1 IS NULL"),
    };
    let row: Option<UnitRow> =
        run!(tx, |c| sqlx::query_as(&sql).bind(parent.map(|p| p.0)).bind(name).fetch_optional(&mut *c).await?);
    row.map(Unit::try_from).transpose()
}

/// Units on a path, root first.
pub async fn ancestors(tx: &mut Tx, path: &UnitPath) -> Result<Vec<Unit>> {
    let mut out = Vec::new();
    for id in path.ids() {
        if let Some(u) = get(tx, id).await? {
            out.push(u);
        }
    }
    Ok(out)
}

/// The path of the nearest unit of `kind` at or above `path`, in one query
/// (a path's ancestors are exactly the units whose path is a prefix of it).
pub async fn nearest_of_kind(tx: &mut Tx, path: &UnitPath, kind: UnitKind) -> Result<Option<UnitPath>> {
    let sql = "SELECT path FROM unit WHERE kind = $1 AND $2 LIKE path || '%' ORDER BY LENGTH(path) DESC LIMIT 1";
    let found: Option<String> =
        run!(tx, |c| sqlx::query_scalar(sql).bind(kind.as_str()).bind(path.as_str()).fetch_optional(&mut *c).await?);
    Ok(found.map(UnitPath::from_stored))
}

#[derive(Clone, Debug, Default)]
pub struct UnitFilter {
    pub kind: Option<UnitKind>,
    pub parent: Option<UnitId>,
    /// Only units at or below this path.
    pub within: Option<UnitPath>,
    /// Substring of the name, short name or credit code.
    pub q: Option<String>,
    pub flag: Option<EnterpriseFlag>,
    pub include_inactive: bool,
    /// Keyset: units whose path sorts after this one.
    pub after_path: Option<String>,
    pub limit: i64,
}

/// Units in `scope` matching `filter`, in tree order (by path).
pub async fn list(tx: &mut Tx, scope: &Scope, filter: &UnitFilter) -> Result<Vec<Unit>> {
    let mut sql = format!("SELECT {COLUMNS} FROM unit WHERE path LIKE $1 AND path LIKE $2 AND path > $3");
    let scope_prefix = match scope {
        Scope::All => "%".to_string(),
        Scope::Subtree(p) => format!("{}%", p.as_str()),
    };
    let within = filter.within.as_ref().map(|p| format!("{}%", p.as_str())).unwrap_or_else(|| "%".into());
    if filter.kind.is_some() {
        sql.push_str(" AND kind = $4");
    } else {
        sql.push_str(" AND $4 IS NULL");
    }
    if filter.parent.is_some() {
        sql.push_str(" AND parent_id = $5");
    } else {
        sql.push_str(" AND $5 IS NULL");
    }
    let like = filter.q.as_ref().map(|q| format!("%{}%", escape_like(&q.trim().to_lowercase())));
    if like.is_some() {
        sql.push_str(" AND (LOWER(name) LIKE $6 ESCAPE '\\' OR LOWER(short_name) LIKE $6 ESCAPE '\\' OR LOWER(credit_code) LIKE $6 ESCAPE '\\')");
    } else {
        sql.push_str(" AND $6 IS NULL");
    }
    let flag = filter.flag.map(|f| format!("%,{},%", f.as_str()));
    if flag.is_some() {
        sql.push_str(" AND flags LIKE $7");
    } else {
        sql.push_str(" AND $7 IS NULL");
    }
    if !filter.include_inactive {
        sql.push_str(" AND active = $8");
    } else {
        sql.push_str(" AND $8 = $8");
    }
    sql.push_str(" ORDER BY path LIMIT $9");
    let after = filter.after_path.clone().unwrap_or_default();
    let limit = if filter.limit <= 0 { 500 } else { filter.limit };
    let rows: Vec<UnitRow> = run!(tx, |c| {
        sqlx::query_as(&sql)
            .bind(&scope_prefix)
            .bind(&within)
            .bind(&after)
            .bind(filter.kind.map(|k| k.as_str()))
            .bind(filter.parent.map(|p| p.0))
            .bind(&like)
            .bind(&flag)
            .bind(true)
            .bind(limit)
            .fetch_all(&mut *c)
            .await?
    });
    rows.into_iter().map(Unit::try_from).collect()
}

pub async fn count(tx: &mut Tx) -> Result<i64> {
    Ok(run!(tx, |c| sqlx::query_scalar("SELECT COUNT(*) FROM unit").fetch_one(&mut *c).await?))
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
pub fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}
