//! The writer never commits half of a write: a failing op is rolled back whole.

use super::*;
use crate::model::Job;

async fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&StoreOptions::in_dir(dir.path()))
        .await
        .unwrap();
    (dir, store)
}

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
    let (_dir, store) = open().await;
    assert_eq!(
        store.insert_job(new_job("j", None)).await.unwrap(),
        Inserted::Created
    );
    assert!(store.commit(failing_commit("j")).await.is_err());
    let job = store.job("j").await.unwrap().unwrap();
    assert_eq!(job.state.version, 1, "the job row update was rolled back");
    assert!(job.state.executions.is_empty());
    assert_eq!(store.history("j").await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_failing_commit_in_a_batch_is_rolled_back_and_the_others_commit() {
    let (_dir, store) = open().await;
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
    let (_dir, store) = open().await;
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
        comments(&store, "a").await,
        ["Job created", "a1", "a2", "a3"]
    );
    assert_eq!(comments(&store, "b").await, ["Job created", "b1"]);
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
