//! The server's state, in SQLite.
//!
//! Resources are JSON documents keyed by partition (a region, or `global` for IAM and Route 53),
//! kind (for EC2 the describe-* top-level key: `Vpcs`, `Subnets`, ...) and id. Every mutating
//! call runs in one `BEGIN IMMEDIATE` transaction, and the database runs in WAL mode with
//! `synchronous=FULL`: once a call is acknowledged it survives `kill -9`, and a call that failed
//! half-way left nothing behind. One connection behind a mutex serialises writers, which is what
//! SQLite does anyway and keeps concurrent clients from losing each other's changes.

use std::cell::Cell;
use std::path::Path;

use parking_lot::ReentrantMutex;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use crate::error::ApiError;

/// The partition of global services (IAM, Route 53) and of account-wide records.
pub const GLOBAL: &str = "global";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS resources (
    partition TEXT NOT NULL,
    kind      TEXT NOT NULL,
    id        TEXT NOT NULL,
    doc       TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    PRIMARY KEY (partition, kind, id)
);
CREATE TABLE IF NOT EXISTS idempotency (
    partition    TEXT NOT NULL,
    action       TEXT NOT NULL,
    token        TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response     TEXT NOT NULL,
    PRIMARY KEY (partition, action, token)
);
CREATE TABLE IF NOT EXISTS events (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    partition TEXT NOT NULL,
    time_ms   INTEGER NOT NULL,
    name      TEXT NOT NULL,
    doc       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_time ON events (partition, time_ms);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

/// The database.
///
/// The lock is re-entrant: a handler inside [`Store::write`] may call code that reads the store
/// again on the same thread (the IAM authorizer reads the caller's policies), and that read runs
/// inside the open transaction instead of waiting for itself.
#[derive(Debug)]
pub struct Store {
    conn: ReentrantMutex<Connection>,
}

/// One transaction; every change made through it commits together or not at all.
pub struct Tx<'c> {
    conn: &'c Connection,
}

thread_local! {
    /// How many [`Store::write`]/[`Store::read`] calls this thread is inside.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Ends the outermost transaction of a thread: rolled back unless committed, also when the
/// handler panics, so the connection never stays inside a half-done transaction.
struct Outermost<'c> {
    conn: &'c Connection,
    open: bool,
}

impl Outermost<'_> {
    fn begin<'c>(conn: &'c Connection, sql: &str) -> Result<Outermost<'c>, ApiError> {
        conn.execute_batch(sql).map_err(db)?;
        Ok(Outermost { conn, open: true })
    }

    fn finish(mut self, commit: bool) -> Result<(), ApiError> {
        self.open = false;
        let sql = if commit { "COMMIT" } else { "ROLLBACK" };
        self.conn.execute_batch(sql).map_err(db)
    }
}

impl Drop for Outermost<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

struct Nesting;

impl Nesting {
    fn enter() -> (Nesting, bool) {
        let outer = DEPTH.with(|d| {
            let n = d.get();
            d.set(n + 1);
            n == 0
        });
        (Nesting, outer)
    }
}

impl Drop for Nesting {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get() - 1));
    }
}

fn db(e: rusqlite::Error) -> ApiError {
    ApiError::internal(format!("state database: {e}"))
}

fn decode(doc: &str) -> Result<Value, ApiError> {
    serde_json::from_str(doc).map_err(|e| ApiError::internal(format!("stored document: {e}")))
}

impl Store {
    /// Opens (creating if needed) the database at `path`, or an in-memory one for `None`.
    pub fn open(path: Option<&Path>) -> Result<Store, ApiError> {
        let conn = match path {
            Some(p) => Connection::open(p),
            None => Connection::open_in_memory(),
        }
        .map_err(db)?;
        // WAL lets readers run beside the writer; FULL syncs the WAL on every commit, which is
        // what makes an acknowledged call durable across a crash of the process or the machine.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(db)?;
        conn.execute_batch(SCHEMA).map_err(db)?;
        Ok(Store {
            conn: ReentrantMutex::new(conn),
        })
    }

    /// Runs `f` in a write transaction: committed when `f` returns `Ok`, rolled back otherwise.
    /// Called inside another `write` on the same thread, `f` joins that transaction.
    pub fn write<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T, ApiError>) -> Result<T, ApiError> {
        self.run("BEGIN IMMEDIATE", f)
    }

    /// Runs `f` on a consistent view of the state. Inside a `write` on the same thread it sees
    /// that transaction's changes.
    pub fn read<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T, ApiError>) -> Result<T, ApiError> {
        self.run("BEGIN DEFERRED", f)
    }

    fn run<T>(
        &self,
        begin: &str,
        f: impl FnOnce(&Tx<'_>) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let conn = self.conn.lock();
        let (_nesting, outermost) = Nesting::enter();
        if !outermost {
            return f(&Tx { conn: &conn });
        }
        let tx = Outermost::begin(&conn, begin)?;
        let out = f(&Tx { conn: &conn });
        tx.finish(out.is_ok())?;
        out
    }
}

