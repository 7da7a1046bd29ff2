//! Which error responses each operation lists in the OpenAPI document.
//!
//! Every handler answers `Result<_, ApiError>`, so poem-openapi would list all of
//! `ApiError`'s statuses under every operation. The document is instead narrowed to the
//! statuses an operation can really give, decided here from what the operation is:
//!
//! | status | listed when |
//! |---|---|
//! | 400 | the operation reads a body or parameters (they may not parse) |
//! | 401 | it needs credentials, or checks them itself ([`UNAUTHORIZED`]) |
//! | 402, 403, 429 | a business's staff or integrations call it (plan gates, Casbin, the plan's request rate; 403 `two_factor_setup_required` for an owner who must enrol two-factor codes first, on all but `me`, `myLogins`, `logout` and the enrolment steps) |
//! | 403 | an operator calls it on an account that forbids it, or it is named in [`FORBIDDEN`] |
//! | 404 | a path parameter names something, or it is named in [`NOT_FOUND`] |
//! | 409 | it is named in [`CONFLICT`] (taken names, reused idempotency keys, states that refuse) |
//! | 422 | it reads a body, path or query parameters (a control character is refused in any of them) |
//! | 429 | it is named in [`TOO_MANY`] (logins, one-time codes) |
//! | 500 | always |
//! | 503 | it runs a tenant's script in the sandbox ([`SANDBOX`]), or calls out ([`UNAVAILABLE`]) |
//!
//! The test client (`tests/support`) checks every answer the test suite receives against the
//! document, so a status an operation gives but does not list fails the suite.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Operations that can answer 409.
const CONFLICT: &[&str] = &[
    // The provider's message id came before with another body.
    "smsReply",
    "createCampaign",
    "cancelCampaign",
    "createSegment",
    "updateSegment",
    "eraseMember",
    "memberMemberships",
    "memberPasses",
    "memberStoredValue",
    "previewTopUp",
    "signup",
    "enrolTwoFactor",
    "confirmTwoFactor",
    "disableTwoFactor",
    "renewRecoveryCodes",
    "opsEnrolTwoFactor",
    "opsConfirmTwoFactor",
    "opsDisableTwoFactor",
    "opsRenewRecoveryCodes",
    "createStaff",
    "updateStaff",
    "createRole",
    "updateRole",
    "deleteRole",
    "createMember",
    "updateMember",
    "bindPhysicalCard",
    "lookupCard",
    "reportCardLost",
    "reissueCard",
    "importMembers",
    "searchMembers",
    "exportMembersCsv",
    "exportMembersXlsx",
    "portalRegister",
    "portalUpdateMe",
    "recordPurchase",
    "recordRefund",
    "adjustPoints",
    "redeemPoints",
    "checkIn",
    "recordEvent",
    "portalCheckIn",
    "publishRule",
    "rollbackRule",
    "publishTiers",
    "rollbackTiers",
    "previewTiers",
    "memberTier",
    "pinMemberTier",
    "unpinMemberTier",
    "changeMyPlan",
    "closeAccount",
    "opsCreatePlan",
    "opsSetPlan",
    "opsSuspendTenant",
    "opsResumeTenant",
    "opsExtendTrial",
    "opsCloseTenant",
    "opsOpenSupport",
    "setCardFormat",
    "publishFields",
    "revokeApiKey",
    "deskLookup",
    "sendRedemptionCode",
    "topUp",
    "previewTopUpRefund",
    "refundTopUp",
    "consumePass",
    "reversePassUse",
    "renewMembership",
    "freezeMembership",
    "cancelMembership",
    // Prepaid on an erased member (409 `member_erased`), a sale paid from a balance that
    // does not cover it, a plan's tier missing from the ladder, a frozen pass.
    "createMembershipPlan",
    "sellMembership",
    "memberMemberships",
    "sellPass",
    "renewPass",
    "memberPasses",
    "freezePass",
    "unfreezePass",
    "memberStoredValue",
    "previewTopUp",
    // The points mall: points, stock, limits, the item's window and tiers, an order's
    // state, a reused key, an erased member.
    "placeMallOrder",
    "moveMallOrder",
    "completeMallPickup",
    "portalPlaceMallOrder",
    "portalCancelMallOrder",
    // Coupons: a shared code taken, a template archived or sold out, a member's or a day's
    // limit, a used coupon voided, points short for a claim, a reused key.
    "createCouponTemplate",
    "updateCouponTemplate",
    "createCouponBatch",
    "issueCoupons",
    "issueCouponsToSegment",
    "memberCoupons",
    "voidCoupon",
    "reserveCoupon",
    "portalClaimCoupon",
    // Activities: states that refuse, seats, sign-ups twice, codes scanned twice.
    "updateActivity",
    "setActivityStatus",
    "addActivityRegistration",
    "approveActivityRegistration",
    "rejectActivityRegistration",
    "moveActivityRegistration",
    "cancelActivityRegistration",
    "checkInActivity",
    "addActivityGuest",
    "cancelActivityGuest",
    "checkInActivityGuest",
    "portalSignUpActivity",
    "portalCancelActivity",
    "portalAcceptActivityOffer",
    "portalActivityCode",
    "portalRateActivity",
    // The photo wall: photos only from those who checked in, each picture once.
    "addActivityPhoto",
    "portalAddActivityPhoto",
    // Promotions: only drafts change, publish or go; only scheduled or running ones stop.
    "updatePromotion",
    "deletePromotion",
    "publishPromotion",
    "stopPromotion",
    // Conversations: idempotency keys reused with another body.
    "answerConversation",
    "addConversationFollowUp",
    "portalStartConversation",
    "portalWriteConversation",
];

