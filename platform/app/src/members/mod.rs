//! Members at the counter: register, look up, change (audited field by field), search,
//! cards, the audit log and erasure. Phones and e-mails are sealed at rest. The portal and
//! the import register and change members through the same functions.
//!
//! Use cases that must keep a counted attempt even when they refuse (a wrong phone code)
//! take the transaction by value and commit it themselves; the others work in the caller's
//! transaction.

pub mod audit;
pub mod cards;
pub mod input;
pub mod profile;
pub mod search;

pub use input::{
    apply_change, data_of, open, parse_date, parse_new_member, seal_email, seal_phone, Change,
    MemberChange, NewMember, Parsed,
};
pub use profile::{profile, Profile};
pub use search::{build_search, tier_filter, SearchRequest, SortBy};

use crate::fields::current_fields;
use crate::portal::codes::{self, CodeCheck, CodePurpose};
use crate::sms::SmsSender;
use crate::{AppError, NotFoundAs, PlanDenial};
use chrono::{DateTime, NaiveDate, Utc};
use patron_core::members::Channel;
use patron_core::members::Phone;
use patron_core::pii::PiiKeys;
use patron_core::plans::Limit;
use patron_db::members::{self, Actor, Member, MemberData};
use patron_db::{audit as platform_audit, constraints, portal, DbError, Tenant, TenantTx};

/// The plan's limits, as the edge knows them (plans, their cache and the 402's wording live
/// there). Both calls take the tenant's limit lock for the rest of `tx`.
#[async_trait::async_trait]
pub trait PlanCheck: Send + Sync {
    /// `Ok(Err(denial))` when `adding` more of `limit`'s things do not fit the plan.
    async fn check(
        &self,
        tx: &mut TenantTx,
        limit: Limit,
        adding: i64,
    ) -> Result<Result<(), PlanDenial>, AppError>;
}

/// A refused plan check as the 402 it is.
pub async fn require(
    plan: &dyn PlanCheck,
    tx: &mut TenantTx,
    limit: Limit,
    adding: i64,
) -> Result<(), AppError> {
    plan.check(tx, limit, adding)
        .await?
        .map_err(AppError::payment_required)
}

/// Maps a taken phone or e-mail (or an unknown referrer) to the error naming the field.
pub fn taken(e: DbError) -> AppError {
    if e.is_conflict_on(constraints::MEMBERS_PHONE) {
        AppError::conflict(
            "phone_taken",
            Some("phone"),
            "another member already has this phone number",
        )
    } else if e.is_conflict_on(constraints::MEMBERS_EMAIL) {
        AppError::conflict(
            "email_taken",
            Some("email"),
            "another member already has this e-mail address",
        )
    } else if e.is_conflict_on(constraints::MEMBERS_REFERRER) {
        AppError::field("referrer_id", patron_core::Issue::no_such_member())
    } else {
        e.into()
    }
}

/// Who is acting, and whether they may see phones and e-mails in clear.
pub struct Staff<'a> {
    pub subject: &'a str,
    pub channel: Channel,
    pub show_pii: bool,
}

/// Today in the tenant's zone.
pub fn today(tenant: &Tenant, now: DateTime<Utc>) -> NaiveDate {
    tenant.settings.zone().today(now)
}

fn validator(
    set: &patron_core::fields::FieldSet,
) -> Result<patron_core::fields::CustomValidator, AppError> {
    set.validator()
        .map_err(|e| AppError::internal(std::io::Error::other(e)))
}

