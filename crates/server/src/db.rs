//! The two database backends behind one small interface.
//!
//! SQL is written once, with PostgreSQL's `$1` placeholders; for SQLite each
//! `$N` becomes `?N` (SQLite's explicit numbered parameter), so both backends
//! bind the same parameters by the same numbers. Values are limited to
//! integers, text and NULL: the schema stores times as Unix seconds and JSON
//! as text, which keeps the two backends' types identical.
//!
//! SQLite goes through `rusqlite` (the workspace already links SQLite through
//! it, and only one crate may link the native library): one writer
//! connection behind an async mutex for transactions and every statement
//! that is not a plain `SELECT`, and a few read-only connections for plain
//! `SELECT`s outside transactions; each call runs on the blocking pool. PostgreSQL goes
//! through `sqlx`'s pool.

use std::sync::Arc;

use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::{Column, Row as _, TypeInfo};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::StoreError;

/// One bound value or one column value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    /// NULL (an integer NULL when bound).
    Null,
    /// A text NULL, for binding to text columns on PostgreSQL.
    NullText,
    Int(i64),
    Text(String),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Value::Null, Value::Int)
    }
}
impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Self {
        v.map_or(Value::NullText, Into::into)
    }
}

/// One result row.
#[derive(Debug, Clone)]
pub(crate) struct Row(Vec<Value>);

impl Row {
    pub(crate) fn int(&self, i: usize) -> Result<i64, StoreError> {
        match self.0.get(i) {
            Some(Value::Int(v)) => Ok(*v),
            other => Err(StoreError::Corrupt(format!(
                "column {i}: expected integer, got {other:?}"
            ))),
        }
    }
    pub(crate) fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        match self.0.get(i) {
            Some(Value::Null | Value::NullText) => Ok(None),
            _ => self.int(i).map(Some),
        }
    }
    pub(crate) fn text(&self, i: usize) -> Result<String, StoreError> {
        match self.0.get(i) {
            Some(Value::Text(v)) => Ok(v.clone()),
            other => Err(StoreError::Corrupt(format!(
                "column {i}: expected text, got {other:?}"
            ))),
        }
    }
    pub(crate) fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        match self.0.get(i) {
            Some(Value::Null | Value::NullText) => Ok(None),
            _ => self.text(i).map(Some),
        }
    }
}

/// Which database, and its connection(s).
#[derive(Clone)]
pub(crate) enum Db {
    /// The writer connection (every transaction and every statement that is
    /// not a plain `SELECT`), and a few read-only connections for plain
    /// `SELECT`s outside transactions, so that pages can read while a
    /// submission is being written (WAL mode lets readers and one writer run
    /// at once; each read sees every transaction committed before it began).
    Sqlite(Arc<Mutex<rusqlite::Connection>>, Arc<SqliteReaders>),
    Postgres(PgPool),
}

/// The read-only SQLite connections, taken round-robin.
pub(crate) struct SqliteReaders {
    conns: Vec<Arc<Mutex<rusqlite::Connection>>>,
    next: std::sync::atomic::AtomicUsize,
}

/// How many read connections a SQLite database gets.
const SQLITE_READERS: usize = 4;

impl SqliteReaders {
    /// A free reader if there is one, else the next one in turn.
    async fn take(&self) -> Option<OwnedMutexGuard<rusqlite::Connection>> {
        for c in &self.conns {
            if let Ok(guard) = c.clone().try_lock_owned() {
                return Some(guard);
            }
        }
        let n = self.conns.len();
        if n == 0 {
            return None;
        }
        let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % n;
        match self.conns.get(i) {
            Some(c) => Some(c.clone().lock_owned().await),
            None => None,
        }
    }
}

/// True for a statement that only reads (`SELECT …`): it may go to a reader.
fn is_plain_select(sql: &str) -> bool {
    sql.trim_start()
        .get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("select ") || p.eq_ignore_ascii_case("select\n"))
}

