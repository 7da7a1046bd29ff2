//! Membership cards: look a member up by card (or a physical card's code), bind a physical
//! card, report a card lost, reissue, and the format of new numbers. Every change is in the
//! member's audit log.

use crate::{AppError, NotFoundAs};
use chrono::{DateTime, Utc};
use patron_core::members::{self as core_members, CardFormat};
use patron_db::cards::{self, Card, CardEvent};
use patron_db::members::{self, Actor, Member};
use patron_db::{audit, DbError, TenantTx};
use serde_json::Value;
use uuid::Uuid;

/// A lost card is frozen and a replaced one blocked: lookups by them are refused.
pub fn refuse_unusable(card: &Card) -> Result<(), AppError> {
    match card.status.as_str() {
        "lost" => Err(AppError::conflict(
            "card_lost",
            Some("card_number"),
            "this card was reported lost and is frozen; reissue a card to the member",
        )),
        "blocked" => Err(AppError::conflict(
            "card_blocked",
            Some("card_number"),
            match &card.replaced_by {
                Some(_) => "this card was replaced and is permanently blocked",
                None => "this card is permanently blocked",
            },
        )),
        _ => Ok(()),
    }
}

/// The card a counter typed or scanned: a card number, else a physical card's code.
pub async fn find_card(tx: &mut TenantTx, raw: &str) -> Result<Card, AppError> {
    if let Ok(n) = core_members::normalise_card_number(raw) {
        if let Some(c) = cards::find(tx, &n).await? {
            return Ok(c);
        }
    }
    if let Ok(code) = core_members::parse_physical_code(raw) {
        if let Some(c) = cards::find_by_physical(tx, &code).await? {
            return Ok(c);
        }
    }
    Err(AppError::not_found("card"))
}

/// The member a usable card belongs to.
pub async fn lookup(tx: &mut TenantTx, raw: &str) -> Result<Member, AppError> {
    let card = find_card(tx, raw).await?;
    refuse_unusable(&card)?;
    Ok(members::get(tx, card.member_id).await?)
}

/// A member's cards and their history.
pub async fn of_member(
    tx: &mut TenantTx,
    id: Uuid,
) -> Result<(Vec<Card>, Vec<CardEvent>), AppError> {
    members::get(tx, id).await.not_found_as("member")?;
    let list = cards::of_member(tx, id).await?;
    let history = cards::history(tx, id).await?;
    Ok((list, history))
}

/// Ties a physical card (its code already checked) to the member's card in use.
pub async fn bind_physical(
    tx: &mut TenantTx,
    id: Uuid,
    code: &str,
    by: &Actor<'_>,
) -> Result<Card, AppError> {
    members::get(tx, id).await.not_found_as("member")?;
    let card = cards::active_of(tx, id).await?.ok_or_else(|| {
        AppError::conflict(
            "no_active_card",
            None,
            "the member has no card in use; reissue one first",
        )
    })?;
    let card = cards::bind_physical(tx, &card, code, by)
        .await
        .map_err(|e| match e {
            DbError::Conflict(_) => AppError::conflict(
                "physical_card_taken",
                Some("physical_code"),
                "this physical card is bound to another card",
            ),
            other => other.into(),
        })?;
    members::audit(
        tx,
        id,
        by,
        "card.physical_bound",
        Some("card"),
        None,
        Some(Value::from(code)),
    )
    .await?;
    patron_db::audit::record_member(
        tx,
        by.at,
        by.subject,
        "card.physical_bound",
        id,
        serde_json::json!({ "card": card.number }),
    )
    .await?;
    Ok(card)
}

/// Reports a card lost: it is frozen at once.
pub async fn report_lost(
    tx: &mut TenantTx,
    number: &str,
    by: &Actor<'_>,
) -> Result<Card, AppError> {
    let card = find_card(tx, number).await?;
    if card.status != "active" {
        refuse_unusable(&card)?;
    }
    let card = cards::report_lost(tx, &card, by).await?;
    members::audit(
        tx,
        card.member_id,
        by,
        "card.reported_lost",
        Some("card"),
        Some(Value::from(card.number.clone())),
        None,
    )
    .await?;
    patron_db::audit::record_member(
        tx,
        by.at,
        by.subject,
        "card.reported_lost",
        card.member_id,
        serde_json::json!({ "card": card.number }),
    )
    .await?;
    Ok(card)
}

/// Reissues: a new number for the member, the old one blocked for good.
pub async fn reissue(tx: &mut TenantTx, number: &str, by: &Actor<'_>) -> Result<Card, AppError> {
    let card = find_card(tx, number).await?;
    if card.status == "blocked" {
        refuse_unusable(&card)?;
    }
    let m = members::get(tx, card.member_id).await?;
    if m.status == "erased" {
        return Err(AppError::conflict(
            "member_erased",
            None,
            "this member was erased",
        ));
    }
    let new = cards::reissue(tx, &card, by).await?;
    members::audit(
        tx,
        card.member_id,
        by,
        "card.reissued",
        Some("card"),
        Some(Value::from(card.number.clone())),
        Some(Value::from(new.number.clone())),
    )
    .await?;
    patron_db::audit::record_member(
        tx,
        by.at,
        by.subject,
        "card.reissued",
        card.member_id,
        serde_json::json!({ "card": card.number, "new_card": new.number }),
    )
    .await?;
    Ok(new)
}

/// How new card numbers look.
pub async fn format(tx: &mut TenantTx) -> Result<CardFormat, AppError> {
    Ok(cards::format(tx).await?)
}

/// Checks a card format on its own, before anything else is looked at.
pub fn check_format(f: &CardFormat) -> Result<(), AppError> {
    f.check().map_err(|e| AppError::invalid(vec![e]))
}

/// Changes how new card numbers look (existing numbers stay); audited. The format was
/// checked with [`check_format`].
pub async fn set_format(
    tx: &mut TenantTx,
    f: &CardFormat,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    cards::set_format(tx, f).await?;
    audit::record(
        tx,
        now,
        subject,
        "card_format.changed",
        "",
        serde_json::to_value(f).unwrap_or_default(),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(status: &str, replaced_by: Option<&str>) -> Card {
        Card {
            number: "100001".into(),
            member_id: Uuid::nil(),
            status: status.into(),
            physical_code: None,
            issued_at: Utc::now(),
            replaced_by: replaced_by.map(str::to_owned),
            changed_at: Utc::now(),
        }
    }

    #[test]
    fn lost_and_blocked_cards_are_refused_with_their_own_codes() {
        assert!(refuse_unusable(&card("active", None)).is_ok());
        assert_eq!(
            refuse_unusable(&card("lost", None)).unwrap_err().code(),
            "card_lost"
        );
        let e = refuse_unusable(&card("blocked", Some("100002"))).unwrap_err();
        assert_eq!(e.code(), "card_blocked");
        assert!(e.to_string().contains("replaced"));
        let e = refuse_unusable(&card("blocked", None)).unwrap_err();
        assert!(!e.to_string().contains("replaced"));
    }
}