/// Operations without a path parameter that can still answer 404 (a thing named in the
/// body, or the business in a member's token).
const NOT_FOUND: &[&str] = &[
    "recordPurchase",
    "recordRefund",
    "recordEvent",
    "searchMembers",
    "exportMembersCsv",
    "exportMembersXlsx",
    "opsEndSupport",
    "validateCoupons",
    // The business named in the gateway's callback.
    "smsReply",
];

/// Operations that refuse too many attempts.
const TOO_MANY: &[&str] = &[
    "sendTestSms",
    "login",
    "operatorLogin",
    "portalSendCode",
    "portalRegister",
    "portalLogin",
    "portalResetPassword",
    "sendPhoneChangeCode",
    "updateMember",
    "redeemPoints",
    "sendRedemptionCode",
];

/// Operations without credentials that still refuse wrong ones (logins, signed webhooks).
const UNAUTHORIZED: &[&str] = &[
    "login",
    "operatorLogin",
    "portalLogin",
    "paymentWebhook",
    "smsReply",
];

/// Operations a caller may be refused outright (beyond the staff roles that every tenant
/// operation checks): a disabled account, an owner-only step, a business that is not open
/// to its members right now.
const FORBIDDEN: &[&str] = &[
    "login",
    "portalSendCode",
    "portalRegister",
    "portalLogin",
    "portalResetPassword",
    "portalUpdateMe",
    "portalCheckIn",
    "portalActivities",
    "portalSignUpActivity",
    "portalMyActivities",
    "portalCancelActivity",
    "portalAcceptActivityOffer",
    "portalActivityCode",
    "portalRateActivity",
    "portalCreateUpload",
    "portalCompleteUpload",
    "portalActivityPhotos",
    "portalAddActivityPhoto",
    "portalDeleteActivityPhoto",
    "changePassword",
    "logout",
    "operatorLogout",
    "opsCreatePlan",
    "opsUpdatePlan",
    "opsSetPlan",
    "opsSuspendTenant",
    "opsResumeTenant",
    "opsExtendTrial",
    "opsCloseTenant",
    "opsOpenSupport",
    "opsEndSupport",
    // The points mall in the portal, when the business's plan has none.
    "portalMall",
    "portalPlaceMallOrder",
    "portalMallOrders",
    "portalCancelMallOrder",
    "portalClaimCoupon",
    // Conversations in the portal, when the business's plan has none.
    "portalStartConversation",
    "portalConversation",
    "portalWriteConversation",
    "portalReadConversation",
];