/// An open transaction. Dropped without [`Tx::commit`], it rolls back.
pub(crate) enum Tx {
    Sqlite(Option<OwnedMutexGuard<rusqlite::Connection>>),
    Postgres(Option<sqlx::Transaction<'static, sqlx::Postgres>>),
}

impl Drop for Tx {
    fn drop(&mut self) {
        if let Tx::Sqlite(Some(conn)) = self {
            if !conn.is_autocommit() {
                // A short local call; nothing to report if it fails, the next
                // BEGIN would fail loudly instead.
                let _ = conn.execute_batch("ROLLBACK");
            }
        }
    }
}

fn sqlite_sql(sql: &str) -> String {
    sql.replace('$', "?")
}

fn sqlite_params(params: &[Value]) -> Vec<rusqlite::types::Value> {
    params
        .iter()
        .map(|v| match v {
            Value::Null | Value::NullText => rusqlite::types::Value::Null,
            Value::Int(i) => rusqlite::types::Value::Integer(*i),
            Value::Text(s) => rusqlite::types::Value::Text(s.clone()),
        })
        .collect()
}

fn sqlite_query(
    conn: &rusqlite::Connection,
    sql: &str,
    params: &[Value],
) -> Result<Vec<Row>, StoreError> {
    let mut stmt = conn.prepare_cached(&sqlite_sql(sql))?;
    let n = stmt.column_count();
    let mut rows = stmt.query(rusqlite::params_from_iter(sqlite_params(params)))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let mut vals = Vec::with_capacity(n);
        for i in 0..n {
            vals.push(match r.get_ref(i)? {
                rusqlite::types::ValueRef::Null => Value::Null,
                rusqlite::types::ValueRef::Integer(v) => Value::Int(v),
                rusqlite::types::ValueRef::Text(t) => {
                    Value::Text(String::from_utf8_lossy(t).into_owned())
                }
                other => {
                    return Err(StoreError::Corrupt(format!(
                        "unexpected SQLite value {other:?}"
                    )))
                }
            });
        }
        out.push(Row(vals));
    }
    Ok(out)
}

fn pg_bind<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    params: &'q [Value],
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    for p in params {
        q = match p {
            Value::Null => q.bind(None::<i64>),
            Value::NullText => q.bind(None::<String>),
            Value::Int(i) => q.bind(*i),
            Value::Text(s) => q.bind(s.as_str()),
        };
    }
    q
}

fn pg_row(r: &PgRow) -> Result<Row, StoreError> {
    let mut vals = Vec::with_capacity(r.len());
    for (i, col) in r.columns().iter().enumerate() {
        let v = match col.type_info().name() {
            "INT8" => r
                .try_get::<Option<i64>, _>(i)?
                .map_or(Value::Null, Value::Int),
            "INT4" => r
                .try_get::<Option<i32>, _>(i)?
                .map_or(Value::Null, |v| Value::Int(v.into())),
            "INT2" => r
                .try_get::<Option<i16>, _>(i)?
                .map_or(Value::Null, |v| Value::Int(v.into())),
            "VOID" => Value::Null,
            "BOOL" => r
                .try_get::<Option<bool>, _>(i)?
                .map_or(Value::Null, |v| Value::Int(v.into())),
            _ => r
                .try_get::<Option<String>, _>(i)?
                .map_or(Value::Null, Value::Text),
        };
        vals.push(v);
    }
    Ok(Row(vals))
}

impl Db {
    /// Opens (creating if need be) a SQLite database file.
    pub(crate) async fn open_sqlite(path: std::path::PathBuf) -> Result<Db, StoreError> {
        let (conn, readers) = tokio::task::spawn_blocking(move || -> Result<_, StoreError> {
            let conn = rusqlite::Connection::open(&path)?;
            conn.execute_batch(
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;",
            )?;
            let mut readers = Vec::with_capacity(SQLITE_READERS);
            for _ in 0..SQLITE_READERS {
                let r = rusqlite::Connection::open(&path)?;
                // A reader can never write, whatever statement reaches it.
                r.execute_batch("PRAGMA busy_timeout=5000; PRAGMA query_only=ON;")?;
                readers.push(Arc::new(Mutex::new(r)));
            }
            Ok((conn, readers))
        })
        .await??;
        Ok(Db::Sqlite(
            Arc::new(Mutex::new(conn)),
            Arc::new(SqliteReaders {
                conns: readers,
                next: std::sync::atomic::AtomicUsize::new(0),
            }),
        ))
    }

