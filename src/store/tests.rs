//! The writer never commits half of a write: a failing op is rolled back whole. Each test
//! runs on SQLite and on PostgreSQL (see `testdb`).

use std::str::FromStr;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::ConnectOptions;

use super::testdb::{self, each};
use super::*;
use crate::model::Job;

fn history(comment: &str) -> HistoryRow {
    HistoryRow {
        level: "JobLevel".into(),
        time: 1,
        body: format!(
            r#"{{"Type":"JobLevel","JobID":"j","NewVersion":1,"Comment":"{comment}","Time":"2026-01-01T00:00:00Z"}}"#
        ),
    }
}

fn new_job(id: &str, nonce: Option<&str>) -> NewJob {
    NewJob {
        id: id.into(),
        client_id: "c".into(),
        created_at: 1,
        job_json: serde_json::to_string(&Job::default()).unwrap(),
        state: "New".into(),
        version: 1,
        history: history("Job created"),
        engine: "Noop".into(),
        executions: 1,
        placement: "{}".into(),
        nonce: nonce.map(|n| NewNonce {
            client_id: "c".into(),
            nonce: n.into(),
            route: NonceRoute::Submit,
            job_id: Some(id.into()),
            expires_at: 10,
        }),
    }
}

/// A stored ExecutionState as the service writes it.
fn execution_body(id: &str) -> String {
    format!(
        r#"{{"JobID":"j","NodeId":"n-1","ComputeReference":"{id}","State":"Completed","AcceptedAskForBid":true,"Status":"","VerificationResult":{{"Complete":true,"Result":true}},"PublishedResults":{{}},"RunOutput":{{"stdout":"","stdouttruncated":false,"stderr":"","stderrtruncated":false,"exitCode":0,"runnerError":""}},"Version":2,"CreateTime":"2026-11-23T19:59:12Z","UpdateTime":"2026-11-23T19:59:12Z"}}"#
    )
}

fn execution(id: &str, ordinal: i64) -> ExecutionRow {
    ExecutionRow {
        id: id.into(),
        ordinal,
        state: "BidAccepted".into(),
        version: 1,
        body: execution_body(id),
        node_id: "n-1".into(),
    }
}

/// A commit that updates the job row, then fails on its second execution (two
/// executions at one ordinal).
fn failing_commit(job: &str) -> Commit {
    Commit {
        job_id: job.into(),
        job: Some(JobRowUpdate {
            state: "InProgress".into(),
            version: 2,
            update_time: 2,
            timeout_at: None,
        }),
        executions: vec![execution("e-1", 0), execution("e-2", 0)],
        history: vec![history("started")],
        nonce: None,
    }
}

#[tokio::test]
async fn a_failing_commit_alone_leaves_nothing_behind() {
    for super::testdb::TestStore { label, store, .. } in &each().await {
        assert_eq!(
            store.insert_job(new_job("j", None)).await.unwrap(),
            Inserted::Created
        );
        assert!(store.commit(failing_commit("j")).await.is_err(), "{label}");
        let job = store.job("j").await.unwrap().unwrap();
        assert_eq!(
            job.state.version, 1,
            "{label}: the job row update was rolled back"
        );
        assert!(job.state.executions.is_empty(), "{label}");
        assert_eq!(store.history("j").await.unwrap().len(), 1, "{label}");
    }
}

#[tokio::test]
async fn a_failing_commit_in_a_batch_is_rolled_back_and_the_others_commit() {
    for t in &each().await {
        a_failing_commit_in_a_batch_is_rolled_back_and_the_others_commit_on(&t.store).await;
    }
}

