//! Store tests: tenancy (every store function, a member of org A against
//! org B's data), tokens, idempotency, logins and the audit log.

mod common;

use common::{fresh, site_admin, two_orgs, SBOM};
use portcullis_server::{NewSubmission, Role, Sector, Store, StoreError, SubmissionKind, Tenant};

fn sbom(client_id: &str) -> NewSubmission {
    NewSubmission {
        kind: SubmissionKind::Sbom,
        client_id: client_id.into(),
        body: SBOM.into(),
    }
}

#[tokio::test]
async fn migrations_are_idempotent_and_schema_is_empty() {
    let env = fresh().await;
    assert!(env
        .store
        .list_organisations(&site_admin())
        .await
        .unwrap()
        .is_empty());
    env.store.ping().await.unwrap();
}

#[tokio::test]
async fn member_of_a_cannot_read_or_write_b_through_any_store_function() {
    let env = fresh().await;
    let s = &env.store;
    let o = two_orgs(s).await;
    let member_a = Tenant::for_role(o.a, Role::Member);
    let admin_a = Tenant::for_role(o.a, Role::OrgAdmin);
    let assessor_a = Tenant::for_role(o.a, Role::Assessor);

    // Data in B: a submission and a token.
    let host_b = s.authenticate_host(&o.b_host_token).await.unwrap();
    let (rb, created) = s.submit(&host_b, &sbom("shared-id")).await.unwrap();
    assert!(created);
    let b_tokens = s.list_tokens(&site_admin()).await.unwrap();
    let b_host_token_id = b_tokens
        .iter()
        .find(|t| t.org == o.b && t.kind == "host")
        .unwrap()
        .id;

    for scope in [member_a, admin_a, assessor_a] {
        // Reads: only A.
        let orgs = s.list_organisations(&scope).await.unwrap();
        assert_eq!(
            orgs.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(),
            ["Org A"]
        );
        assert!(s
            .list_tokens(&scope)
            .await
            .unwrap()
            .iter()
            .all(|t| t.org == o.a));
        assert_eq!(s.list_tokens(&scope).await.unwrap().len(), 2);
        assert!(s.list_submissions(&scope, 100).await.unwrap().is_empty());
        assert!(matches!(
            s.get_submission(&scope, rb.id).await,
            Err(StoreError::NotFound)
        ));
        let audit = s.list_audit(&scope, 1000).await.unwrap();
        assert!(!audit.is_empty());
        assert!(audit.iter().all(|e| e.org == Some(o.a)), "{audit:?}");

        // Writes: refused.
        assert!(matches!(
            s.create_user(
                &scope,
                o.b,
                "x@b.example",
                "correct horse battery",
                Role::Member
            )
            .await,
            Err(StoreError::Forbidden)
        ));
        assert!(matches!(
            s.create_enrolment_token(&scope, o.b, "x").await,
            Err(StoreError::Forbidden)
        ));
        assert!(matches!(
            s.revoke_token(&scope, b_host_token_id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            s.create_organisation(&scope, "Org C", Sector::Other, 1)
                .await,
            Err(StoreError::Forbidden)
        ));
        // Nor can an org scope mint a cyber-unit account.
        assert!(matches!(
            s.create_user(
                &scope,
                o.a,
                "x@a.example",
                "correct horse battery",
                Role::Analyst
            )
            .await,
            Err(StoreError::Forbidden)
        ));
    }
    // Assets: B's host is invisible to A, and its history is NotFound.
    let all_assets = s.list_assets(&site_admin()).await.unwrap();
    let b_asset = all_assets.iter().find(|a| a.org == o.b).unwrap().id;
    for scope in [member_a, admin_a, assessor_a] {
        assert!(s.list_assets(&scope).await.unwrap().is_empty());
        assert!(matches!(
            s.asset_history(&scope, b_asset, SubmissionKind::Sbom, 10)
                .await,
            Err(StoreError::NotFound)
        ));
    }

    // B's token still works after A's attempts to revoke it.
    assert_eq!(
        s.authenticate_host(&o.b_host_token).await.unwrap().host,
        "b-host"
    );

    // A host of A re-using B's client ID writes a new submission in A, not B's.
    let host_a = s.authenticate_host(&o.a_host_token).await.unwrap();
    let (ra, created) = s.submit(&host_a, &sbom("shared-id")).await.unwrap();
    assert!(created);
    assert_ne!(ra.id, rb.id);
    assert_eq!(ra.org, o.a);
    assert_eq!(
        s.list_submissions(&member_a, 100).await.unwrap(),
        vec![ra.clone()]
    );
    let b_scope = Tenant::for_role(o.b, Role::Member);
    assert_eq!(
        s.list_submissions(&b_scope, 100).await.unwrap(),
        vec![rb.clone()]
    );

    // The cyber unit sees both.
    for role in [Role::Analyst, Role::SiteAdmin] {
        let all = Tenant::for_role(o.a, role);
        assert_eq!(all.org(), None);
        assert_eq!(s.list_organisations(&all).await.unwrap().len(), 2);
        assert_eq!(s.list_submissions(&all, 100).await.unwrap().len(), 2);
        let (got, body) = s.get_submission(&all, rb.id).await.unwrap();
        assert_eq!(got, rb);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["components"].as_array().unwrap().len(), 67);
    }
}