    /// Connects to PostgreSQL.
    pub(crate) async fn open_postgres(url: &str) -> Result<Db, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .connect(url)
            .await?;
        Ok(Db::Postgres(pool))
    }

    /// `"sqlite"` or `"postgres"`.
    pub(crate) fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(..) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Runs one statement outside any explicit transaction.
    pub(crate) async fn query(
        &self,
        sql: &'static str,
        params: Vec<Value>,
    ) -> Result<Vec<Row>, StoreError> {
        match self {
            Db::Sqlite(conn, readers) => {
                let reader = if is_plain_select(sql) {
                    readers.take().await
                } else {
                    None
                };
                let conn = match reader {
                    Some(r) => r,
                    None => conn.clone().lock_owned().await,
                };
                tokio::task::spawn_blocking(move || {
                    // A transaction abandoned mid-call (its future dropped)
                    // is rolled back here rather than joined.
                    if !conn.is_autocommit() {
                        conn.execute_batch("ROLLBACK")?;
                    }
                    sqlite_query(&conn, sql, &params)
                })
                .await?
            }
            Db::Postgres(pool) => {
                let rows = pg_bind(sqlx::query(sql), &params).fetch_all(pool).await?;
                rows.iter().map(pg_row).collect()
            }
        }
    }

    /// Begins a transaction (on SQLite, `BEGIN IMMEDIATE`: it takes the write lock at once).
    pub(crate) async fn begin(&self) -> Result<Tx, StoreError> {
        match self {
            Db::Sqlite(conn, _) => {
                let conn = conn.clone().lock_owned().await;
                let conn = tokio::task::spawn_blocking(move || -> Result<_, StoreError> {
                    if !conn.is_autocommit() {
                        conn.execute_batch("ROLLBACK")?;
                    }
                    conn.execute_batch("BEGIN IMMEDIATE")?;
                    Ok(conn)
                })
                .await??;
                Ok(Tx::Sqlite(Some(conn)))
            }
            Db::Postgres(pool) => Ok(Tx::Postgres(Some(pool.begin().await?))),
        }
    }
}

impl Tx {
    /// Runs one statement inside the transaction.
    pub(crate) async fn query(
        &mut self,
        sql: &'static str,
        params: Vec<Value>,
    ) -> Result<Vec<Row>, StoreError> {
        match self {
            Tx::Sqlite(slot) => {
                let conn = slot
                    .take()
                    .ok_or_else(|| StoreError::Corrupt("transaction already finished".into()))?;
                let (conn, res) = tokio::task::spawn_blocking(move || {
                    let res = sqlite_query(&conn, sql, &params);
                    (conn, res)
                })
                .await?;
                *slot = Some(conn);
                res
            }
            Tx::Postgres(slot) => {
                let tx = slot
                    .as_mut()
                    .ok_or_else(|| StoreError::Corrupt("transaction already finished".into()))?;
                let rows = pg_bind(sqlx::query(sql), &params)
                    .fetch_all(&mut **tx)
                    .await?;
                rows.iter().map(pg_row).collect()
            }
        }
    }

