//! Names of the constraints whose refusals callers turn into client errors (a taken phone,
//! a reused external id). One list, so a renamed constraint is renamed here and nowhere
//! else; pair them with `DbError::is_conflict_on` or the application's `on_constraint`.

pub const MEMBERS_PHONE: &str = "members_phone_key";
pub const MEMBERS_EMAIL: &str = "members_email_key";
pub const MEMBERS_REFERRER: &str = "members_referrer_id_fkey";
pub const PURCHASES_EXTERNAL_ID: &str = "purchases_external_id_key";
pub const REFUNDS_EXTERNAL_ID: &str = "refunds_external_id_key";
pub const CUSTOM_EVENTS_EXTERNAL_ID: &str = "custom_events_external_id_key";
pub const PLANS_CODE: &str = "plans_pkey";
pub const TENANTS_SLUG: &str = "tenants_slug_key";
pub const ROLES_NAME: &str = "roles_pkey";
pub const STAFF_EMAIL: &str = "staff_email_key";
pub const COUPON_TEMPLATES_SHARED_CODE: &str = "coupon_templates_shared_code_key";
pub const ACTIVITY_REGISTRATIONS_ONE_LIVE: &str = "activity_registrations_one_live";
pub const ACTIVITY_GUESTS_ONE_LIVE: &str = "activity_guests_one_live";
pub const SEGMENTS_NAME: &str = "segments_name_key";