/// Registers a member at the counter (or through the API); a card is issued at once.
pub async fn create(
    tx: &mut TenantTx,
    tenant: &Tenant,
    keys: &PiiKeys,
    plan: &dyn PlanCheck,
    by: &Staff<'_>,
    req: NewMember,
    now: DateTime<Utc>,
) -> Result<Profile, AppError> {
    let (_, set) = current_fields(tx).await?;
    let validator = validator(&set)?;
    let parsed = parse_new_member(
        req,
        &validator,
        keys,
        &tenant.settings.phone_region,
        today(tenant, now),
    )
    .map_err(AppError::invalid)?;
    let actor = Actor {
        subject: by.subject,
        channel: by.channel,
        at: now,
    };
    require(plan, tx, Limit::Members, 1).await?;
    let m = members::create(tx, &parsed.data, None, &actor)
        .await
        .map_err(taken)?;
    crate::desk::keep_last_four(tx, keys, &m).await?;
    crate::messages::record(
        tx,
        patron_core::messages::Event::MemberCreated,
        m.id,
        "created",
        serde_json::json!({
            "member_id": m.id,
            "name": m.name,
            "card": m.card_number,
            "channel": m.channel,
            "join_date": m.join_date,
        }),
        now,
    )
    .await?;
    patron_db::audit::record_member(
        tx,
        now,
        by.subject,
        "member.created",
        m.id,
        serde_json::json!({ "name": m.name, "card": m.card_number }),
    )
    .await?;
    Ok(profile(&m, &set, keys, by.show_pii))
}

/// Stores a member's checked change and records it: each field in the member's change log,
/// the changed fields in the business's audit log and in a `member.updated` event (names of
/// fields only, never their values), the desk's phone digits when the phone changed. Staff edits and the member's own edits in the portal both come here. Answers
/// the member as stored.
pub async fn store_change(
    tx: &mut TenantTx,
    keys: &PiiKeys,
    m: &Member,
    data: &MemberData,
    by: &Actor<'_>,
) -> Result<Member, AppError> {
    members::update(tx, m.id, data, by.at)
        .await
        .map_err(taken)?;
    let before = data_of(m);
    let changed: Vec<String> = audit::diff(keys, &before, data)
        .into_iter()
        .map(|(field, _, _)| field)
        .collect();
    audit::audit_diff(tx, keys, m.id, &before, data, by).await?;
    if !changed.is_empty() {
        patron_db::audit::record_member(
            tx,
            by.at,
            by.subject,
            "member.updated",
            m.id,
            serde_json::json!({ "fields": changed }),
        )
        .await?;
        crate::messages::record(
            tx,
            patron_core::messages::Event::MemberUpdated,
            m.id,
            &format!("updated:{}", by.at.timestamp_micros()),
            serde_json::json!({ "member_id": m.id, "fields": changed, "channel": by.channel.as_str() }),
            by.at,
        )
        .await?;
    }
    let stored = members::get(tx, m.id).await?;
    if data.phone.as_ref().map(|s| &s.index) != m.phone_index.as_ref() {
        crate::desk::keep_last_four(tx, keys, &stored).await?;
    }
    Ok(stored)
}

/// One member, as `show_pii` allows.
pub async fn get(
    tx: &mut TenantTx,
    keys: &PiiKeys,
    id: uuid::Uuid,
    show_pii: bool,
) -> Result<Profile, AppError> {
    let m = members::get(tx, id).await.not_found_as("member")?;
    view(tx, keys, &m, show_pii).await
}

/// The profile of `m` under the fields in force.
pub async fn view(
    tx: &mut TenantTx,
    keys: &PiiKeys,
    m: &Member,
    show_pii: bool,
) -> Result<Profile, AppError> {
    let (_, set) = current_fields(tx).await?;
    Ok(profile(m, &set, keys, show_pii))
}