    /// Runs one statement once for each parameter list, inside the
    /// transaction (bulk inserts at ingest). On SQLite the whole batch is one
    /// call on the blocking pool with one prepared statement.
    pub(crate) async fn query_many(
        &mut self,
        sql: &'static str,
        batch: Vec<Vec<Value>>,
    ) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        match self {
            Tx::Sqlite(slot) => {
                let conn = slot
                    .take()
                    .ok_or_else(|| StoreError::Corrupt("transaction already finished".into()))?;
                let (conn, res) = tokio::task::spawn_blocking(move || {
                    let res = (|| -> Result<(), StoreError> {
                        let mut stmt = conn.prepare_cached(&sqlite_sql(sql))?;
                        for params in &batch {
                            stmt.execute(rusqlite::params_from_iter(sqlite_params(params)))?;
                        }
                        Ok(())
                    })();
                    (conn, res)
                })
                .await?;
                *slot = Some(conn);
                res
            }
            Tx::Postgres(slot) => {
                let tx = slot
                    .as_mut()
                    .ok_or_else(|| StoreError::Corrupt("transaction already finished".into()))?;
                for params in &batch {
                    pg_bind(sqlx::query(sql), params).execute(&mut **tx).await?;
                }
                Ok(())
            }
        }
    }

    /// Runs a script of several statements without parameters (migrations).
    pub(crate) async fn batch(&mut self, sql: &'static str) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(slot) => {
                let conn = slot
                    .take()
                    .ok_or_else(|| StoreError::Corrupt("transaction already finished".into()))?;
                let (conn, res) = tokio::task::spawn_blocking(move || {
                    let res = conn.execute_batch(sql);
                    (conn, res)
                })
                .await?;
                *slot = Some(conn);
                Ok(res?)
            }
            Tx::Postgres(slot) => {
                let tx = slot
                    .as_mut()
                    .ok_or_else(|| StoreError::Corrupt("transaction already finished".into()))?;
                sqlx::raw_sql(sql).execute(&mut **tx).await?;
                Ok(())
            }
        }
    }

    /// Commits.
    pub(crate) async fn commit(mut self) -> Result<(), StoreError> {
        match &mut self {
            Tx::Sqlite(slot) => {
                let conn = slot
                    .take()
                    .ok_or_else(|| StoreError::Corrupt("transaction already finished".into()))?;
                let (conn, res) = tokio::task::spawn_blocking(move || {
                    let res = conn.execute_batch("COMMIT");
                    (conn, res)
                })
                .await?;
                *slot = Some(conn);
                Ok(res?)
            }
            Tx::Postgres(slot) => {
                let tx = slot
                    .take()
                    .ok_or_else(|| StoreError::Corrupt("transaction already finished".into()))?;
                Ok(tx.commit().await?)
            }
        }
    }
}

/// The migrations, in order, for each backend: (version, name, SQL).
const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../migrations/sqlite/0001_initial.sql"),
    ),
    (
        2,
        "assets",
        include_str!("../migrations/sqlite/0002_assets.sql"),
    ),
    (
        3,
        "auth",
        include_str!("../migrations/sqlite/0003_auth.sql"),
    ),
    (
        4,
        "findings",
        include_str!("../migrations/sqlite/0004_findings.sql"),
    ),
    (
        5,
        "incidents",
        include_str!("../migrations/sqlite/0005_incidents.sql"),
    ),
    (
        6,
        "certification",
        include_str!("../migrations/sqlite/0006_certification.sql"),
    ),
];
const POSTGRES_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../migrations/postgres/0001_initial.sql"),
    ),
    (
        2,
        "assets",
        include_str!("../migrations/postgres/0002_assets.sql"),
    ),
    (
        3,
        "auth",
        include_str!("../migrations/postgres/0003_auth.sql"),
    ),
    (
        4,
        "findings",
        include_str!("../migrations/postgres/0004_findings.sql"),
    ),
    (
        5,
        "incidents",
        include_str!("../migrations/postgres/0005_incidents.sql"),
    ),
    (
        6,
        "certification",
        include_str!("../migrations/postgres/0006_certification.sql"),
    ),
];

/// Applies every migration not yet applied, each in its own transaction.
/// On PostgreSQL an advisory lock makes concurrent starts of several
/// `serve` processes safe; on SQLite `BEGIN IMMEDIATE` does the same.
pub(crate) async fn migrate(db: &Db) -> Result<Vec<i64>, StoreError> {
    let list = match db {
        Db::Sqlite(..) => SQLITE_MIGRATIONS,
        Db::Postgres(_) => POSTGRES_MIGRATIONS,
    };
    let mut applied = Vec::new();
    let mut tx = db.begin().await?;
    if let Db::Postgres(_) = db {
        tx.query("SELECT pg_advisory_xact_lock(7243001)", vec![])
            .await?;
    }
    tx.batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .await?;
    let done: Vec<i64> = tx
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            vec![],
        )
        .await?
        .iter()
        .map(|r| r.int(0))
        .collect::<Result<_, _>>()?;
    for (version, name, sql) in list {
        if done.contains(version) {
            continue;
        }
        tx.batch(sql).await?;
        tx.query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            vec![
                Value::Int(*version),
                Value::from(*name),
                Value::Int(crate::now()),
            ],
        )
        .await?;
        applied.push(*version);
    }
    tx.commit().await?;
    Ok(applied)
}
