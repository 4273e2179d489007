use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Postgres, Sqlite, SqliteConnection, Transaction};
use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A connection pool to one of the two engines.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A transaction on one of the two engines. Every store function takes one:
/// reads see one snapshot, writes commit together with their audit entry.
pub enum Tx {
    Sqlite(SqliteTx),
    Postgres(Transaction<'static, Postgres>),
}

/// A SQLite transaction and, for a write transaction, this process's turn
/// to write to the database file (see [`Db::begin`]). It dereferences to the
/// connection, like sqlx's `Transaction`. The turn is given up when the
/// transaction ends: after COMMIT or ROLLBACK, or when it is dropped (sqlx
/// then queues the ROLLBACK on the connection).
pub struct SqliteTx {
    tx: Transaction<'static, Sqlite>,
    // Declared after `tx`, so dropped after it.
    _turn: Option<OwnedSemaphorePermit>,
}

impl std::ops::Deref for SqliteTx {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for SqliteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }
}

/// How long a SQLite writer waits for its turn before giving up, as long
/// as SQLite's own busy timeout.
const SQLITE_WAIT: Duration = Duration::from_secs(10);

/// One turn to write per SQLite database file in this process. SQLite has
/// one writer per file anyway; queueing here, before a connection is taken
/// from the pool, wakes the next writer as soon as the last one ends,
/// whereas writers queued in SQLite's busy handler sleep 1, 2, 5, 10 … ms
/// between tries and leave the lock idle. Keyed by the file name, so every
/// pool on one file (the server's and a tool's in one process) shares it.
static SQLITE_WRITERS: LazyLock<Mutex<HashMap<PathBuf, Arc<Semaphore>>>> = LazyLock::new(Default::default);

fn sqlite_writer(pool: &SqlitePool) -> Arc<Semaphore> {
    let file = pool.connect_options().get_filename().to_path_buf();
    let mut writers = SQLITE_WRITERS.lock().unwrap_or_else(|e| e.into_inner());
    writers.entry(file).or_insert_with(|| Arc::new(Semaphore::new(1))).clone()
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique constraint was violated; carries the constraint or index name.
    #[error("conflict on {0}")]
    Conflict(String),
    /// An optimistic version check failed: someone else changed the record.
    #[error("the record was changed by someone else")]
    Stale,
    #[error("invalid database URL: {0}")]
    BadUrl(String),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    /// Another write transaction held the database for too long.
    #[error("the database is busy")]
    Busy,
    #[error("database error: {0}")]
    Db(#[source] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e
            && db.kind() == sqlx::error::ErrorKind::UniqueViolation {
                let name = db.constraint().map(str::to_string).unwrap_or_else(|| db.message().to_string());
                return StoreError::Conflict(name);
            }
        if let sqlx::Error::RowNotFound = e {
            return StoreError::NotFound;
        }
        StoreError::Db(e)
    }
}