async fn a_failing_commit_in_a_batch_is_rolled_back_and_the_others_commit_on(store: &Store) {
    store.insert_job(new_job("j", None)).await.unwrap();
    let (bad, good) = tokio::join!(
        store.commit(failing_commit("j")),
        store.insert_job(new_job("k", Some("n")))
    );
    assert!(bad.is_err());
    assert_eq!(good.unwrap(), Inserted::Created);
    assert_eq!(store.job("j").await.unwrap().unwrap().state.version, 1);
    assert!(store.job("k").await.unwrap().is_some());
    // The nonce was recorded with its job: a repeat is a duplicate, another route's use
    // of it is refused.
    assert_eq!(
        store.insert_job(new_job("k2", Some("n"))).await.unwrap(),
        Inserted::Duplicate { job_id: "k".into() }
    );
    let mut cancel = failing_commit("j");
    cancel.executions.clear();
    cancel.nonce = Some(NewNonce {
        client_id: "c".into(),
        nonce: "n".into(),
        route: NonceRoute::Cancel,
        job_id: Some("j".into()),
        expires_at: 10,
    });
    assert!(matches!(
        store.commit(cancel).await,
        Err(StoreError::NonceReused { .. })
    ));
    assert_eq!(store.job("j").await.unwrap().unwrap().state.version, 1);
    assert_eq!(store.expire_nonces(11).await.unwrap(), 1);
    assert_eq!(store.nonce_count().await.unwrap(), 0);
}

/// The comments of a job's stored history, in order.
async fn comments(store: &Store, job: &str) -> Vec<String> {
    let history = store.history(job).await.unwrap();
    history.into_iter().map(|h| h.comment).collect()
}

#[tokio::test]
async fn history_and_executions_keep_their_order_and_jobs_across_a_batch() {
    for t in &each().await {
        history_and_executions_keep_their_order_and_jobs_across_a_batch_on(&t.store).await;
    }
}

async fn history_and_executions_keep_their_order_and_jobs_across_a_batch_on(store: &Store) {
    store.insert_job(new_job("a", None)).await.unwrap();
    store.insert_job(new_job("b", None)).await.unwrap();
    let commit = |job: &str, exec: &str, comments: &[&str]| Commit {
        job_id: job.into(),
        executions: vec![execution(exec, 0)],
        history: comments.iter().map(|c| history(c)).collect(),
        ..Default::default()
    };
    // One batch interleaving two jobs: each job's history stays in op order.
    let (x, y, z) = tokio::join!(
        store.commit(commit("a", "e-a", &["a1", "a2"])),
        store.commit(commit("b", "e-b", &["b1"])),
        store.commit(commit("a", "e-a", &["a3"])),
    );
    x.unwrap();
    y.unwrap();
    z.unwrap();
    assert_eq!(
        comments(store, "a").await,
        ["Job created", "a1", "a2", "a3"]
    );
    assert_eq!(comments(store, "b").await, ["Job created", "b1"]);
    let a = store.job("a").await.unwrap().unwrap();
    assert_eq!(
        a.state.executions.len(),
        1,
        "the same execution is updated in place"
    );
    // History for a job that is not stored is refused, not dropped silently.
    assert!(matches!(
        store.commit(commit("nope", "e-x", &["lost"])).await,
        Err(StoreError::Corrupt(_))
    ));
}

