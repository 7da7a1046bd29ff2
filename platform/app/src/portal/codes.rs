//! One-time codes sent by SMS: to register, to log in, to reset a password, to change a
//! phone, to confirm a large redemption at the counter. A phone number gets one code a
//! minute ([`CODE_INTERVAL_SECS`]), at most [`CODES_PER_HOUR`] an hour and [`CODES_PER_DAY`]
//! a day, counted in one conditional statement; a code works [`CODE_TTL_MINUTES`] minutes
//! and survives [`CODE_MAX_ATTEMPTS`] wrong guesses. Codes are stored hashed.

use crate::members::PlanCheck;
use crate::sms::{SmsSender, SmsText};
use crate::AppError;
use chrono::{DateTime, Duration, Utc};
use patron_core::lang::Lang;
use patron_core::members::Phone;
use patron_core::pii::PiiKeys;
use patron_core::plans::Limit;
use patron_db::{plans, portal, DbError, Tenant, TenantTx};
use rand::Rng;
use std::collections::BTreeMap;
use uuid::Uuid;

/// How long a one-time code works.
pub const CODE_TTL_MINUTES: i64 = 10;
/// Wrong guesses a code survives.
pub const CODE_MAX_ATTEMPTS: i32 = 5;
/// Seconds between two codes to one phone number.
pub const CODE_INTERVAL_SECS: i64 = 60;
/// Codes one phone number may be sent in an hour.
pub const CODES_PER_HOUR: i32 = 5;
/// Codes one phone number may be sent in a day.
pub const CODES_PER_DAY: i32 = 10;

/// The per-number limits of codes.
pub const CODE_LIMITS: portal::SmsLimits = portal::SmsLimits {
    interval_secs: CODE_INTERVAL_SECS,
    per_hour: CODES_PER_HOUR,
    per_day: CODES_PER_DAY,
};

/// What a code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodePurpose {
    Register,
    Login,
    ResetPassword,
    PhoneChange,
    /// The member confirms a redemption above the business's check threshold.
    Redemption,
}

impl CodePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::Login => "login",
            Self::ResetPassword => "reset_password",
            Self::PhoneChange => "phone_change",
            Self::Redemption => "redemption",
        }
    }
}

/// What checking a code found.
#[derive(Debug, PartialEq, Eq)]
pub enum CodeCheck {
    Ok,
    /// Wrong, expired or missing: the attempt was counted; commit before answering.
    Wrong,
    Exhausted,
}

fn code_hash(keys: &PiiKeys, id: Uuid, code: &str) -> Vec<u8> {
    keys.blind_index("code", &format!("{id}:{code}"))
}

/// Seconds until a number that stands at `c` may be sent one more message under `limits`
/// (every limit it has reached must have passed).
pub fn wait_secs(c: &portal::SmsCount, limits: portal::SmsLimits, now: DateTime<Utc>) -> i64 {
    let mut until = c.last_at + Duration::seconds(limits.interval_secs);
    if c.hour_count >= limits.per_hour {
        until = until.max(c.hour_from + Duration::hours(1));
    }
    if c.day_count >= limits.per_day {
        until = until.max(c.day_from + Duration::days(1));
    }
    // Whole seconds, rounded up: waiting that long is always enough.
    ((until - now).num_milliseconds() + 999)
        .div_euclid(1000)
        .max(1)
}

/// The refusal of one code too many for a number: 429 with the seconds to wait.
pub fn too_many_codes(retry_after_secs: i64) -> AppError {
    AppError::too_many(
        "too_many_codes",
        "too many codes were sent to this phone; try again later",
        u64::try_from(retry_after_secs).unwrap_or(1),
    )
}

/// Characters in one SMS segment: 160 in the GSM 7-bit alphabet (taken here as printable
/// ASCII), 70 when any other character makes it UCS-2.
pub fn sms_segment_chars(text: &str) -> usize {
    if text.chars().all(|c| c == ' ' || c.is_ascii_graphic()) {
        160
    } else {
        70
    }
}

