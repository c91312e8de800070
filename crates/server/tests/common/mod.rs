//! Shared test set-up: a fresh store on SQLite (a temp dir) or, when
//! `PORTCULLIS_TEST_POSTGRES_URL` is set, on PostgreSQL in a fresh schema.
#![allow(dead_code)]

use portcullis_server::{OrgId, Role, Sector, Store, Tenant};

/// A store and what keeps it alive.
pub struct Env {
    pub store: Store,
    _dir: Option<tempfile::TempDir>,
}

static NOTE: std::sync::Once = std::sync::Once::new();

/// A fresh, empty, migrated store.
pub async fn fresh() -> Env {
    match std::env::var("PORTCULLIS_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => {
            NOTE.call_once(|| eprintln!("note: running against PostgreSQL"));
            let schema = format!(
                "t_{}_{}",
                std::process::id(),
                COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            );
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
                .await
                .expect("connect to PostgreSQL");
            sqlx::raw_sql(&format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
            ))
            .execute(&mut conn)
            .await
            .expect("create schema");
            let sep = if url.contains('?') { '&' } else { '?' };
            let url = format!("{url}{sep}options=-c%20search_path%3D{schema}");
            Env {
                store: Store::open(&url).await.expect("open PostgreSQL store"),
                _dir: None,
            }
        }
        _ => {
            NOTE.call_once(|| {
                eprintln!("note: PORTCULLIS_TEST_POSTGRES_URL unset; running against SQLite only")
            });
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("portcullis.db");
            let store = Store::open(path.to_str().expect("utf-8 temp path"))
                .await
                .expect("open SQLite store");
            Env {
                store,
                _dir: Some(dir),
            }
        }
    }
}

static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The site admin's scope (an org of its own, "Cyber Unit").
pub fn site_admin() -> Tenant {
    Tenant::for_role(OrgId(0), Role::SiteAdmin)
}

/// Two organisations, A and B, each with an enrolled host.
pub struct TwoOrgs {
    pub a: OrgId,
    pub b: OrgId,
    pub a_host_token: String,
    pub b_host_token: String,
}

pub async fn two_orgs(store: &Store) -> TwoOrgs {
    let all = site_admin();
    let a = store
        .create_organisation(&all, "Org A", Sector::NhsTrust, 4000)
        .await
        .unwrap();
    let b = store
        .create_organisation(&all, "Org B", Sector::GpPractice, 12)
        .await
        .unwrap();
    let (_, ea) = store.create_enrolment_token(&all, a, "a").await.unwrap();
    let (_, eb) = store.create_enrolment_token(&all, b, "b").await.unwrap();
    let (_, a_host_token) = store.enrol(&ea, "a-host").await.unwrap();
    let (_, b_host_token) = store.enrol(&eb, "b-host").await.unwrap();
    TwoOrgs {
        a,
        b,
        a_host_token,
        b_host_token,
    }
}

/// The real CycloneDX 1.6 SBOM fixture (67 components).
pub const SBOM: &str = include_str!("../fixtures/rust-analyzer-npm.syft.cdx.json");
