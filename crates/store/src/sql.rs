//! Queries assembled at run time: a list of typed parameters bound in order
//! on either engine.

use crate::{Engine, Ts};
use time::Date;
use uuid::Uuid;

/// One bound parameter.
#[derive(Clone, Debug)]
pub(crate) enum P {
    Text(String),
    Int(i64),
    Uuid(Uuid),
    Date(Date),
    Ts(Ts),
    Bool(bool),
    /// Nullable values keep their type, so that PostgreSQL sees a typed NULL.
    OText(Option<String>),
    OUuid(Option<Uuid>),
    ODate(Option<Date>),
    OTs(Option<Ts>),
}

/// Parameters and the SQL that refers to them as `$1`, `$2`, ….
#[derive(Default)]
pub(crate) struct Args {
    pub params: Vec<P>,
}

impl Args {
    /// Adds a parameter and returns its placeholder.
    pub fn push(&mut self, p: P) -> String {
        self.params.push(p);
        format!("${}", self.params.len())
    }

    /// Placeholders for a list, e.g. `$3, $4, $5`.
    pub fn list(&mut self, ps: impl IntoIterator<Item = P>) -> String {
        ps.into_iter().map(|p| self.push(p)).collect::<Vec<_>>().join(", ")
    }
}

/// How many values an `IN (…)` list holds. sqlx binds SQLite parameters by
/// name, scanning the statement's names for each one, so a statement with
/// *p* parameters costs O(p²) to bind (docs/performance.md §8): SQLite gets
/// short lists, PostgreSQL long ones (fewer round trips).
pub(crate) fn in_list_chunk(engine: Engine) -> usize {
    match engine {
        Engine::Sqlite => 100,
        Engine::Postgres => 500,
    }
}

/// Codes of a closed vocabulary (from our enums, never from input) as SQL
/// literals, `'a', 'b'`: unlike parameters, the planner can match them
/// against the state lists of partial indexes.
pub(crate) fn sql_literals(vals: impl IntoIterator<Item = &'static str>) -> String {
    vals.into_iter().map(|v| format!("'{}'", v.replace('\'', ""))).collect::<Vec<_>>().join(", ")
}

/// Binds every parameter of `$args` to `$q` (a `sqlx::query*` builder),
/// inside one arm of `run!`.
macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for p in &$args.params {
            q = match p {
                $crate::sql::P::Text(v) => q.bind(v.clone()),
                $crate::sql::P::Int(v) => q.bind(*v),
                $crate::sql::P::Uuid(v) => q.bind(*v),
                $crate::sql::P::Date(v) => q.bind(*v),
                $crate::sql::P::Ts(v) => q.bind(*v),
                $crate::sql::P::Bool(v) => q.bind(*v),
                $crate::sql::P::OText(v) => q.bind(v.clone()),
                $crate::sql::P::OUuid(v) => q.bind(*v),
                $crate::sql::P::ODate(v) => q.bind(*v),
                $crate::sql::P::OTs(v) => q.bind(*v),
            };
        }
        q
    }};
}
pub(crate) use bind_all;

/// The half-open range of materialised paths inside a subtree:
/// `path >= lo AND path < hi`. Paths are `/hex/…/`, so the subtree of `p`
/// is every path that starts with `p`, and `hi` is `p` with its last
/// character (`/`) replaced by the next one (`0`). A range, unlike LIKE,
/// uses a plain B-tree index on both engines (PostgreSQL columns are
/// `COLLATE "C"`).
pub(crate) fn subtree_range(p: &str) -> (String, String) {
    let mut hi = p.to_string();
    if hi.ends_with('/') {
        hi.pop();
        hi.push('0');
    } else {
        hi.push('\u{10FFFF}');
    }
    (p.to_string(), hi)
}