#[tokio::test]
async fn enrolment_and_host_tokens_are_hashed_shown_once_and_revocable() {
    let env = fresh().await;
    let s = &env.store;
    let all = site_admin();
    let a = s
        .create_organisation(&all, "Org A", Sector::LocalAuthority, 900)
        .await
        .unwrap();
    let admin_a = Tenant::for_role(a, Role::OrgAdmin);
    let (enrol_id, secret) = s
        .create_enrolment_token(&admin_a, a, "laptops")
        .await
        .unwrap();
    assert!(secret.starts_with("pce_") && secret.len() == 68, "{secret}");
    // An enrolment token is not a host token.
    assert!(matches!(
        s.authenticate_host(&secret).await,
        Err(StoreError::Unauthorized)
    ));
    let (id, host_secret) = s.enrol(&secret, "pc-042").await.unwrap();
    assert_eq!(id.tenant, Tenant::for_role(a, Role::Member));
    assert_eq!(s.authenticate_host(&host_secret).await.unwrap(), id);
    // A host token cannot enrol more hosts.
    assert!(matches!(
        s.enrol(&host_secret, "pc-043").await,
        Err(StoreError::Unauthorized)
    ));
    assert!(matches!(
        s.enrol("pce_nonsense", "pc-043").await,
        Err(StoreError::Unauthorized)
    ));
    assert!(matches!(
        s.enrol(&secret, "").await,
        Err(StoreError::Invalid(_))
    ));

    let tokens = s.list_tokens(&admin_a).await.unwrap();
    assert_eq!(tokens.len(), 2);
    assert_eq!(tokens[1].host.as_deref(), Some("pc-042"));
    // Revoking the enrolment token stops new enrolments, not the host.
    s.revoke_token(&admin_a, enrol_id).await.unwrap();
    assert!(matches!(
        s.enrol(&secret, "pc-044").await,
        Err(StoreError::Unauthorized)
    ));
    assert!(s.authenticate_host(&host_secret).await.is_ok());
    s.revoke_token(&admin_a, id.token_id).await.unwrap();
    assert!(matches!(
        s.authenticate_host(&host_secret).await,
        Err(StoreError::Unauthorized)
    ));
    // Revoking twice: nothing to revoke.
    assert!(matches!(
        s.revoke_token(&admin_a, id.token_id).await,
        Err(StoreError::NotFound)
    ));
    let audit = s.list_audit(&admin_a, 100).await.unwrap();
    let actions: Vec<&str> = audit.iter().rev().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "organisation.create",
            "token.create",
            "host.enrol",
            "token.revoke",
            "token.revoke"
        ]
    );
}

#[tokio::test]
async fn submissions_are_idempotent_per_org_and_conflicts_refused() {
    let env = fresh().await;
    let s = &env.store;
    let o = two_orgs(s).await;
    let host = s.authenticate_host(&o.a_host_token).await.unwrap();
    let (first, created) = s.submit(&host, &sbom("run-1")).await.unwrap();
    assert!(created);
    let (again, created) = s.submit(&host, &sbom("run-1")).await.unwrap();
    assert!(!created);
    assert_eq!(again, first);
    let other = NewSubmission {
        kind: SubmissionKind::Sbom,
        client_id: "run-1".into(),
        body: "{}".into(),
    };
    assert!(matches!(
        s.submit(&host, &other).await,
        Err(StoreError::Conflict(_))
    ));
    let scope = Tenant::for_role(o.a, Role::Member);
    assert_eq!(s.list_submissions(&scope, 100).await.unwrap().len(), 1);
    let creates = s
        .list_audit(&scope, 100)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.action == "submission.create")
        .count();
    assert_eq!(creates, 1);
}