/// Operations that run a tenant's script in the sandbox.
const SANDBOX: &[&str] = &[
    "saveRuleDraft",
    "validateRule",
    "simulateRule",
    "publishRule",
    "rollbackRule",
    "saveTierDraft",
    "checkTierScript",
    "previewTiers",
    "publishTiers",
    "rollbackTiers",
];

/// Operations that call another system at once and say so when it is not configured.
const UNAVAILABLE: &[&str] = &[
    "testWebhookEndpoint",
    // No SMS gateway configured: nobody can sign its callbacks.
    // Uploads: no object store configured (`uploads_not_configured`), or it did not answer.
    "createUpload",
    "completeUpload",
    "getUpload",
    "uploadContent",
    "deleteUpload",
    "activityPhotos",
    "addActivityPhoto",
    "deleteActivityPhoto",
    "portalCreateUpload",
    "portalCompleteUpload",
    "portalActivityPhotos",
    "portalAddActivityPhoto",
    "portalDeleteActivityPhoto",
];

/// The error statuses `ApiError` can carry; any other response an operation lists
/// (its successes) is kept as it is.
const ERRORS: &[u16] = &[400, 401, 402, 403, 404, 409, 422, 429, 500, 503];

/// A JSON value that keeps its keys in order, so the document reads as poem wrote it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum Json {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Json>),
    Object(IndexMap<String, Json>),
}

impl Json {
    fn object(&self) -> Option<&IndexMap<String, Json>> {
        match self {
            Json::Object(o) => Some(o),
            _ => None,
        }
    }

    fn object_mut(&mut self) -> Option<&mut IndexMap<String, Json>> {
        match self {
            Json::Object(o) => Some(o),
            _ => None,
        }
    }

    fn str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    fn array(&self) -> &[Json] {
        match self {
            Json::Array(a) => a,
            _ => &[],
        }
    }
}

/// What the document says of one operation, as far as its error statuses depend on it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Shape {
    pub id: String,
    pub body: bool,
    pub path_params: bool,
    pub query_params: bool,
    pub header_params: bool,
    /// The security schemes it accepts (any one of them).
    pub security: Vec<String>,
}

impl Shape {
    fn of(op: &IndexMap<String, Json>) -> Self {
        let mut s = Shape {
            id: op
                .get("operationId")
                .and_then(Json::str)
                .unwrap_or_default()
                .to_owned(),
            body: op.contains_key("requestBody"),
            ..Shape::default()
        };
        for p in op.get("parameters").map(Json::array).unwrap_or_default() {
            match p.object().and_then(|p| p.get("in")).and_then(Json::str) {
                Some("path") => s.path_params = true,
                Some("query") => s.query_params = true,
                Some("header") => s.header_params = true,
                _ => {}
            }
        }
        for req in op.get("security").map(Json::array).unwrap_or_default() {
            if let Some(o) = req.object() {
                s.security.extend(o.keys().cloned());
            }
        }
        s
    }
}

/// The error statuses an operation of this shape can give.
pub fn statuses(op: &Shape) -> BTreeSet<u16> {
    let named = |list: &[&str]| list.contains(&op.id.as_str());
    let mut out = BTreeSet::from([500]);
    if op.body || op.path_params || op.query_params || op.header_params {
        out.insert(400);
    }
    if !op.security.is_empty() || named(UNAUTHORIZED) {
        out.insert(401);
    }
    if op
        .security
        .iter()
        .any(|s| s == "StaffToken" || s == "IntegrationKey")
    {
        out.extend([402, 403, 429]);
    }
    if named(FORBIDDEN) {
        out.insert(403);
    }
    if op.path_params || named(NOT_FOUND) {
        out.insert(404);
    }
    if named(CONFLICT) {
        out.insert(409);
    }
    if op.body || op.query_params || op.path_params {
        out.insert(422);
    }
    if named(TOO_MANY) {
        out.insert(429);
    }
    if named(SANDBOX) || named(UNAVAILABLE) {
        out.insert(503);
    }
    out
}