/// The text of a code's message, in the business's language only (Chinese SMS templates are
/// filed in advance in exactly this wording). It always fits one SMS segment: a business
/// name too long for it is shortened (ending in `…`).
pub fn message(business: &str, code: &str, lang: Lang) -> String {
    let say = |name: &str| match lang {
        Lang::ZhCn => {
            format!("【{name}】验证码 {code}，{CODE_TTL_MINUTES} 分钟内有效，请勿告诉他人。")
        }
        Lang::En => format!(
            "[{name}] Your code is {code}, valid for {CODE_TTL_MINUTES} minutes. Do not share it."
        ),
    };
    let name = business.trim();
    let mut chars: Vec<char> = name.chars().collect();
    let mut text = say(name);
    while text.chars().count() > sms_segment_chars(&text) && !chars.is_empty() {
        chars.pop();
        let short: String = chars.iter().collect::<String>().trim_end().to_owned() + "…";
        text = say(&short);
    }
    text
}

/// The verdict on a live code: expired and worn-out codes fail before the guess is looked at.
pub fn judge(
    expires_at: DateTime<Utc>,
    attempts: i32,
    matches: bool,
    now: DateTime<Utc>,
) -> CodeCheck {
    if expires_at <= now {
        CodeCheck::Wrong
    } else if attempts >= CODE_MAX_ATTEMPTS {
        CodeCheck::Exhausted
    } else if matches {
        CodeCheck::Ok
    } else {
        CodeCheck::Wrong
    }
}

/// The refusal of a wrong code (field `code`).
pub fn wrong_code() -> AppError {
    AppError::field(
        "code",
        patron_core::Issue::new(
            patron_core::FieldCode::CodeWrongOrExpired,
            "is wrong or expired; ask for a new one",
        ),
    )
}

/// The refusal of a worn-out code.
pub fn exhausted() -> AppError {
    AppError::too_many(
        "code_exhausted",
        "too many wrong codes; ask for a new one",
        60,
    )
}

/// Sends a fresh code for `purpose` to `phone`, unless this phone had too many this hour.
/// The text counts against the plan's messages per month, metered in `tx`.
#[allow(clippy::too_many_arguments)]
pub async fn send_code(
    tx: &mut TenantTx,
    keys: &PiiKeys,
    sms: &dyn SmsSender,
    plan: &dyn PlanCheck,
    phone: &Phone,
    purpose: CodePurpose,
    tenant: &Tenant,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let index = keys.blind_index("phone", phone.e164());
    // One statement counts the message or refuses it: parallel requests for one number
    // wait for each other's row, so no limit is passed however many arrive at once.
    if !portal::take_sms_slot(tx, &index, CODE_LIMITS, now).await? {
        let wait = match portal::sms_count(tx, &index).await? {
            Some(c) => wait_secs(&c, CODE_LIMITS, now),
            None => 1,
        };
        return Err(too_many_codes(wait));
    }
    let code = format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32));
    let id = Uuid::now_v7();
    portal::insert_code(
        tx,
        id,
        purpose.as_str(),
        &index,
        &code_hash(keys, id, &code),
        now,
        now + Duration::minutes(CODE_TTL_MINUTES),
    )
    .await?;
    let lang = Lang::parse(&tenant.settings.locale).unwrap_or_default();
    let body = message(&tenant.name, &code, lang);
    // One-time codes count against the plan's text messages per month (billed beyond it
    // on plans with an overage price), metered in the same transaction as the send.
    if plan.check(tx, Limit::SmsPerMonth, 1).await?.is_err() {
        return Err(AppError::too_many(
            "sms_quota_reached",
            "this business cannot send more text messages this month",
            3600,
        ));
    }
    let text = SmsText {
        template: "code".into(),
        variables: BTreeMap::from([
            ("business".to_owned(), tenant.name.clone()),
            ("code".to_owned(), code.clone()),
            ("minutes".to_owned(), CODE_TTL_MINUTES.to_string()),
        ]),
        body,
        purpose: purpose.as_str().to_owned(),
    };
    sms.send(tx, phone, &text, now).await?;
    plans::meter_in(tx, Limit::SmsPerMonth.as_str(), now, 1).await?;
    Ok(())
}

