//! The limits the use cases enforce, stated in the request schemas of the document.
//!
//! Each entry names a schema and one of its properties (as the document spells them) and
//! the limit, taken from the constant the use case checks, so a number is written once.
//! `responses::narrow` writes them into the document, `body_check` refuses a body that
//! crosses them (422 naming the field), and a generated client knows them. An entry whose
//! schema or property is renamed stops the server at start-up.

use patron_app::prepaid::{METHOD_NAMES, OUTSIDE_METHOD_NAMES};
use patron_core::{
    activities, conversations, coupons, mall, members, messages, points, prepaid, promotions,
    uploads,
};

/// One limit on a property (on its items when the property is an array, but `Items`).
#[derive(Debug, Clone, Copy)]
pub enum Limit {
    /// `minLength` (when above 0) and `maxLength`, in characters; from 1, not only spaces.
    Len(usize, usize),
    /// `minimum` and `maximum`.
    Range(i64, i64),
    /// `maxItems`.
    Items(usize),
    /// `pattern`.
    Pattern(&'static str),
    /// `minimum` and `maximum`, and not zero (`not: {enum: [0]}`).
    NonZero(i64, i64),
    /// `enum`.
    OneOf(&'static [&'static str]),
}

/// Text of one line: no control character at all (tab and line breaks included).
pub const LINE: &str = r"^[^\x00-\x1f\x7f-\x9f]*$";
/// One line with something in it but spaces (keys, ids, names the use case trims).
pub const FILLED_LINE: &str =
    r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$";
/// Text that may span lines, with something in it but spaces (reasons, notes).
pub const FILLED_TEXT: &str = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$";
/// A parameter with something in it but spaces (`text_guard`'s rule, which parameters are
/// held to, and a character that is not a space).
pub const FILLED_PARAMETER: &str = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$";
/// A calendar date, `YYYY-MM-DD` (a date that does not exist is refused when read).
pub const DATE: &str = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$";
/// Free text in a body: line breaks and tabs, no other control character (C0 or C1).
pub const BODY_TEXT: &str = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$";

use Limit::*;