/// Narrows poem's document (`OpenApiService::spec`) to the statuses each operation can give,
/// and makes it say what the server does beyond poem's own account: every operation may
/// answer 405 with `Allow` (another method on its path), one with a body 415 (a body that is
/// not JSON), and an optional property without a default may be sent and returned as `null`
/// (poem reads a `null` as absent and writes an absent `Option` as `null`).
pub fn narrow(spec: &str) -> String {
    let mut doc: Json = serde_json::from_str(spec).expect("poem writes its document as JSON");
    let mut parameter_limits = 0;
    if let Some(paths) = doc.object_mut().and_then(|d| d.get_mut("paths")) {
        for ops in paths.object_mut().into_iter().flat_map(|p| p.values_mut()) {
            for op in ops.object_mut().into_iter().flat_map(|o| o.values_mut()) {
                let Some(op) = op.object_mut() else { continue };
                parameter_limits += apply_parameter_limits(op);
                for p in op
                    .get_mut("parameters")
                    .and_then(|p| match p {
                        Json::Array(a) => Some(a),
                        _ => None,
                    })
                    .into_iter()
                    .flatten()
                    .filter_map(Json::object_mut)
                {
                    let pattern = match p.get("name").and_then(Json::str) {
                        Some(n) if n.eq_ignore_ascii_case("idempotency-key") => {
                            super::limits::FILLED_LINE
                        }
                        _ => super::text_guard::TEXT_PATTERN,
                    };
                    if let Some(s) = p.get_mut("schema") {
                        plain_text(s, pattern);
                    }
                }
                let shape = Shape::of(op);
                let keep = statuses(&shape);
                if let Some(responses) = op.get_mut("responses").and_then(Json::object_mut) {
                    responses.retain(|status, _| match status.parse::<u16>() {
                        Ok(s) if ERRORS.contains(&s) => keep.contains(&s),
                        _ => true,
                    });
                    responses.insert("405".into(), problem_response(WRONG_METHOD, true));
                    if shape.body {
                        responses.insert("415".into(), problem_response(NOT_JSON, false));
                    }
                }
            }
        }
    }
    let expected = super::limits::LIMITS
        .iter()
        .filter(|l| l.0.starts_with('@'))
        .count();
    assert!(
        parameter_limits == expected || (parameter_limits == 0 && is_fragment(&doc)),
        "a limit names an operation the document lacks"
    );
    let closed = request_schemas(&doc);
    let schemas = doc
        .object_mut()
        .and_then(|d| d.get_mut("components"))
        .and_then(Json::object_mut)
        .and_then(|c| c.get_mut("schemas"))
        .and_then(Json::object_mut);
    let Some(schemas) = schemas else {
        add_links(&mut doc);
        return serde_json::to_string_pretty(&doc).expect("a document serialises");
    };
    apply_limits(schemas);
    for (name, schema) in schemas.iter_mut() {
        let Some(schema) = schema.object_mut() else {
            continue;
        };
        // A request object refuses members it does not declare (`body_check`), and its free
        // text the control characters `text_guard` refuses.
        if closed.contains(name) {
            if !schema.contains_key("additionalProperties") {
                schema.insert("additionalProperties".into(), Json::Bool(false));
            }
            // An idempotency key is one line with something in it (the use cases refuse an
            // empty or blank key rather than treat it as none).
            for (key, prop) in schema
                .get_mut("properties")
                .and_then(Json::object_mut)
                .into_iter()
                .flat_map(|p| p.iter_mut())
            {
                let pattern = match key.as_str() {
                    "idempotency_key" => super::limits::FILLED_LINE,
                    _ => super::limits::BODY_TEXT,
                };
                plain_text(prop, pattern);
            }
        }
        let required: BTreeSet<String> = schema
            .get("required")
            .map(Json::array)
            .unwrap_or_default()
            .iter()
            .filter_map(|n| n.str().map(str::to_owned))
            .collect();
        let props = schema.get_mut("properties").and_then(Json::object_mut);
        for (name, prop) in props.into_iter().flat_map(|p| p.iter_mut()) {
            if required.contains(name) {
                continue;
            }
            let Some(p) = prop.object_mut() else { continue };
            // A property with a default is always written; without one it is an `Option`.
            if p.contains_key("default") {
                continue;
            }
            if let Some(r) = p.shift_remove("$ref") {
                let mut one = IndexMap::new();
                one.insert("$ref".to_owned(), r);
                p.insert("allOf".into(), Json::Array(vec![Json::Object(one)]));
            }
            p.insert("nullable".into(), Json::Bool(true));
        }
    }
    add_links(&mut doc);
    serde_json::to_string_pretty(&doc).expect("a document serialises")
}

