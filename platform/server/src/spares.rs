//! Keeps spare tenant schemas ready for signups (`PATRON_SPARE_SCHEMAS`), in every server:
//! every few seconds, spares an upgrade left behind are dropped and new ones made
//! until the target is ready. Safe on any number of replicas (one makes at a time).

use patron_db::Db;

/// Works until `stop` fires, checking every `every`.
pub async fn keep(
    db: Db,
    target: u32,
    every: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        match patron_app::signup::keep_spare_schemas(&db, target).await {
            Ok(pass) if pass.made > 0 || pass.dropped > 0 => {
                tracing::info!(
                    made = pass.made,
                    dropped = pass.dropped,
                    "spare tenant schemas"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot keep spare tenant schemas; will retry"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
    }
}
