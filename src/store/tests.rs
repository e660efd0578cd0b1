//! The writer never commits half of a write: a failing op is rolled back whole.

use super::*;
use crate::jobs::model::Job;

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

fn execution(id: &str, ordinal: i64) -> ExecutionRow {
    ExecutionRow {
        id: id.into(),
        ordinal,
        state: "BidAccepted".into(),
        version: 1,
        body: "{}".into(),
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
