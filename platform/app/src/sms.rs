//! Text messages as use cases send them: into the tenant's outbox, in the caller's
//! transaction, so nothing is sent for a change that rolls back.

use chrono::{DateTime, Utc};
use patron_core::members::Phone;
use patron_db::{portal, DbError, TenantTx};
use std::sync::Arc;

/// Sends text messages. The default records them in the tenant's `sms_outbox` table, where
/// the console (and tests) read them; a real gateway implements the same trait.
#[async_trait::async_trait]
pub trait SmsSender: Send + Sync {
    async fn send(
        &self,
        tx: &mut TenantTx,
        phone: &Phone,
        body: &str,
        purpose: &str,
        now: DateTime<Utc>,
    ) -> Result<(), DbError>;
}

/// The default sender: the outbox table, in the caller's transaction.
pub struct OutboxSms;

#[async_trait::async_trait]
impl SmsSender for OutboxSms {
    async fn send(
        &self,
        tx: &mut TenantTx,
        phone: &Phone,
        body: &str,
        purpose: &str,
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        portal::outbox_push(tx, phone.e164(), body, purpose, now).await
    }
}

/// The default SMS sender, shared.
pub fn default_sender() -> Arc<dyn SmsSender> {
    Arc::new(OutboxSms)
}