/// What a created thing leads to: (operation, its success status, the operations its answer
/// feeds, each parameter and where its value comes from). Written into the document as
/// OpenAPI links, so a client (and the contract run's stateful phase) can follow create ->
/// read -> change with real ids.
type LinkTargets = &'static [(&'static str, &'static [(&'static str, &'static str)])];

const MEMBER: &[(&str, &str)] = &[("id", "$response.body#/id")];
const OF_MEMBER: &[(&str, &str)] = &[("id", "$request.path.id")];

pub const LINKS: &[(&str, &str, LinkTargets)] = &[
    (
        "createMember",
        "201",
        &[
            ("getMember", MEMBER),
            ("updateMember", MEMBER),
            ("memberAudit", MEMBER),
            ("memberCards", MEMBER),
            ("memberSummary", MEMBER),
            ("memberPoints", MEMBER),
            ("memberPointEntries", MEMBER),
            ("memberPurchases", MEMBER),
            ("memberTier", MEMBER),
            ("adjustPoints", MEMBER),
            ("redeemPoints", MEMBER),
            ("checkIn", MEMBER),
            ("memberStoredValue", MEMBER),
            ("previewTopUp", MEMBER),
            ("topUp", MEMBER),
            ("memberPasses", MEMBER),
            ("sellPass", MEMBER),
            ("memberMemberships", MEMBER),
            ("sellMembership", MEMBER),
        ],
    ),
    (
        "createStaff",
        "201",
        &[
            ("getStaff", &[("id", "$response.body#/id")]),
            ("updateStaff", &[("id", "$response.body#/id")]),
            ("staffLogins", &[("id", "$response.body#/id")]),
        ],
    ),
    (
        "createRole",
        "201",
        &[
            ("getRole", &[("name", "$response.body#/name")]),
            ("updateRole", &[("name", "$response.body#/name")]),
            ("deleteRole", &[("name", "$response.body#/name")]),
        ],
    ),
    (
        "createApiKey",
        "201",
        &[("revokeApiKey", &[("id", "$response.body#/id")])],
    ),
    (
        "createWebhookEndpoint",
        "201",
        &[
            ("getWebhookEndpoint", &[("id", "$response.body#/id")]),
            ("updateWebhookEndpoint", &[("id", "$response.body#/id")]),
            ("listWebhookDeliveries", &[("id", "$response.body#/id")]),
            ("rotateWebhookSecret", &[("id", "$response.body#/id")]),
            ("deleteWebhookEndpoint", &[("id", "$response.body#/id")]),
        ],
    ),
    (
        "recordPurchase",
        "201",
        &[("getPurchase", &[("id", "$response.body#/purchase_id")])],
    ),
    (
        "importMembers",
        "202",
        &[("getMemberImport", &[("id", "$response.body#/id")])],
    ),
    (
        "createPassProduct",
        "200",
        &[(
            "setPassProductArchived",
            &[("product_id", "$response.body#/id")],
        )],
    ),
    (
        "createMembershipPlan",
        "200",
        &[(
            "setMembershipPlanArchived",
            &[("plan_id", "$response.body#/id")],
        )],
    ),
    (
        "topUp",
        "201",
        &[
            (
                "previewTopUpRefund",
                &[
                    ("id", "$request.path.id"),
                    ("top_up_id", "$response.body#/top_up_id"),
                ],
            ),
            (
                "refundTopUp",
                &[
                    ("id", "$request.path.id"),
                    ("top_up_id", "$response.body#/top_up_id"),
                ],
            ),
        ],
    ),
    (
        "sellPass",
        "200",
        &[
            ("memberPasses", OF_MEMBER),
            (
                "consumePass",
                &[
                    ("id", "$request.path.id"),
                    ("pass_id", "$response.body#/id"),
                ],
            ),
            (
                "renewPass",
                &[
                    ("id", "$request.path.id"),
                    ("pass_id", "$response.body#/id"),
                ],
            ),
            (
                "freezePass",
                &[
                    ("id", "$request.path.id"),
                    ("pass_id", "$response.body#/id"),
                ],
            ),
            (
                "unfreezePass",
                &[
                    ("id", "$request.path.id"),
                    ("pass_id", "$response.body#/id"),
                ],
            ),
        ],
    ),
    (
        "consumePass",
        "201",
        &[(
            "reversePassUse",
            &[
                ("id", "$request.path.id"),
                ("pass_id", "$request.path.pass_id"),
                ("use_id", "$response.body#/use_id"),
            ],
        )],
    ),
    (
        "sellMembership",
        "200",
        &[
            ("memberMemberships", OF_MEMBER),
            (
                "renewMembership",
                &[
                    ("id", "$request.path.id"),
                    ("membership_id", "$response.body#/id"),
                ],
            ),
            (
                "freezeMembership",
                &[
                    ("id", "$request.path.id"),
                    ("membership_id", "$response.body#/id"),
                ],
            ),
            (
                "cancelMembership",
                &[
                    ("id", "$request.path.id"),
                    ("membership_id", "$response.body#/id"),
                ],
            ),
        ],
    ),
];

