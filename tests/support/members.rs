//! The member register: members, search, cards, the card format, the member audit trail,
//! phone codes and erasure.

use super::app::{Api, Auth, TestApp};
use super::reply::Reply;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Clone, Debug, Deserialize)]
pub struct Member {
    pub id: String,
    pub status: String,
    pub card_number: Option<String>,
    pub name: String,
    pub phone: Option<String>,
    pub phone_verified: bool,
    pub email: Option<String>,
    pub pii_masked: bool,
    pub gender: Option<String>,
    pub birthday: Option<String>,
    pub join_date: Option<String>,
    pub home_store: Option<String>,
    pub tags: Vec<String>,
    pub notes: Option<String>,
    pub referrer_id: Option<String>,
    pub custom: Value,
    pub archived: Value,
    pub channel: String,
    /// In lists: the point balance, tier and last visit.
    #[serde(default)]
    pub points: Option<i64>,
    #[serde(default)]
    pub tier: Option<String>,
    #[serde(default)]
    pub last_visit_at: Option<String>,
    /// On one member: when their e-mail address bounced.
    #[serde(default)]
    pub email_bounced_at: Option<String>,
}

impl Member {
    /// The member's card number; panics when it has none.
    pub fn card(&self) -> &str {
        self.card_number.as_deref().expect("a card number")
    }
}

/// A page of the register.
#[derive(Clone, Debug, Deserialize)]
pub struct MemberPage {
    pub items: Vec<Member>,
    pub next_cursor: Option<String>,
    pub total: i64,
    pub total_capped: bool,
}