#[tokio::test]
async fn a_database_made_before_migration_4_keeps_its_executions_and_history() {
    let dir = tempfile::tempdir().unwrap();
    let opts = StoreOptions::in_dir(dir.path());
    {
        let mut conn = SqliteConnectOptions::from_str(&opts.url)
            .unwrap()
            .create_if_missing(true)
            .connect()
            .await
            .unwrap();
        let mut old = sqlx::migrate!("./migrations/sqlite");
        old.migrations = std::borrow::Cow::Owned(old.migrations[..3].to_vec());
        old.run(&mut conn).await.unwrap();
        sqlx::raw_sql(
            "INSERT INTO jobs (id, client_id, created_at, job, state, version, update_time)
               VALUES ('j1', 'c', 1, '{}', 'Completed', 3, 1), ('j2', 'c', 2, '{}', 'New', 1, 2)",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO executions (id, job_id, ordinal, state, version, body)
               VALUES ('e-1', 'j1', 0, 'Completed', 2, ?)",
        )
        .bind(execution_body("e-1"))
        .execute(&mut conn)
        .await
        .unwrap();
        for (job, comment) in [("j1", "one"), ("j2", "other"), ("j1", "two")] {
            sqlx::query(
                "INSERT INTO job_history (job_id, level, time, body) VALUES (?, 'JobLevel', 1, ?)",
            )
            .bind(job)
            .bind(history(comment).body)
            .execute(&mut conn)
            .await
            .unwrap();
        }
        sqlx::Connection::close(conn).await.unwrap();
    }
    let store = Store::open(&opts).await.unwrap();
    let j1 = store.job("j1").await.unwrap().unwrap();
    assert_eq!(j1.state.executions.len(), 1);
    assert_eq!(j1.state.executions[0].compute_reference, "e-1");
    assert_eq!(comments(&store, "j1").await, ["one", "two"]);
    // New rows continue after the migrated ones.
    store
        .commit(Commit {
            job_id: "j2".into(),
            history: vec![history("later")],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(comments(&store, "j2").await, ["other", "later"]);
}

/// Every data dir made so far recorded the SHA-384 of each SQLite migration it ran; sqlx
/// refuses to open one whose recorded checksums differ from the embedded files. These are
/// the checksums of migrations 0001–0004 as the landed release (7ba7f14) shipped them, so
/// its data dirs keep opening now that the files live in `migrations/sqlite/`.
#[test]
fn the_sqlite_migrations_are_byte_for_byte_those_of_the_landed_release() {
    let released = [
        (1, "jobs", "2cf22dfa7981ee92d973db807ed78d6e54ec14a0b5fc19a0151ff8e63e616d85b569413d659b1930d663f5465baf3cc8"),
        (2, "log chunks", "37c952a0edf0967972ad27e4afb8774173dea838b4678078ac1df23f44b5a2d378912e77611e04334b74482717fbf088"),
        (3, "nonce routes", "b9dffc7d41d83c213dd40433e0ac52fe428e27a504e10ded149c4c7beccef20980a3e82bf9440331488d6aeb6586008f"),
        (4, "rows by job seq", "07ca0deb2834e9d1e84ce0f1ad21a72646b7cf9bf709f8c1b98eed593017eb0fb666cd5d9ad20568727185a0cb1e8beb"),
        (5, "log chunks apart", "ca1aad63c7d6107d8344744dd607a1eb99a4d1d184476e7e310b035217e3b6002b74005d4af868c8463f38cc943c313c"),
    ];
    let logs_released = [
        (1, "log chunks", "0ac1b7a5d5713051f54e6abbbe063c5e864a5b39a4d778b0d245a52f711590148f45205b48d7dddfa94673eb1c64e7f3"),
    ];
    for (migrator, released) in [
        (&sqlite::MIGRATOR, &released[..]),
        (&sqlite::logs::LOGS_MIGRATOR, &logs_released[..]),
    ] {
        let embedded: Vec<_> = migrator.iter().take(released.len()).collect();
        assert_eq!(embedded.len(), released.len());
        for (m, &(version, description, checksum)) in embedded.iter().zip(released) {
            assert_eq!(m.version, version);
            assert_eq!(m.description, description);
            assert_eq!(
                hex::encode(&m.checksum),
                checksum,
                "migration {version} was edited"
            );
        }
    }
}

#[tokio::test]
async fn nodes_migrating_one_postgres_database_at_once_all_start() {
    let Some(admin) = testdb::pg_admin_url() else {
        return;
    };
    let name = format!("hake_unit_{}", uuid::Uuid::new_v4().simple());
    let url = postgres::create_database(&admin, &name).await.unwrap();
    let opts = StoreOptions::from_url(url.clone());
    let opens = (0..4).map(|_| Store::open(&opts));
    let stores = futures::future::join_all(opens).await;
    for s in &stores {
        assert!(s.is_ok(), "{:?}", s.as_ref().err());
    }
    let pool = postgres::connect(&url).await.unwrap();
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(applied, postgres::MIGRATOR.iter().count() as i64);
    pool.close().await;
    for s in stores.into_iter().flatten() {
        s.close().await;
    }
    postgres::drop_database(&admin, &name).await.unwrap();
}

#[test]
fn database_urls_other_than_sqlite_and_postgres_are_refused_by_name() {
    assert_eq!(
        DatabaseKind::of_url("sqlite:///tmp/x.db"),
        Ok(DatabaseKind::Sqlite)
    );
    assert_eq!(
        DatabaseKind::of_url("postgres://u@h/db"),
        Ok(DatabaseKind::Postgres)
    );
    assert_eq!(
        DatabaseKind::of_url("PostgreSQL://u@h/db"),
        Ok(DatabaseKind::Postgres)
    );
    let err = DatabaseKind::of_url("mysql://root:secret@h/db").unwrap_err();
    assert!(
        err.contains("sqlite://, postgres:// or postgresql://"),
        "{err}"
    );
    assert!(!err.contains("secret"), "the password is not echoed: {err}");
}
