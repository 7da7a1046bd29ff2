//! How a purchase or event names its member: exactly one of id, card number or phone.

use crate::AppError;
use patron_core::members::{self as core_members, Phone};
use patron_core::pii::PiiKeys;
use patron_db::members::{self, Member};
use patron_db::points::MemberLookup;
use patron_db::{cards, DbError, Tenant, TenantTx};
use uuid::Uuid;

/// Who a purchase or event is for: exactly one of `member_id`, `card_number`, `phone`.
#[derive(Debug, Clone, Default)]
pub struct MemberRef {
    pub member_id: Option<Uuid>,
    pub card_number: Option<String>,
    pub phone: Option<String>,
}

/// How a request names its member (exactly one of id, card or phone), checked and
/// normalised: the field named and the lookup, or 422 naming the field when malformed.
pub(crate) fn member_lookup<'a>(
    tenant: &Tenant,
    pii: &PiiKeys,
    r: &'a MemberRef,
    card: &'a mut String,
    index: &'a mut Vec<u8>,
) -> Result<(&'static str, MemberLookup<'a>), AppError> {
    match (r.member_id, &r.card_number, &r.phone) {
        (Some(id), None, None) => Ok(("member_id", MemberLookup::Id(id))),
        (None, Some(c), None) => {
            *card = core_members::normalise_card_number(c)
                .map_err(|e| AppError::field("card_number", e))?;
            Ok(("card_number", MemberLookup::ActiveCard(card)))
        }
        (None, None, Some(phone)) => {
            let p = Phone::parse(phone, &tenant.settings.phone_region)
                .map_err(|e| AppError::field("phone", e))?;
            *index = pii.blind_index("phone", p.e164());
            Ok(("phone", MemberLookup::PhoneIndex(index)))
        }
        _ => Err(AppError::field(
            "member_id",
            patron_core::Issue::new(
                patron_core::FieldCode::OneOf,
                "give exactly one of member_id, card_number or phone",
            )
            .with("options", "member_id, card_number, phone"),
        )),
    }
}

/// Finds the member a request names, or 422 naming the field.
pub async fn resolve_member(
    tx: &mut TenantTx,
    tenant: &Tenant,
    pii: &PiiKeys,
    r: &MemberRef,
) -> Result<Member, AppError> {
    let (mut card, mut index) = (String::new(), Vec::new());
    let (field, lookup) = member_lookup(tenant, pii, r, &mut card, &mut index)?;
    let found = match lookup {
        MemberLookup::Id(id) => members::get(tx, id).await.map(Some),
        // Any card with this number, so that a card not in use is named as such.
        MemberLookup::ActiveCard(number) => match cards::find(tx, number).await? {
            Some(card) if card.status == "active" => {
                members::get(tx, card.member_id).await.map(Some)
            }
            Some(card) => {
                return Err(AppError::field(
                    "card_number",
                    patron_core::Issue::new(
                        patron_core::FieldCode::NotAllowed,
                        format!("this card is {}; use the member's card in use", card.status),
                    )
                    .with("reason", "card_not_active")
                    .with("status", card.status.as_str()),
                ))
            }
            None => Ok(None),
        },
        MemberLookup::PhoneIndex(index) => members::find_by_phone_index(tx, index).await,
    };
    let m = match found {
        Ok(Some(m)) => m,
        Ok(None) | Err(DbError::NotFound) => {
            return Err(AppError::field(field, patron_core::Issue::no_such_member()))
        }
        Err(e) => return Err(e.into()),
    };
    if m.status == "erased" {
        return Err(AppError::field(field, patron_core::Issue::member_erased()));
    }
    Ok(m)
}