/// Writes [`LINKS`] into the operations' success responses. A link from or to an operation
/// the document lacks stops the server at start-up (a renamed operation), as limits do.
fn add_links(doc: &mut Json) {
    let whole = !is_fragment(doc);
    let mut known = BTreeSet::new();
    let Some(paths) = doc.object_mut().and_then(|d| d.get_mut("paths")) else {
        return;
    };
    for ops in paths.object_mut().into_iter().flat_map(|p| p.values_mut()) {
        for op in ops.object_mut().into_iter().flat_map(|o| o.values_mut()) {
            let Some(op) = op.object_mut() else { continue };
            let id = op
                .get("operationId")
                .and_then(Json::str)
                .unwrap_or_default()
                .to_owned();
            known.insert(id.clone());
            let Some((_, status, targets)) = LINKS.iter().find(|(from, ..)| *from == id) else {
                continue;
            };
            let Some(response) = op
                .get_mut("responses")
                .and_then(Json::object_mut)
                .and_then(|r| r.get_mut(*status))
                .and_then(Json::object_mut)
            else {
                panic!("a link leaves from {id} {status}, which the document lacks");
            };
            let mut links = IndexMap::new();
            for (to, params) in targets.iter() {
                let mut link = IndexMap::new();
                link.insert("operationId".to_owned(), Json::String((*to).to_owned()));
                link.insert(
                    "parameters".to_owned(),
                    Json::Object(
                        params
                            .iter()
                            .map(|(k, v)| ((*k).to_owned(), Json::String((*v).to_owned())))
                            .collect(),
                    ),
                );
                links.insert((*to).to_owned(), Json::Object(link));
            }
            response.insert("links".into(), Json::Object(links));
        }
    }
    if whole {
        for (from, _, targets) in LINKS {
            for name in std::iter::once(from).chain(targets.iter().map(|(to, _)| to)) {
                assert!(
                    known.contains(*name),
                    "a link names {name}, which the document lacks"
                );
            }
        }
    }
}

/// Writes each limit of [`super::limits::LIMITS`] on a schema into its property. A limit whose
/// schema or property the document lacks stops the server at start-up (a renamed field).
fn apply_limits(schemas: &mut IndexMap<String, Json>) {
    use super::limits::{FILLED_TEXT, LIMITS};
    for (schema, property, limit) in LIMITS.iter().filter(|l| !l.0.starts_with('@')) {
        let prop = schemas
            .get_mut(*schema)
            .and_then(Json::object_mut)
            .and_then(|s| s.get_mut("properties"))
            .and_then(Json::object_mut)
            .and_then(|p| p.get_mut(*property))
            .and_then(Json::object_mut)
            .unwrap_or_else(|| {
                panic!("a limit names {schema}.{property}, which the document lacks")
            });
        write_limit(prop, limit, FILLED_TEXT);
    }
}