/// Checks and consumes a code. On `Wrong` the attempt is recorded in `tx`: the caller must
/// commit it before refusing, so guesses stay limited.
pub async fn verify_code(
    tx: &mut TenantTx,
    keys: &PiiKeys,
    purpose: CodePurpose,
    phone: &Phone,
    code: &str,
    now: DateTime<Utc>,
) -> Result<CodeCheck, DbError> {
    let index = keys.blind_index("phone", phone.e164());
    let Some(c) = portal::live_code(tx, &index, purpose.as_str()).await? else {
        return Ok(CodeCheck::Wrong);
    };
    let matches = code_hash(keys, c.id, code.trim()) == c.code_hash;
    let verdict = judge(c.expires_at, c.attempts, matches, now);
    match verdict {
        CodeCheck::Ok => portal::code_used(tx, c.id, now).await?,
        // A guess on a live code counts; an expired code is simply gone.
        CodeCheck::Wrong if c.expires_at > now => portal::code_attempted(tx, c.id).await?,
        _ => {}
    }
    Ok(verdict)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_waits_for_every_limit_it_has_reached() {
        let now = Utc::now();
        let c = |last: i64, hour_from: i64, hour: i32, day_from: i64, day: i32| portal::SmsCount {
            last_at: now - Duration::seconds(last),
            hour_from: now - Duration::seconds(hour_from),
            hour_count: hour,
            day_from: now - Duration::seconds(day_from),
            day_count: day,
        };
        // One a minute.
        assert_eq!(wait_secs(&c(20, 20, 1, 20, 1), CODE_LIMITS, now), 40);
        // The hour's codes are used: until the hour has passed.
        assert_eq!(
            wait_secs(&c(70, 600, CODES_PER_HOUR, 600, 5), CODE_LIMITS, now),
            3000
        );
        // The day's too: until the day has passed, the later of the two.
        assert_eq!(
            wait_secs(
                &c(70, 600, CODES_PER_HOUR, 7200, CODES_PER_DAY),
                CODE_LIMITS,
                now
            ),
            86_400 - 7200
        );
        assert_eq!(too_many_codes(40).code(), "too_many_codes");
        assert!(matches!(
            too_many_codes(0),
            AppError::TooMany {
                retry_after_secs: 1,
                ..
            }
        ));
    }

    #[test]
    fn expired_codes_fail_and_worn_out_codes_are_exhausted_even_when_right() {
        let now = Utc::now();
        let live = now + Duration::minutes(1);
        assert_eq!(judge(live, 0, true, now), CodeCheck::Ok);
        assert_eq!(judge(live, 0, false, now), CodeCheck::Wrong);
        assert_eq!(judge(now, 0, true, now), CodeCheck::Wrong);
        assert_eq!(
            judge(live, CODE_MAX_ATTEMPTS, true, now),
            CodeCheck::Exhausted
        );
        assert_eq!(judge(live, CODE_MAX_ATTEMPTS - 1, true, now), CodeCheck::Ok);
    }

    #[test]
    fn a_code_is_bound_to_its_row() {
        let keys = PiiKeys::development();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(code_hash(&keys, a, "123456"), code_hash(&keys, a, "123456"));
        assert_ne!(code_hash(&keys, a, "123456"), code_hash(&keys, b, "123456"));
        let zh = message("活力健身", "123456", Lang::ZhCn);
        assert!(zh.starts_with("【活力健身】") && zh.contains("123456"));
        assert!(
            !zh.chars().any(|c| c.is_ascii_alphabetic()),
            "no English in a Chinese SMS: {zh}"
        );
        let en = message("Gym", "123456", Lang::En);
        assert!(en.contains("123456") && !en.contains('验'));
    }

    #[test]
    fn a_code_message_fits_one_sms_segment_whatever_the_business_name() {
        for (name, lang) in [
            ("活力健身", Lang::ZhCn),
            (
                "上海市静安区活力无限健身俱乐部南京西路旗舰店会员服务中心暨团体课程部",
                Lang::ZhCn,
            ),
            ("Iron Gym", Lang::En),
            ("铁人健身工作室", Lang::En),
            (&*"Very Long Business Name ".repeat(8), Lang::En),
        ] {
            let text = message(name, "123456", lang);
            let limit = sms_segment_chars(&text);
            assert!(text.chars().count() <= limit, "{text:?} is over {limit}");
            assert!(text.contains("123456"), "{text}");
            match lang {
                Lang::ZhCn => {
                    assert_eq!(limit, 70);
                    assert!(text.contains("验证码"), "{text}");
                    assert!(!text.chars().any(|c| c.is_ascii_alphabetic()), "{text}");
                }
                Lang::En => {
                    assert!(text.contains("Your code is"), "{text}");
                    assert!(!text.contains("验证码"), "{text}");
                }
            }
        }
        let long = message(&"健".repeat(80), "123456", Lang::ZhCn);
        assert!(long.starts_with("【健") && long.contains("…】"), "{long}");
        assert_eq!(sms_segment_chars("[Gym] Your code"), 160);
        assert_eq!(sms_segment_chars("[铁人] Your code"), 70);
    }
}
