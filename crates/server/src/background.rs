//! Background jobs of `serve`: outbox delivery, session sweeping, incident
//! deadline alerts and certificate renewal reminders. Every job is safe to
//! run from several `serve` processes at once (each claims its rows in the
//! database) and [`run_due_jobs`] can be called directly by tests.

use std::time::Duration;

use crate::http::AppState;

/// How often the jobs run.
pub const INTERVAL: Duration = Duration::from_secs(30);

/// What one round of jobs did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct JobReport {
    /// Notifications delivered.
    pub delivered: usize,
    /// Problems (one line each; never secrets).
    pub errors: Vec<String>,
}

/// Runs every job once.
pub async fn run_due_jobs(state: &AppState) -> JobReport {
    let mut report = JobReport::default();
    let store = &state.store;
    if let Err(e) = store.sweep_expired_sessions().await {
        report.errors.push(format!("session sweep: {e}"));
    }
    if let Err(e) = store.raise_deadline_alerts().await {
        report.errors.push(format!("incident deadlines: {e}"));
    }
    if let Err(e) = store.send_renewal_reminders().await {
        report.errors.push(format!("certificate renewals: {e}"));
    }
    match crate::notify::deliver_due(state).await {
        Ok(n) => report.delivered = n,
        Err(e) => report.errors.push(format!("notifications: {e}")),
    }
    report
}

/// Runs the jobs every [`INTERVAL`] until `stop` completes.
pub async fn run(state: AppState, stop: impl std::future::Future<Output = ()>) {
    tokio::pin!(stop);
    loop {
        let report = run_due_jobs(&state).await;
        for e in &report.errors {
            eprintln!("portcullis serve: background job: {e}");
        }
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(INTERVAL) => {},
        }
    }
}