#[tokio::test]
async fn logins_are_checked_counted_locked_and_audited() {
    let env = fresh().await;
    let s = &env.store;
    let all = site_admin();
    let a = s
        .create_organisation(&all, "Org A", Sector::CentralGovernment, 50000)
        .await
        .unwrap();
    let pw = "correct horse battery staple";
    s.create_user(&all, a, "Alice@Example.org", pw, Role::OrgAdmin)
        .await
        .unwrap();
    assert!(matches!(
        s.create_user(&all, a, "alice@example.org", pw, Role::Member)
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.create_user(&all, a, "bob@example.org", "short", Role::Member)
            .await,
        Err(StoreError::Invalid(_))
    ));
    let user = s.login("alice@example.org", pw).await.unwrap().unwrap();
    assert_eq!(user.role, Role::OrgAdmin);
    assert_eq!(user.tenant(), Tenant::for_role(a, Role::Member));
    assert!(s.login("nobody@example.org", pw).await.unwrap().is_none());
    for _ in 0..5 {
        assert!(s
            .login("alice@example.org", "wrong password!")
            .await
            .unwrap()
            .is_none());
    }
    // Locked: even the right password is refused now.
    assert!(s.login("alice@example.org", pw).await.unwrap().is_none());
    let audit = s.list_audit(&user.tenant(), 100).await.unwrap();
    let actions: Vec<&str> = audit.iter().rev().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "organisation.create",
            "user.create",
            "login.ok",
            "login.failed",
            "login.failed",
            "login.failed",
            "login.failed",
            "login.failed",
            "login.locked"
        ]
    );
    // The unknown-user attempt has no organisation: only the cyber unit sees it.
    assert!(s
        .list_audit(&all, 100)
        .await
        .unwrap()
        .iter()
        .any(|e| e.action == "login.unknown" && e.org.is_none()));
}

#[tokio::test]
async fn sqlite_reopen_keeps_data_and_applies_no_migration_twice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    let url = format!("sqlite:{}", path.display());
    // Two processes starting at once on one database: both succeed.
    let (first, second) = tokio::join!(Store::open(&url), Store::open(&url));
    let first = first.unwrap();
    second.unwrap();
    first
        .create_organisation(&site_admin(), "Kept", Sector::Other, 3)
        .await
        .unwrap();
    drop(first);
    let again = Store::open(&url).await.unwrap();
    assert_eq!(again.backend(), "sqlite");
    let orgs = again.list_organisations(&site_admin()).await.unwrap();
    assert_eq!(
        (
            orgs.len(),
            orgs[0].name.as_str(),
            orgs[0].sector,
            orgs[0].size
        ),
        (1, "Kept", Sector::Other, 3)
    );
    // Garbage where the database should be: an error, not a panic.
    let junk = dir.path().join("junk.db");
    std::fs::write(
        &junk,
        b"this is not a database, not even close to one; padding padding padding",
    )
    .unwrap();
    assert!(Store::open(junk.to_str().unwrap()).await.is_err());
}

#[tokio::test]
async fn each_submission_updates_its_assets_current_state_and_keeps_history() {
    let env = fresh().await;
    let s = &env.store;
    let o = two_orgs(s).await;
    let host = s.authenticate_host(&o.a_host_token).await.unwrap();
    let scan = |id: &str| NewSubmission {
        kind: SubmissionKind::Scan,
        client_id: id.into(),
        body: r#"{"findings":[]}"#.into(),
    };
    let (s1, _) = s.submit(&host, &scan("scan-1")).await.unwrap();
    let (sb, _) = s.submit(&host, &sbom("sbom-1")).await.unwrap();
    let (s2, _) = s.submit(&host, &scan("scan-2")).await.unwrap();
    let scope = Tenant::for_role(o.a, Role::Member);
    let assets = s.list_assets(&scope).await.unwrap();
    assert_eq!(assets.len(), 1);
    assert_eq!(assets[0].name, "a-host");
    assert_eq!(
        assets[0].current,
        vec![(SubmissionKind::Sbom, sb.id), (SubmissionKind::Scan, s2.id)]
    );
    let history = s
        .asset_history(&scope, assets[0].id, SubmissionKind::Scan, 10)
        .await
        .unwrap();
    assert_eq!(history, vec![s2, s1]);
    assert!(s
        .asset_history(&scope, assets[0].id, SubmissionKind::Detections, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(s.list_assets(&site_admin()).await.unwrap().len(), 1);
}