impl Tx<'_> {
    /// One resource.
    pub fn get(&self, partition: &str, kind: &str, id: &str) -> Result<Option<Value>, ApiError> {
        self.conn
            .query_row(
                "SELECT doc FROM resources WHERE partition = ?1 AND kind = ?2 AND id = ?3",
                params![partition, kind, id],
                |r| r.get::<_, String>(0),
            )
            .optional()
            .map_err(db)?
            .map(|d| decode(&d))
            .transpose()
    }

    /// Every resource of one kind in a partition, oldest first.
    pub fn list(&self, partition: &str, kind: &str) -> Result<Vec<Value>, ApiError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT doc FROM resources WHERE partition = ?1 AND kind = ?2 ORDER BY seq",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map(params![partition, kind], |r| r.get::<_, String>(0))
            .map_err(db)?;
        rows.map(|r| decode(&r.map_err(db)?)).collect()
    }

    /// Every kind stored in a partition, with its resources oldest first (what a region's data
    /// plane is compiled from).
    pub fn list_all(&self, partition: &str) -> Result<Vec<(String, Vec<Value>)>, ApiError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT kind, doc FROM resources WHERE partition = ?1 ORDER BY seq")
            .map_err(db)?;
        let rows = stmt
            .query_map(params![partition], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(db)?;
        let mut out: Vec<(String, Vec<Value>)> = Vec::new();
        for row in rows {
            let (kind, doc) = row.map_err(db)?;
            let doc = decode(&doc)?;
            match out.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, docs)) => docs.push(doc),
                None => out.push((kind, vec![doc])),
            }
        }
        Ok(out)
    }

    /// Every partition that holds a resource.
    pub fn partitions(&self) -> Result<Vec<String>, ApiError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT DISTINCT partition FROM resources ORDER BY partition")
            .map_err(db)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(db)?;
        rows.map(|r| r.map_err(db)).collect()
    }

    /// Creates or replaces a resource; a replaced one keeps its place in listing order.
    pub fn put(&self, partition: &str, kind: &str, id: &str, doc: &Value) -> Result<(), ApiError> {
        self.conn
            .execute(
                "INSERT INTO resources (partition, kind, id, doc, seq)
                 VALUES (?1, ?2, ?3, ?4, (SELECT COALESCE(MAX(seq), 0) + 1 FROM resources))
                 ON CONFLICT (partition, kind, id) DO UPDATE SET doc = excluded.doc",
                params![partition, kind, id, doc.to_string()],
            )
            .map_err(db)?;
        Ok(())
    }

    /// Removes a resource; `false` when there was none.
    pub fn delete(&self, partition: &str, kind: &str, id: &str) -> Result<bool, ApiError> {
        let n = self
            .conn
            .execute(
                "DELETE FROM resources WHERE partition = ?1 AND kind = ?2 AND id = ?3",
                params![partition, kind, id],
            )
            .map_err(db)?;
        Ok(n > 0)
    }

    /// A remembered `ClientToken`: the hash of the parameters first sent with it, and the
    /// answer given then.
    pub fn token(
        &self,
        partition: &str,
        action: &str,
        token: &str,
    ) -> Result<Option<(String, String)>, ApiError> {
        self.conn
            .query_row(
                "SELECT request_hash, response FROM idempotency
                 WHERE partition = ?1 AND action = ?2 AND token = ?3",
                params![partition, action, token],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db)
    }

    /// Remembers a `ClientToken` with the parameters' hash and the answer.
    pub fn put_token(
        &self,
        partition: &str,
        action: &str,
        token: &str,
        request_hash: &str,
        response: &str,
    ) -> Result<(), ApiError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO idempotency VALUES (?1, ?2, ?3, ?4, ?5)",
                params![partition, action, token, request_hash, response],
            )
            .map_err(db)?;
        Ok(())
    }

    /// Appends an event (a CloudTrail record) to a partition's history.
    pub fn push_event(
        &self,
        partition: &str,
        time_ms: i64,
        name: &str,
        doc: &Value,
    ) -> Result<(), ApiError> {
        self.conn
            .execute(
                "INSERT INTO events (partition, time_ms, name, doc) VALUES (?1, ?2, ?3, ?4)",
                params![partition, time_ms, name, doc.to_string()],
            )
            .map_err(db)?;
        Ok(())
    }

    /// A partition's events with `from_ms <= time < to_ms`, newest first, after skipping
    /// `skip`, at most `limit`.
    pub fn events(
        &self,
        partition: &str,
        from_ms: i64,
        to_ms: i64,
        skip: usize,
        limit: usize,
    ) -> Result<Vec<Value>, ApiError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT doc FROM events WHERE partition = ?1 AND time_ms >= ?2 AND time_ms < ?3
                 ORDER BY seq DESC LIMIT ?4 OFFSET ?5",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map(
                params![partition, from_ms, to_ms, limit as i64, skip as i64],
                |r| r.get::<_, String>(0),
            )
            .map_err(db)?;
        rows.map(|r| decode(&r.map_err(db)?)).collect()
    }

    /// A server-wide setting (the root credentials, the schema version).
    pub fn meta(&self, key: &str) -> Result<Option<String>, ApiError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| {
                r.get(0)
            })
            .optional()
            .map_err(db)
    }

    /// Sets a server-wide setting.
    pub fn put_meta(&self, key: &str, value: &str) -> Result<(), ApiError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO meta VALUES (?1, ?2)",
                params![key, value],
            )
            .map_err(db)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn failed_writes_leave_nothing() {
        let s = Store::open(None).unwrap();
        s.write(|t| t.put("us-east-1", "Vpcs", "vpc-1", &json!({"VpcId": "vpc-1"})))
            .unwrap();
        let err = s.write(|t| {
            t.put("us-east-1", "Vpcs", "vpc-2", &json!({"VpcId": "vpc-2"}))?;
            Err::<(), _>(ApiError::client("VpcLimitExceeded", "too many"))
        });
        assert_eq!(err.unwrap_err().code, "VpcLimitExceeded");
        let vpcs = s.read(|t| t.list("us-east-1", "Vpcs")).unwrap();
        assert_eq!(vpcs, vec![json!({"VpcId": "vpc-1"})]);
    }

    #[test]
    fn nested_calls_join_the_open_transaction() {
        let s = Store::open(None).unwrap();
        s.write(|t| {
            t.put("r", "Vpcs", "a", &json!(1))?;
            // What the authorizer does: read again on the same thread, mid-transaction.
            let seen = s.read(|t2| t2.get("r", "Vpcs", "a"))?;
            assert_eq!(seen, Some(json!(1)));
            s.write(|t2| t2.put("r", "Vpcs", "b", &json!(2)))
        })
        .unwrap();
        assert_eq!(s.read(|t| t.list("r", "Vpcs")).unwrap().len(), 2);
    }

    #[test]
    fn a_panicking_handler_rolls_back() {
        let s = Store::open(None).unwrap();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = s.write(|t| {
                t.put("r", "Vpcs", "a", &json!(1))?;
                panic!("handler bug");
                #[allow(unreachable_code)]
                Ok(())
            });
        }));
        assert!(r.is_err());
        assert_eq!(
            s.read(|t| t.list("r", "Vpcs")).unwrap(),
            Vec::<Value>::new()
        );
        s.write(|t| t.put("r", "Vpcs", "b", &json!(2))).unwrap();
    }

    #[test]
    fn replace_keeps_order_and_delete_reports() {
        let s = Store::open(None).unwrap();
        s.write(|t| {
            t.put("r", "Vpcs", "a", &json!(1))?;
            t.put("r", "Vpcs", "b", &json!(2))?;
            t.put("r", "Vpcs", "a", &json!(3))
        })
        .unwrap();
        assert_eq!(
            s.read(|t| t.list("r", "Vpcs")).unwrap(),
            vec![json!(3), json!(2)]
        );
        assert!(s.write(|t| t.delete("r", "Vpcs", "a")).unwrap());
        assert!(!s.write(|t| t.delete("r", "Vpcs", "a")).unwrap());
    }

    #[test]
    fn committed_state_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        {
            let s = Store::open(Some(&path)).unwrap();
            s.write(|t| {
                t.put(
                    "eu-west-1",
                    "Subnets",
                    "subnet-1",
                    &json!({"SubnetId": "subnet-1"}),
                )?;
                t.push_event(
                    "eu-west-1",
                    5,
                    "CreateSubnet",
                    &json!({"eventName": "CreateSubnet"}),
                )
            })
            .unwrap();
        }
        let s = Store::open(Some(&path)).unwrap();
        let all = s.read(|t| t.list_all("eu-west-1")).unwrap();
        assert_eq!(all[0].0, "Subnets");
        let ev = s.read(|t| t.events("eu-west-1", 0, 10, 0, 10)).unwrap();
        assert_eq!(ev[0]["eventName"], "CreateSubnet");
    }
}