/// Writes the limits of [`super::limits::LIMITS`] on an operation's parameters
/// (`@operationId`) into them.
fn apply_parameter_limits(op: &mut IndexMap<String, Json>) -> usize {
    use super::limits::{FILLED_PARAMETER, LIMITS};
    let Some(id) = op.get("operationId").and_then(Json::str).map(str::to_owned) else {
        return 0;
    };
    let mut applied = 0;
    for (_, name, limit) in LIMITS
        .iter()
        .filter(|l| l.0.strip_prefix('@') == Some(id.as_str()))
    {
        let param = op
            .get_mut("parameters")
            .and_then(|p| match p {
                Json::Array(a) => Some(a),
                _ => None,
            })
            .into_iter()
            .flatten()
            .filter_map(Json::object_mut)
            .find(|p| p.get("name").and_then(Json::str) == Some(*name))
            .and_then(|p| p.get_mut("schema"))
            .and_then(Json::object_mut)
            .unwrap_or_else(|| panic!("a limit names parameter {name} of {id}, which it lacks"));
        write_limit(param, limit, FILLED_PARAMETER);
        applied += 1;
    }
    applied
}

fn write_limit(prop: &mut IndexMap<String, Json>, limit: &super::limits::Limit, filled: &str) {
    use super::limits::Limit;
    // An array's limit on its items goes on `items`.
    let target = match (limit, prop.contains_key("items")) {
        (Limit::Items(_), _) | (_, false) => prop,
        (_, true) => prop
            .get_mut("items")
            .and_then(Json::object_mut)
            .expect("items is a schema"),
    };
    let num = |n: i64| Json::Number(n.into());
    match *limit {
        Limit::Len(min, max) => {
            if min > 0 {
                target.insert("minLength".into(), num(min as i64));
                target.insert("pattern".into(), Json::String(filled.to_owned()));
            }
            target.insert("maxLength".into(), num(max as i64));
        }
        Limit::OneOf(names) => {
            let names = names
                .iter()
                .map(|n| Json::String((*n).to_owned()))
                .collect();
            target.insert("enum".into(), Json::Array(names));
        }
        Limit::Range(min, max) => {
            target.insert("minimum".into(), num(min));
            target.insert("maximum".into(), num(max));
        }
        Limit::NonZero(min, max) => {
            target.insert("minimum".into(), num(min));
            target.insert("maximum".into(), num(max));
            let zero = serde_json::json!({ "enum": [0] });
            target.insert(
                "not".into(),
                serde_json::from_value(zero).expect("a schema reads as JSON"),
            );
        }
        Limit::Items(max) => {
            target.insert("maxItems".into(), num(max as i64));
        }
        Limit::Pattern(p) => {
            target.insert("pattern".into(), Json::String(p.to_owned()));
        }
    }
}

/// States a control-character rule (`pattern`) on a free-text string schema (or an array's
/// items): one without an enum, a format or a pattern of its own. Parameters get exactly
/// `text_guard`'s rule; bodies, which `body_check` holds to the document, refuse C1 controls
/// too.
fn plain_text(schema: &mut Json, pattern: &str) {
    let Some(s) = schema.object_mut() else { return };
    if s.get("type").and_then(Json::str) == Some("array") {
        if let Some(items) = s.get_mut("items") {
            plain_text(items, pattern);
        }
        return;
    }
    if s.get("type").and_then(Json::str) == Some("string")
        && !["enum", "format", "pattern"]
            .iter()
            .any(|k| s.contains_key(*k))
    {
        s.insert("pattern".into(), Json::String(pattern.to_owned()));
    }
}

/// A document without `components` (the unit tests' pieces), where limits are not written.
fn is_fragment(doc: &Json) -> bool {
    doc.object().is_none_or(|d| !d.contains_key("components"))
}