/// One change in a member's audit trail.
#[derive(Clone, Debug, Deserialize)]
pub struct MemberAuditEntry {
    pub actor: String,
    pub channel: String,
    pub action: String,
    pub field: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Card {
    pub number: String,
    pub status: String,
    pub physical_code: Option<String>,
    pub replaced_by: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct CardEvent {
    pub number: String,
    pub event: String,
}

/// A member's cards and what happened to them.
#[derive(Clone, Debug, Deserialize)]
pub struct MemberCards {
    pub cards: Vec<Card>,
    pub history: Vec<CardEvent>,
}

/// A member to register; only the name is required.
#[derive(Clone, Debug, Default, Serialize)]
pub struct NewMember {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birthday: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub join_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub home_store: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referrer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom: Option<Value>,
}

impl NewMember {
    pub fn named(name: impl Into<String>) -> Self {
        NewMember {
            name: name.into(),
            ..Default::default()
        }
    }

    pub fn phone(mut self, phone: impl Into<String>) -> Self {
        self.phone = Some(phone.into());
        self
    }

    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// An e-mail, or none when `None`.
    pub fn maybe_email(mut self, email: Option<String>) -> Self {
        self.email = email;
        self
    }

    pub fn gender(mut self, gender: &str) -> Self {
        self.gender = Some(gender.into());
        self
    }

    pub fn birthday(mut self, birthday: impl Into<String>) -> Self {
        self.birthday = Some(birthday.into());
        self
    }

    pub fn join_date(mut self, join_date: &str) -> Self {
        self.join_date = Some(join_date.into());
        self
    }

    pub fn home_store(mut self, store: &str) -> Self {
        self.home_store = Some(store.into());
        self
    }

    pub fn tags(mut self, tags: &[&str]) -> Self {
        self.tags = Some(tags.iter().map(|t| (*t).to_owned()).collect());
        self
    }

    pub fn notes(mut self, notes: &str) -> Self {
        self.notes = Some(notes.into());
        self
    }

    pub fn referrer(mut self, member_id: &str) -> Self {
        self.referrer_id = Some(member_id.into());
        self
    }

    /// Values of the tenant's own fields (a JSON object).
    pub fn custom(mut self, custom: Value) -> Self {
        self.custom = Some(custom);
        self
    }
}

impl Api {
    /// `POST /members`.
    pub async fn create_member(&self, auth: &Auth, input: &impl Serialize) -> Reply<Member> {
        self.v1(Method::POST, "/members")
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `GET /members/{id}`.
    pub async fn get_member(&self, auth: &Auth, id: &str) -> Reply<Member> {
        self.v1(Method::GET, &format!("/members/{id}"))
            .auth(auth)
            .send()
            .await
    }

    /// `PATCH /members/{id}`.
    pub async fn update_member(
        &self,
        auth: &Auth,
        id: &str,
        input: &impl Serialize,
    ) -> Reply<Member> {
        self.v1(Method::PATCH, &format!("/members/{id}"))
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `GET /members`.
    pub async fn list_members(&self, auth: &Auth) -> Reply<MemberPage> {
        self.v1(Method::GET, "/members").auth(auth).send().await
    }

    /// `POST /members/search`.
    pub async fn search_members(&self, auth: &Auth, query: &impl Serialize) -> Reply<MemberPage> {
        self.v1(Method::POST, "/members/search")
            .auth(auth)
            .json(query)
            .send()
            .await
    }

    /// `GET /members/{id}/audit`.
    pub async fn member_audit(&self, auth: &Auth, id: &str) -> Reply<Vec<MemberAuditEntry>> {
        self.v1(Method::GET, &format!("/members/{id}/audit"))
            .auth(auth)
            .send()
            .await
    }

    /// `POST /members/{id}/erase`.
    pub async fn erase_member(&self, auth: &Auth, id: &str) -> Reply<Member> {
        self.v1(Method::POST, &format!("/members/{id}/erase"))
            .auth(auth)
            .json(&json!({}))
            .send()
            .await
    }

    /// `POST /members/{id}/phone-code`: a code to `phone`, to change a verified phone.
    pub async fn send_member_phone_code(&self, auth: &Auth, id: &str, phone: &str) -> Reply {
        self.v1(Method::POST, &format!("/members/{id}/phone-code"))
            .auth(auth)
            .json(&json!({ "phone": phone }))
            .send()
            .await
    }

    /// `GET /members/{id}/cards`.
    pub async fn member_cards(&self, auth: &Auth, id: &str) -> Reply<MemberCards> {
        self.v1(Method::GET, &format!("/members/{id}/cards"))
            .auth(auth)
            .send()
            .await
    }

    /// `POST /members/{id}/cards/physical`.
    pub async fn bind_physical_card(
        &self,
        auth: &Auth,
        id: &str,
        physical_code: &str,
    ) -> Reply<Card> {
        self.v1(Method::POST, &format!("/members/{id}/cards/physical"))
            .auth(auth)
            .json(&json!({ "physical_code": physical_code }))
            .send()
            .await
    }

    /// `GET /cards/{number}`: the member holding a card.
    pub async fn lookup_card(&self, auth: &Auth, number: &str) -> Reply<Member> {
        self.v1(Method::GET, &format!("/cards/{number}"))
            .auth(auth)
            .send()
            .await
    }

    /// `POST /cards/{number}/lost`.
    pub async fn report_card_lost(&self, auth: &Auth, number: &str) -> Reply<Card> {
        self.v1(Method::POST, &format!("/cards/{number}/lost"))
            .auth(auth)
            .json(&json!({}))
            .send()
            .await
    }

    /// `POST /cards/{number}/reissue`.
    pub async fn reissue_card(&self, auth: &Auth, number: &str) -> Reply<Card> {
        self.v1(Method::POST, &format!("/cards/{number}/reissue"))
            .auth(auth)
            .json(&json!({}))
            .send()
            .await
    }

    /// `PUT /card-format`.
    pub async fn set_card_format(&self, auth: &Auth, input: &impl Serialize) -> Reply {
        self.v1(Method::PUT, "/card-format")
            .auth(auth)
            .json(input)
            .send()
            .await
    }
}

impl TestApp {
    /// Registers a member; panics unless it is created.
    pub async fn member(&self, auth: &Auth, input: NewMember) -> Member {
        self.create_member(auth, &input).await.created()
    }

    /// Every member a search finds, following `next_cursor`, `limit` at a time.
    pub async fn search_all(&self, auth: &Auth, query: Value, limit: i64) -> Vec<Member> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut q = query.clone();
            q["limit"] = json!(limit);
            q["after"] = json!(after);
            let page = self.search_members(auth, &q).await.ok();
            assert!(page.items.len() as i64 <= limit);
            out.extend(page.items);
            match page.next_cursor {
                Some(c) => after = Some(c),
                None => break,
            }
        }
        out
    }
}