pub const LIMITS: &[(&str, &str, Limit)] = &[
    // Parameters (`@operationId`, the parameter's name).
    ("@listMembers", "limit", Range(1, patron_core::PAGE_MAX)),
    ("@memberPurchases", "limit", Range(1, patron_core::PAGE_MAX)),
    (
        "@memberPointEntries",
        "limit",
        Range(1, patron_core::PAGE_MAX),
    ),
    (
        "@membershipsEnding",
        "days",
        Range(0, prepaid::ENDING_DAYS_MAX),
    ),
    ("@deskLookup", "q", Len(1, patron_app::desk::LOOKUP_MAX)),
    ("MemberSearch", "limit", Range(1, patron_core::PAGE_MAX)),
    // Points.
    ("NewAdjustment", "idempotency_key", Pattern(FILLED_LINE)),
    (
        "NewAdjustment",
        "points",
        NonZero(-points::MAX_ADJUSTMENT, points::MAX_ADJUSTMENT),
    ),
    ("NewAdjustment", "reason", Pattern(FILLED_TEXT)),
    ("NewRedemption", "idempotency_key", Pattern(FILLED_LINE)),
    ("NewRedemption", "points", Range(1, points::MAX_REDEMPTION)),
    ("NewPurchase", "external_id", Pattern(FILLED_LINE)),
    ("NewRefund", "external_id", Pattern(FILLED_LINE)),
    ("NewEvent", "external_id", Pattern(FILLED_LINE)),
    // Prepaid.
    ("NewTopUpDoc", "idempotency_key", Pattern(FILLED_LINE)),
    ("NewTopUpDoc", "amount", Range(1, prepaid::MAX_MONEY)),
    ("NewTopUpDoc", "method", OneOf(OUTSIDE_METHOD_NAMES)),
    ("TopUpAmount", "amount", Range(1, prepaid::MAX_MONEY)),
    ("NewTopUpRefundDoc", "method", OneOf(OUTSIDE_METHOD_NAMES)),
    ("MembershipPayment", "method", OneOf(METHOD_NAMES)),
    ("NewMembershipSale", "method", OneOf(METHOD_NAMES)),
    ("NewPassSale", "method", OneOf(METHOD_NAMES)),
    ("PassRenewal", "method", OneOf(METHOD_NAMES)),
    (
        "MembershipFreeze",
        "days",
        Range(1, prepaid::FREEZE_DAYS_MAX),
    ),
    ("PassFreeze", "days", Range(1, prepaid::FREEZE_DAYS_MAX)),
    ("NewPassUse", "idempotency_key", Pattern(FILLED_LINE)),
    (
        "PassUseReversal",
        "reason",
        Len(1, prepaid::REVERSAL_REASON_MAX),
    ),
    ("NewMembershipPlan", "name", Len(1, prepaid::NAME_MAX)),
    (
        "NewMembershipPlan",
        "period_unit",
        OneOf(prepaid::PERIOD_UNITS),
    ),
    ("NewPassProduct", "name", Len(1, prepaid::NAME_MAX)),
    ("NewPassProduct", "visits", Range(1, prepaid::VISITS_MAX)),
    (
        "NewPassProduct",
        "validity_days",
        Range(1, prepaid::VALIDITY_DAYS_MAX),
    ),
    (
        "PrepaidSettingsDoc",
        "spend_order",
        OneOf(prepaid::SPEND_ORDERS),
    ),
    // The points mall.
    ("@mallOrders", "limit", Range(1, patron_core::PAGE_MAX)),
    ("@mallOrders", "state", OneOf(mall::STATES)),
    (
        "@listActivities",
        "status",
        OneOf(activities::Status::NAMES),
    ),
    ("MallItemInput", "name", Len(1, mall::NAME_MAX)),
    (
        "MallItemInput",
        "description",
        Len(0, mall::DESCRIPTION_MAX),
    ),
    ("MallItemInput", "pictures", Items(mall::PICTURES_MAX)),
    ("MallItemInput", "pictures", Len(1, mall::URL_MAX)),
    ("MallItemInput", "points", Range(1, mall::POINTS_MAX)),
    ("MallItemInput", "cash", Range(0, mall::CASH_MAX)),
    ("MallItemInput", "stock", Range(0, mall::STOCK_MAX)),
    ("MallItemInput", "per_member", Range(1, mall::QUANTITY_MAX)),
    ("MallItemInput", "per_order", Range(1, mall::QUANTITY_MAX)),
    ("MallItemInput", "tiers", Items(mall::TIERS_MAX)),
    ("MallItemInput", "tiers", Len(1, 100)),
    ("MallItemInput", "delivery", OneOf(mall::DELIVERIES)),
    ("NewMallOrder", "idempotency_key", Len(1, 100)),
    ("NewMallOrder", "idempotency_key", Pattern(FILLED_LINE)),
    ("NewMallOrder", "quantity", Range(1, mall::QUANTITY_MAX)),
    ("MyNewMallOrder", "idempotency_key", Len(1, 100)),
    ("MyNewMallOrder", "idempotency_key", Pattern(FILLED_LINE)),
    ("MyNewMallOrder", "quantity", Range(1, mall::QUANTITY_MAX)),
    (
        "ShippingAddress",
        "recipient",
        Len(1, mall::ADDRESS_PART_MAX),
    ),
    ("ShippingAddress", "phone", Len(1, mall::ADDRESS_PART_MAX)),
    ("ShippingAddress", "address", Len(1, mall::ADDRESS_PART_MAX)),
    (
        "MyShippingAddress",
        "recipient",
        Len(1, mall::ADDRESS_PART_MAX),
    ),
    ("MyShippingAddress", "phone", Len(1, mall::ADDRESS_PART_MAX)),
    (
        "MyShippingAddress",
        "address",
        Len(1, mall::ADDRESS_PART_MAX),
    ),
    ("MallOrderMove", "action", OneOf(mall::ACTIONS)),
    ("MallOrderMove", "reason", Len(0, mall::REASON_MAX)),
    ("MallOrderMove", "tracking", Len(0, mall::TRACKING_MAX)),
    ("MallOrderMove", "idempotency_key", Len(1, 100)),
    ("MallOrderMove", "idempotency_key", Pattern(FILLED_LINE)),
    ("MyMallCancel", "reason", Len(0, mall::REASON_MAX)),
    ("MallPickup", "code", Len(1, 50)),
    (
        "MallSettings",
        "pending_limit_hours",
        Range(1, mall::PENDING_HOURS_MAX),
    ),
    // Coupons.
    ("NewCouponTemplate", "name", Len(1, coupons::NAME_MAX)),
    (
        "NewCouponTemplate",
        "total",
        Range(1, patron_app::coupons::TOTAL_MAX),
    ),
    (
        "NewCouponTemplate",
        "per_member",
        Range(1, patron_app::coupons::PER_MAX),
    ),
    (
        "NewCouponTemplate",
        "per_day",
        Range(1, patron_app::coupons::PER_MAX),
    ),
    (
        "NewCouponTemplate",
        "points_price",
        Range(0, points::MAX_REDEMPTION),
    ),
    ("NewCouponTemplate", "shared_code", Pattern(FILLED_LINE)),
    ("CouponTerms", "kind", OneOf(coupons::KINDS)),
    ("CouponTerms", "stacking", OneOf(coupons::STACKINGS)),
    ("CouponTerms", "on_refund", OneOf(coupons::ON_REFUND)),
    ("CouponTerms", "percent", Range(1, 99)),
    (
        "CouponTerms",
        "valid_days",
        Range(1, coupons::VALID_DAYS_MAX),
    ),
    ("CouponTerms", "excluded_dates", Pattern(DATE)),
    ("CouponTerms", "hours_from", Range(0, 23)),
    ("CouponTerms", "hours_until", Range(1, 24)),
    (
        "CouponTerms",
        "max_per_purchase",
        Range(1, coupons::CODES_PER_PURCHASE_MAX as i64),
    ),
    ("NewCouponBatch", "count", Range(1, coupons::BATCH_MAX)),
    ("NewCouponBatch", "pattern", Pattern(FILLED_LINE)),
    ("NewCouponBatch", "idempotency_key", Pattern(FILLED_LINE)),
    (
        "NewCouponIssue",
        "quantity",
        Range(1, coupons::QUANTITY_MAX),
    ),
    ("NewCouponIssue", "idempotency_key", Pattern(FILLED_LINE)),
    ("CouponVoid", "reason", Len(1, coupons::REASON_MAX)),
    (
        "NewCouponReservation",
        "minutes",
        Range(1, patron_app::coupons::redeem::RESERVE_MINUTES_MAX),
    ),
    // Promotions.
    ("@promotions", "phase", OneOf(promotions::PHASES)),
    ("PromotionInput", "starts_on", Pattern(DATE)),
    ("PromotionInput", "ends_on", Pattern(DATE)),
    ("CouponClaim", "quantity", Range(1, coupons::QUANTITY_MAX)),
    ("CouponClaim", "idempotency_key", Pattern(FILLED_LINE)),
    (
        "CouponCart",
        "coupon_codes",
        Items(coupons::CODES_PER_PURCHASE_MAX),
    ),
    (
        "NewPurchase",
        "coupon_codes",
        Items(coupons::CODES_PER_PURCHASE_MAX),
    ),
    (
        "CouponCart",
        "amount",
        Range(0, patron_app::points::MAX_AMOUNT),
    ),
    // Members and cards.
    ("NewMember", "gender", OneOf(members::GENDERS)),
    ("MemberChange", "gender", OneOf(members::GENDERS)),
    ("ProfileChange", "gender", OneOf(members::GENDERS)),
    (
        "CardFormatDto",
        "length",
        Range(members::CARD_LENGTH.0, members::CARD_LENGTH.1),
    ),
    // Tiers.
    (
        "TierPinInput",
        "reason",
        Len(1, patron_app::tiers::member::MAX_REASON),
    ),
    (
        "TierUnpinInput",
        "reason",
        Len(1, patron_app::tiers::member::MAX_REASON),
    ),
    // Messages.
    ("TemplateInput", "occasion", OneOf(messages::OCCASIONS)),
    ("TemplateInput", "channel", OneOf(messages::CHANNELS)),
    // Names the use cases trim and require.
    ("SettingsChange", "name", Pattern(FILLED_TEXT)),
    ("StaffChange", "name", Pattern(FILLED_TEXT)),
    ("NewStaff", "name", Pattern(FILLED_TEXT)),
    ("NewApiKey", "name", Pattern(FILLED_TEXT)),
    ("NewMember", "name", Pattern(FILLED_TEXT)),
    ("SignupRequest", "business_name", Pattern(FILLED_TEXT)),
    ("SignupRequest", "owner_name", Pattern(FILLED_TEXT)),
    ("TemplateInput", "body_text", Pattern(FILLED_TEXT)),
    ("NewPassProduct", "price", Range(0, prepaid::MAX_MONEY)),
    (
        "NewMembershipPlan",
        "period_days",
        Range(1, prepaid::VALIDITY_DAYS_MAX),
    ),
    // Codes and one-line values the use cases refuse any control character in.
    ("TwoFactorCode", "code", Pattern(LINE)),
    ("TwoFactorOff", "code", Pattern(LINE)),
    ("MemberLogin", "code", Pattern(LINE)),
    ("Registration", "code", Pattern(LINE)),
    ("PasswordReset", "code", Pattern(LINE)),
    ("ProfileChange", "phone_code", Pattern(LINE)),
    ("MemberChange", "phone_code", Pattern(LINE)),
    ("CodeRequest", "phone", Pattern(LINE)),
    ("SmsTestInput", "phone", Pattern(LINE)),
    ("ActorQuery", "subjects", Pattern(LINE)),
    ("PlanInput", "features", Pattern(LINE)),
    ("FieldDto", "key", Pattern(LINE)),
    // A receipt number is one line.
    ("MembershipPayment", "receipt", Pattern(LINE)),
    ("NewMembershipSale", "receipt", Pattern(LINE)),
    ("NewPassSale", "receipt", Pattern(LINE)),
    ("NewTopUpDoc", "receipt", Pattern(LINE)),
    ("NewTopUpRefundDoc", "receipt", Pattern(LINE)),
    ("PassRenewal", "receipt", Pattern(LINE)),
    // Uploads.
    ("NewUpload", "purpose", OneOf(uploads::Purpose::ALL)),
    ("NewUpload", "content_type", OneOf(uploads::CONTENT_TYPES)),
    ("NewUpload", "size", Range(1, uploads::MAX_UPLOAD_BYTES)),
    ("NewUpload", "file_name", Len(1, uploads::MAX_FILE_NAME)),
    (
        "PortalNewUpload",
        "content_type",
        OneOf(uploads::CONTENT_TYPES),
    ),
    (
        "PortalNewUpload",
        "size",
        Range(1, uploads::MAX_UPLOAD_BYTES),
    ),
    (
        "PortalNewUpload",
        "file_name",
        Len(1, uploads::MAX_FILE_NAME),
    ),
    // Activities.
    ("NewActivity", "title", Len(1, activities::TITLE_MAX)),
    (
        "NewActivity",
        "description",
        Len(0, activities::DESCRIPTION_MAX),
    ),
    ("NewActivity", "place", Len(0, activities::PLACE_MAX)),
    ("NewActivity", "cover_url", Len(0, activities::URL_MAX)),
    (
        "NewActivity",
        "capacity",
        Range(1, activities::CAPACITY_MAX),
    ),
    (
        "NewActivity",
        "price_points",
        Range(0, activities::POINTS_MAX),
    ),
    ("NewActivity", "price_kind", OneOf(activities::PRICE_KINDS)),
    (
        "NewActivity",
        "price_fen",
        Range(0, activities::PRICE_FEN_MAX),
    ),
    (
        "NewActivity",
        "attend_points",
        Range(0, activities::POINTS_MAX),
    ),
    ("NewActivity", "approval", OneOf(activities::APPROVALS)),
    (
        "NewActivity",
        "offer_minutes",
        Range(activities::OFFER_MINUTES_MIN, activities::OFFER_MINUTES_MAX),
    ),
    ("NewActivity", "budget", Range(0, activities::BUDGET_MAX)),
    (
        "NewActivity",
        "organisers",
        Items(activities::ORGANISERS_MAX),
    ),
    ("NewActivity", "tiers", Items(activities::TIERS_MAX)),
    (
        "ActivityStatusChange",
        "status",
        OneOf(activities::Status::NAMES),
    ),
    (
        "ActivityRejection",
        "reason",
        Len(1, activities::REASON_MAX),
    ),
    (
        "ActivityMove",
        "to",
        OneOf(patron_app::activities::seats::MOVES),
    ),
    ("ActivityCheckIn", "code", Pattern(FILLED_LINE)),
    (
        "NewActivityGuest",
        "name",
        Len(1, activities::GUEST_NAME_MAX),
    ),
    ("NewActivityGuest", "phone", Len(1, 40)),
    ("MyActivityRating", "stars", Range(1, 5)),
    (
        "MyActivityRating",
        "comment",
        Len(0, activities::COMMENT_MAX),
    ),
    // Conversations.
    (
        "@listConversations",
        "limit",
        Range(1, conversations::PAGE_MAX),
    ),
    (
        "@listConversations",
        "keyword",
        Len(0, conversations::KEYWORD_MAX),
    ),
    (
        "@listConversations",
        "member",
        Len(0, conversations::MEMBER_QUERY_MAX),
    ),
    ("@listConversations", "cursor", Len(0, 100)),
    (
        "ConversationAnswer",
        "body",
        Len(1, conversations::BODY_MAX),
    ),
    (
        "NewConversationFollowUp",
        "note",
        Len(0, conversations::NOTE_MAX),
    ),
    (
        "MyNewConversation",
        "subject",
        Len(1, conversations::SUBJECT_MAX),
    ),
    ("MyNewConversation", "subject", Pattern(FILLED_LINE)),
    ("MyNewConversation", "body", Len(1, conversations::BODY_MAX)),
    (
        "MyConversationWrite",
        "body",
        Len(1, conversations::BODY_MAX),
    ),
];