/// The names of the schemas a request body reaches (through properties, items, `allOf` and
/// maps' values).
fn request_schemas(doc: &Json) -> BTreeSet<String> {
    fn refs(j: &Json, out: &mut Vec<String>) {
        match j {
            Json::Object(o) => {
                if let Some(r) = o.get("$ref").and_then(Json::str) {
                    out.push(r.rsplit('/').next().unwrap_or_default().to_owned());
                }
                o.values().for_each(|v| refs(v, out));
            }
            Json::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let Some(d) = doc.object() else {
        return BTreeSet::new();
    };
    let mut todo = Vec::new();
    for ops in d
        .get("paths")
        .and_then(Json::object)
        .into_iter()
        .flat_map(|p| p.values())
    {
        for op in ops.object().into_iter().flat_map(|o| o.values()) {
            if let Some(body) = op.object().and_then(|o| o.get("requestBody")) {
                refs(body, &mut todo);
            }
        }
    }
    let all = d
        .get("components")
        .and_then(Json::object)
        .and_then(|c| c.get("schemas"))
        .and_then(Json::object);
    let mut seen = BTreeSet::new();
    while let Some(name) = todo.pop() {
        if seen.insert(name.clone()) {
            if let Some(s) = all.and_then(|a| a.get(&name)) {
                refs(s, &mut todo);
            }
        }
    }
    seen
}

const WRONG_METHOD: &str =
    "Returned for a method the path does not offer; `Allow` lists the ones it does.";
const NOT_JSON: &str = "Returned when the body is not `application/json`.";

fn problem_response(description: &str, allow: bool) -> Json {
    let mut r = serde_json::json!({
        "description": description,
        "content": { "application/json; charset=utf-8": {
            "schema": { "$ref": "#/components/schemas/Problem" }
        } }
    });
    if allow {
        r["headers"] = serde_json::json!({ "Allow": {
            "description": "The methods the path offers, e.g. `GET, POST`.",
            "schema": { "type": "string" }
        } });
    }
    serde_json::from_value(r).expect("a response reads as JSON")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(id: &str, security: &[&str]) -> Shape {
        Shape {
            id: id.into(),
            security: security.iter().map(|s| (*s).to_owned()).collect(),
            ..Shape::default()
        }
    }

    #[test]
    fn a_public_read_without_parameters_lists_only_the_server_failure() {
        assert_eq!(statuses(&shape("listPlans", &[])), BTreeSet::from([500]));
    }

    #[test]
    fn a_business_write_with_a_body_lists_parsing_gates_and_validation() {
        let mut s = shape("createStaff", &["StaffToken", "IntegrationKey"]);
        s.body = true;
        assert_eq!(
            statuses(&s),
            BTreeSet::from([400, 401, 402, 403, 409, 422, 429, 500])
        );
    }

    #[test]
    fn scripts_may_find_the_sandbox_away_and_paths_may_name_nothing() {
        let mut s = shape("previewTiers", &["StaffToken"]);
        s.body = true;
        assert!(statuses(&s).contains(&503));
        let mut m = shape("portalMe", &["MemberToken"]);
        m.path_params = true;
        assert_eq!(statuses(&m), BTreeSet::from([400, 401, 404, 422, 500]));
    }

    #[test]
    fn narrowing_keeps_order_successes_and_only_the_listed_errors() {
        let spec = r#"{"openapi":"3.0.0","paths":{"/z":{"get":{"operationId":"listPlans","responses":{"200":{},"404":{},"500":{}}}},"/a":{"post":{"operationId":"x","requestBody":{},"responses":{"201":{},"400":{},"422":{},"503":{}}}}}}"#;
        let out = narrow(spec);
        let z = out.find("\"/z\"").unwrap();
        let a = out.find("\"/a\"").unwrap();
        assert!(z < a, "paths keep poem's order");
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
        let get = &doc["paths"]["/z"]["get"]["responses"];
        assert!(get.get("200").is_some() && get.get("500").is_some());
        assert!(get.get("404").is_none());
        let post = &doc["paths"]["/a"]["post"]["responses"];
        assert!(
            post.get("201").is_some() && post.get("400").is_some() && post.get("422").is_some()
        );
        assert!(post.get("503").is_none());
    }
}