/// Changes a member; each change is audited. Changing a verified phone needs the code sent
/// to the new number, or `may_change_verified_phone` (`members:manage_sensitive`). Commits
/// `tx`, also when a wrong code is refused (the attempt counts).
#[allow(clippy::too_many_arguments)]
pub async fn update(
    mut tx: TenantTx,
    tenant: &Tenant,
    keys: &PiiKeys,
    by: &Staff<'_>,
    may_change_verified_phone: bool,
    id: uuid::Uuid,
    req: MemberChange,
    now: DateTime<Utc>,
) -> Result<Profile, AppError> {
    let m = members::get_for_update(&mut tx, id)
        .await
        .not_found_as("member")?;
    if m.status == "erased" {
        return Err(AppError::conflict(
            "member_erased",
            None,
            "this member was erased",
        ));
    }
    let (_, set) = current_fields(&mut tx).await?;
    let validator = validator(&set)?;
    let code = req.phone_code.clone();
    let phone_touched = !req.phone.is_keep();
    let (mut data, new_phone) = apply_change(
        &m,
        req,
        &validator,
        keys,
        &tenant.settings.phone_region,
        today(tenant, now),
    )
    .map_err(AppError::invalid)?;
    let phone_changed = data.phone.as_ref().map(|s| &s.index) != m.phone_index.as_ref();
    if phone_touched && phone_changed && m.phone_verified_at.is_some() {
        match (&new_phone, code) {
            (Some(p), Some(code)) => {
                match codes::verify_code(&mut tx, keys, CodePurpose::PhoneChange, p, &code, now)
                    .await?
                {
                    CodeCheck::Ok => data.phone_verified_at = Some(now),
                    CodeCheck::Exhausted => return Err(codes::exhausted()),
                    CodeCheck::Wrong => {
                        // Keep the counted attempt.
                        tx.commit().await?;
                        return Err(AppError::field("phone_code", patron_core::Issue::new(patron_core::FieldCode::CodeWrongOrExpired, "is wrong or expired; ask for a new one")));
                    }
                }
            }
            _ if may_change_verified_phone => {}
            _ => {
                return Err(AppError::forbidden(
                    "phone_verified",
                    "this member's phone is verified: changing it needs a code sent to the new number (phone_code) or the permission members:manage_sensitive",
                ))
            }
        }
    }
    let actor = Actor {
        subject: by.subject,
        channel: by.channel,
        at: now,
    };
    let m = store_change(&mut tx, keys, &m, &data, &actor).await?;
    let p = profile(&m, &set, keys, by.show_pii);
    tx.commit().await?;
    Ok(p)
}

/// Sends a code to a member's new phone number (to change a verified phone).
#[allow(clippy::too_many_arguments)]
pub async fn send_phone_change_code(
    tx: &mut TenantTx,
    tenant: &Tenant,
    keys: &PiiKeys,
    sms: &dyn SmsSender,
    plan: &dyn PlanCheck,
    id: uuid::Uuid,
    phone: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    members::get(tx, id).await.not_found_as("member")?;
    let p = Phone::parse(phone, &tenant.settings.phone_region)
        .map_err(|e| AppError::field("phone", e))?;
    codes::send_code(
        tx,
        keys,
        sms,
        plan,
        &p,
        CodePurpose::PhoneChange,
        tenant,
        now,
    )
    .await
}

/// Erases a member's personal data for good; the member stays under its anonymous id, so
/// points and reports still add up. Texts sent to the member's phone and the shipping
/// addresses of their mall orders go too. Audited.
pub async fn erase(
    tx: &mut TenantTx,
    keys: &PiiKeys,
    by: &Staff<'_>,
    id: uuid::Uuid,
    now: DateTime<Utc>,
) -> Result<Profile, AppError> {
    let m = members::get_for_update(tx, id)
        .await
        .not_found_as("member")?;
    if m.status == "erased" {
        return Err(AppError::conflict(
            "member_erased",
            None,
            "this member was already erased",
        ));
    }
    let actor = Actor {
        subject: by.subject,
        channel: by.channel,
        at: now,
    };
    // The outbox keeps numbers in the clear.
    if let Some(phone) = m.phone().and_then(|s| open(keys, &s)) {
        portal::forget_outbox(tx, &phone).await?;
    }
    members::erase(tx, m.id, &actor).await?;
    // Shipping addresses given in the points mall are the member's personal data too.
    patron_db::mall::forget_addresses(tx, m.id).await?;
    platform_audit::record(
        tx,
        now,
        by.subject,
        "member.erased",
        &m.id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    let m = members::get(tx, m.id).await?;
    view(tx, keys, &m, by.show_pii).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taken_keys_name_their_field() {
        let e = taken(DbError::Conflict(constraints::MEMBERS_PHONE.into()));
        assert_eq!(
            (e.code(), e.to_string().contains("phone")),
            ("phone_taken", true)
        );
        let e = taken(DbError::Conflict(constraints::MEMBERS_EMAIL.into()));
        assert_eq!(e.code(), "email_taken");
        let e = taken(DbError::Conflict(constraints::MEMBERS_REFERRER.into()));
        assert_eq!(e.fields()[0].field, "referrer_id");
        assert_eq!(taken(DbError::Conflict("x".into())).code(), "conflict");
    }
}
