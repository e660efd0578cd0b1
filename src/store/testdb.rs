//! Stores for unit tests, on each database this machine has: a SQLite file always, and a
//! fresh PostgreSQL database when `HAKE_TEST_PG_URL` names a server (scripts/test.sh
//! starts one). Under `CI=true` a missing PostgreSQL is a failure, elsewhere a skip that
//! says so.

use super::{postgres, Store, StoreOptions};

/// A store under test and what keeps its database alive.
pub(crate) struct TestStore {
    /// Which database, for assertion messages.
    pub label: &'static str,
    pub store: Store,
    _guard: Guard,
}

enum Guard {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Pg { admin: String, name: String },
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Guard::Pg { admin, name } = self {
            let (admin, name) = (admin.clone(), name.clone());
            // Drop needs a runtime of its own: the test's may be shutting down.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                let _ = rt.block_on(postgres::drop_database(&admin, &name));
            })
            .join();
        }
    }
}

/// The admin URL of the test PostgreSQL server, if there is one.
pub(crate) fn pg_admin_url() -> Option<String> {
    match std::env::var("HAKE_TEST_PG_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but HAKE_TEST_PG_URL is not set: PostgreSQL tests cannot run"
            );
            eprintln!("skipping the PostgreSQL side: HAKE_TEST_PG_URL is not set (scripts/test.sh starts a server)");
            None
        }
    }
}

/// A SQLite store, and a PostgreSQL one when a server is available.
pub(crate) async fn each() -> Vec<TestStore> {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&StoreOptions::in_dir(dir.path()))
        .await
        .expect("sqlite store");
    let mut out = vec![TestStore {
        label: "sqlite",
        store,
        _guard: Guard::Dir(dir),
    }];
    if let Some(admin) = pg_admin_url() {
        let name = format!("hake_unit_{}", uuid::Uuid::new_v4().simple());
        let url = postgres::create_database(&admin, &name)
            .await
            .expect("creating a test database");
        let store = Store::open(&StoreOptions::from_url(url))
            .await
            .expect("postgres store");
        out.push(TestStore {
            label: "postgres",
            store,
            _guard: Guard::Pg { admin, name },
        });
    }
    out
}