/// Expands `$body` once per engine with `$c` bound to the pool or connection.
macro_rules! run {
    ($tx:expr, |$c:ident| $body:expr) => {
        match $tx {
            $crate::Tx::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::Tx::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}
pub(crate) use run;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Db {
    /// Connects to `sqlite:PATH` (created when missing) or `postgres://…`.
    /// Anything else is an error: a typo never silently creates a file.
    pub async fn connect(url: &str) -> crate::Result<Db> {
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(|e| StoreError::BadUrl(e.to_string()))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let pool = SqlitePoolOptions::new().max_connections(8).connect_with(opts).await?;
            Ok(Db::Sqlite(pool))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url).map_err(|e| StoreError::BadUrl(e.to_string()))?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            Ok(Db::Postgres(pool))
        } else {
            Err(StoreError::BadUrl(format!(
                "\"{}\" is neither sqlite:PATH nor postgres://…",
                redact_url(url)
            )))
        }
    }

    pub fn engine(&self) -> Engine {
        match self {
            Db::Sqlite(_) => Engine::Sqlite,
            Db::Postgres(_) => Engine::Postgres,
        }
    }

    pub async fn migrate(&self) -> crate::Result<()> {
        match self {
            Db::Sqlite(p) => SQLITE_MIGRATIONS.run(p).await?,
            Db::Postgres(p) => POSTGRES_MIGRATIONS.run(p).await?,
        }
        crate::hazard_tally::fill_if_empty(self).await?;
        Ok(())
    }

    /// Names of the migrations applied, to report pending ones.
    pub async fn applied_migrations(&self) -> crate::Result<Vec<i64>> {
        let q = "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version";
        Ok(match self {
            Db::Sqlite(p) => sqlx::query_scalar(q).fetch_all(p).await?,
            Db::Postgres(p) => sqlx::query_scalar(q).fetch_all(p).await?,
        })
    }

    pub fn known_migrations(&self) -> Vec<(i64, String)> {
        let m = match self {
            Db::Sqlite(_) => &SQLITE_MIGRATIONS,
            Db::Postgres(_) => &POSTGRES_MIGRATIONS,
        };
        m.iter().map(|m| (m.version, m.description.to_string())).collect()
    }

    /// A write transaction. On SQLite it first waits for this process's
    /// turn to write (one write transaction per file at a time, in the
    /// order asked; readers are not affected), then takes the write lock at
    /// once (`BEGIN IMMEDIATE`), so a read-then-write never fails half-way
    /// with SQLITE_BUSY. Writers in other processes still meet in SQLite's
    /// busy handler. A task that begins a second write transaction while
    /// holding one waits `SQLITE_WAIT` and fails, as it would in SQLite.
    pub async fn begin(&self) -> crate::Result<Tx> {
        Ok(match self {
            Db::Sqlite(p) => {
                let turn = tokio::time::timeout(SQLITE_WAIT, sqlite_writer(p).acquire_owned())
                    .await
                    .map_err(|_| StoreError::Busy)?
                    .map_err(|_| StoreError::Busy)?;
                Tx::Sqlite(SqliteTx { tx: p.begin_with("BEGIN IMMEDIATE").await?, _turn: Some(turn) })
            }
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// A read transaction: one consistent snapshot, no write lock.
    pub async fn read(&self) -> crate::Result<Tx> {
        Ok(match self {
            Db::Sqlite(p) => Tx::Sqlite(SqliteTx { tx: p.begin().await?, _turn: None }),
            Db::Postgres(p) => Tx::Postgres(p.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY").await?),
        })
    }

    /// A cheap round trip, for health checks.
    pub async fn ping(&self) -> crate::Result<()> {
        match self {
            Db::Sqlite(p) => sqlx::query("SELECT 1").execute(p).await?.rows_affected(),
            Db::Postgres(p) => sqlx::query("SELECT 1").execute(p).await?.rows_affected(),
        };
        Ok(())
    }

    /// Columns of every table, normalised to a portable type name, for the
    /// schema-parity test: `(table, column, type, nullable)`. The search
    /// index is engine-specific by design (an FTS5 table on SQLite, a
    /// tsvector column on PostgreSQL) and left out.
    pub async fn schema(&self) -> crate::Result<Vec<(String, String, String, bool)>> {
        let mut out = Vec::new();
        match self {
            Db::Sqlite(p) => {
                let tables: Vec<String> = sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' \
                     AND name NOT LIKE 'hazard_search%' ORDER BY name",
                )
                .fetch_all(p)
                .await?;
                for t in tables {
                    let cols: Vec<(String, String, bool, bool)> = sqlx::query_as(
                        "SELECT name, type, \"notnull\", pk FROM pragma_table_info($1) ORDER BY name",
                    )
                    .bind(&t)
                    .fetch_all(p)
                    .await?;
                    for (name, ty, notnull, pk) in cols {
                        out.push((t.clone(), name, normalise_type(&ty), !(notnull || pk)));
                    }
                }
            }
            Db::Postgres(p) => {
                let cols: Vec<(String, String, String, String)> = sqlx::query_as(
                    "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations' \
                     AND NOT (table_name = 'hazard' AND column_name = 'search') ORDER BY table_name, column_name",
                )
                .fetch_all(p)
                .await?;
                for (t, c, ty, nullable) in cols {
                    out.push((t, c, normalise_type(&ty), nullable == "YES"));
                }
            }
        }
        out.sort();
        Ok(out)
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(p) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }
}

/// Maps each engine's type names onto one vocabulary. SQLite's TEXT stands in
/// for PostgreSQL's dates and times (sqlx stores them as ISO-8601 text), BLOB
/// for UUID.
fn normalise_type(t: &str) -> String {
    match t.to_ascii_lowercase().as_str() {
        "blob" | "uuid" => "uuid",
        "text" | "character varying" | "date" | "timestamp with time zone" => "text",
        "bigint" | "integer" | "int8" | "int4" => "integer",
        "real" | "double precision" => "real",
        "boolean" => "boolean",
        other => return other.to_string(),
    }
    .to_string()
}

/// Hides the password of a database URL for logs and `config print`.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((creds, host)) = rest.rsplit_once('@') {
            let user = creds.split(':').next().unwrap_or_default();
            return format!("{scheme}://{user}:***@{host}");
        }
    url.to_string()
}

impl Tx {
    pub async fn commit(self) -> crate::Result<()> {
        match self {
            Tx::Sqlite(t) => t.tx.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    pub async fn rollback(self) -> crate::Result<()> {
        match self {
            Tx::Sqlite(t) => t.tx.rollback().await?,
            Tx::Postgres(t) => t.rollback().await?,
        }
        Ok(())
    }

    pub fn engine(&self) -> Engine {
        match self {
            Tx::Sqlite(_) => Engine::Sqlite,
            Tx::Postgres(_) => Engine::Postgres,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_never_reach_logs() {
        assert_eq!(redact_url("postgres://bihuan:s3cret@db:5432/x"), "postgres://bihuan:***@db:5432/x");
        assert_eq!(redact_url("sqlite:./bihuan-data/bihuan.db"), "sqlite:./bihuan-data/bihuan.db");
    }
}

impl From<StoreError> for bihuan_domain::DomainError {
    fn from(e: StoreError) -> Self {
        use bihuan_domain::DomainError as E;
        match e {
            StoreError::NotFound => E::not_found("记录", "Record"),
            StoreError::Stale => E::conflict(
                "该记录已被他人修改，请刷新后重试",
                "The record was changed by someone else; reload it and try again",
            ),
            StoreError::Conflict(c) => {
                let (field, zh, en) = if c.contains("credit_code") {
                    ("credit_code", "该统一社会信用代码已被其他单位使用", "Another unit already has this credit code")
                } else if c.contains("username") {
                    ("username", "用户名已存在", "This username is taken")
                } else if c.contains("sibling_name") || c.contains("unit.parent_id") {
                    ("name", "同一上级单位下已有同名单位", "A unit with this name already exists under the same parent")
                } else if c.contains("campaign") && c.contains("code") {
                    ("code", "该编号已存在", "This code is already used")
                } else {
                    ("", "与已有记录冲突", "Conflicts with an existing record")
                };
                let mut err = E::conflict(zh, en);
                if !field.is_empty() {
                    err.fields.push(bihuan_domain::FieldError::new(field, zh, en));
                }
                err
            }
            other => {
                tracing::error!(error = %other, "storage error");
                E::new(bihuan_domain::ErrorCode::Internal, "服务器内部错误，请稍后重试", "Internal server error; please try again later")
            }
        }
    }
}

/// A timestamp as bound into SQL. PostgreSQL gets a native `timestamptz`;
/// SQLite gets fixed-width UTC text (`2026-11-29T10:00:00.000000Z`), so that
/// comparing and ordering the text compares and orders the instants. (sqlx's
/// own SQLite encoding keeps the value's offset and trims the fraction, and
/// then `...:00Z` sorts after `...:00.5Z`.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ts(pub time::OffsetDateTime);

const TS_FORMAT: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

impl Ts {
    pub fn text(&self) -> String {
        self.0.to_offset(time::UtcOffset::UTC).format(TS_FORMAT).unwrap_or_default()
    }
}

impl sqlx::Type<Sqlite> for Ts {
    fn type_info() -> sqlx::sqlite::SqliteTypeInfo {
        <String as sqlx::Type<Sqlite>>::type_info()
    }
}

impl<'q> sqlx::Encode<'q, Sqlite> for Ts {
    fn encode_by_ref(
        &self,
        buf: &mut Vec<sqlx::sqlite::SqliteArgumentValue<'q>>,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <String as sqlx::Encode<'q, Sqlite>>::encode(self.text(), buf)
    }
}

impl sqlx::Type<Postgres> for Ts {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <time::OffsetDateTime as sqlx::Type<Postgres>>::type_info()
    }
}

impl sqlx::Encode<'_, Postgres> for Ts {
    fn encode_by_ref(&self, buf: &mut sqlx::postgres::PgArgumentBuffer) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <time::OffsetDateTime as sqlx::Encode<Postgres>>::encode_by_ref(&self.0, buf)
    }
}

/// `Ts` for an optional timestamp.
pub fn ts_opt(t: Option<time::OffsetDateTime>) -> Option<Ts> {
    t.map(Ts)
}
