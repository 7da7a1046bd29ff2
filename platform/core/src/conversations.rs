//! Conversations between a business's front desk and its members, as pure rules: what a
//! thread's subject, a message and a follow-up may hold, the states a thread moves through
//! (a member's message makes it `open`, waiting for an answer; a staff answer makes it
//! `waiting` for the member; staff close and reopen it), keywords for search, and the
//! cursor of the list.

use crate::problem::Issue;
use crate::Validation;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

/// A thread's subject, in characters.
pub const SUBJECT_MAX: usize = 200;
/// One message, in characters.
pub const BODY_MAX: usize = 4_000;
/// A follow-up's note, in characters.
pub const NOTE_MAX: usize = 500;
/// A search keyword, in characters.
pub const KEYWORD_MAX: usize = 100;
/// A member search (name, phone, member code), in characters.
pub const MEMBER_QUERY_MAX: usize = 100;
/// Threads in one page of the list.
pub const PAGE_MAX: i64 = 100;

/// Where a thread stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The member wrote last: it waits for an answer from the business.
    Open,
    /// The business answered: it waits for the member.
    Waiting,
    /// Done; a member's new message opens it again.
    Closed,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Open, Status::Waiting, Status::Closed];
    pub const NAMES: &'static [&'static str] = &["open", "waiting", "closed"];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Waiting => "waiting",
            Status::Closed => "closed",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, Issue> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| Issue::not_one_of(raw, Self::NAMES))
    }

    /// The state after the member writes: whatever it was (closed included), it waits for
    /// an answer.
    pub fn after_member_writes(self) -> Status {
        Status::Open
    }

    /// The state after staff answer: waiting for the member (a closed thread stays closed).
    pub fn after_staff_answers(self) -> Status {
        match self {
            Status::Closed => Status::Closed,
            _ => Status::Waiting,
        }
    }
}

fn text(v: &mut Validation, field: &str, raw: &str, max: usize) -> String {
    let t = raw.trim();
    if t.is_empty() {
        v.check::<()>(field, Err(Issue::required()));
    } else if t.chars().count() > max {
        v.check::<()>(field, Err(Issue::too_long(max)));
    }
    t.to_owned()
}

/// Checks a new thread's subject and first message: both present, within their lengths;
/// answers them trimmed.
pub fn check_new(subject: &str, body: &str) -> Result<(String, String), Vec<crate::FieldError>> {
    let mut v = Validation::new();
    let s = text(&mut v, "subject", subject, SUBJECT_MAX);
    if s.contains(['\n', '\r']) {
        v.check::<()>(
            "subject",
            Err(Issue::control_characters().words("must be one line")),
        );
    }
    let b = text(&mut v, "body", body, BODY_MAX);
    v.finish()?;
    Ok((s, b))
}

/// Checks a message: present, within its length; answers it trimmed.
pub fn check_body(body: &str) -> Result<String, Vec<crate::FieldError>> {
    let mut v = Validation::new();
    let b = text(&mut v, "body", body, BODY_MAX);
    v.finish()?;
    Ok(b)
}

/// Checks a follow-up: a note within its length (may be empty), due today or later.
pub fn check_follow_up(
    due_on: NaiveDate,
    note: &str,
    today: NaiveDate,
) -> Result<String, Vec<crate::FieldError>> {
    let mut v = Validation::new();
    let n = note.trim();
    if n.chars().count() > NOTE_MAX {
        v.check::<()>("note", Err(Issue::too_long(NOTE_MAX)));
    }
    if due_on < today {
        v.check::<()>(
            "due_on",
            Err(Issue::too_small(0).words("must be today or later")),
        );
    }
    v.finish()?;
    Ok(n.to_owned())
}

/// A keyword as a pattern for `ILIKE`: `%`, `_` and `\` stand for themselves.
pub fn like_pattern(keyword: &str) -> String {
    let mut out = String::with_capacity(keyword.len() + 2);
    out.push('%');
    for c in keyword.trim().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Where a page of the list ends: the last thread's latest message time and id.
pub fn cursor(at: DateTime<Utc>, id: Uuid) -> String {
    format!("{}_{}", at.timestamp_micros(), id.simple())
}

/// Reads a cursor made by [`cursor`].
pub fn parse_cursor(raw: &str) -> Result<(DateTime<Utc>, Uuid), Issue> {
    let (at, id) = raw.split_once('_').ok_or_else(Issue::not_a_cursor)?;
    let micros: i64 = at.parse().map_err(|_| Issue::not_a_cursor())?;
    let at = DateTime::from_timestamp_micros(micros).ok_or_else(Issue::not_a_cursor)?;
    let id = Uuid::try_parse(id).map_err(|_| Issue::not_a_cursor())?;
    Ok((at, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_writing_opens_a_thread_and_an_answer_makes_it_wait_for_the_member() {
        for s in Status::ALL {
            assert_eq!(s.after_member_writes(), Status::Open);
        }
        assert_eq!(Status::Open.after_staff_answers(), Status::Waiting);
        assert_eq!(Status::Waiting.after_staff_answers(), Status::Waiting);
        assert_eq!(Status::Closed.after_staff_answers(), Status::Closed);
        assert_eq!(Status::parse("closed").unwrap(), Status::Closed);
        assert!(Status::parse("pending").is_err());
    }

    #[test]
    fn a_new_thread_needs_a_subject_and_a_message_within_their_lengths() {
        let (s, b) = check_new("  退款问题 ", " 我想退款。\n谢谢 ").unwrap();
        assert_eq!((s.as_str(), b.as_str()), ("退款问题", "我想退款。\n谢谢"));
        let errs = check_new(" ", &"字".repeat(BODY_MAX + 1)).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["subject", "body"]);
        assert!(check_new("a\nb", "x").is_err());
        assert!(check_new(&"题".repeat(SUBJECT_MAX), &"字".repeat(BODY_MAX)).is_ok());
        assert!(check_body("  ").is_err());
    }

    #[test]
    fn a_follow_up_is_due_today_or_later() {
        let today = NaiveDate::from_ymd_opt(2027, 5, 1).unwrap();
        assert!(check_follow_up(today, "回电", today).is_ok());
        let errs = check_follow_up(today.pred_opt().unwrap(), &"x".repeat(NOTE_MAX + 1), today)
            .unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["note", "due_on"]);
    }

    #[test]
    fn a_keyword_matches_itself_only() {
        assert_eq!(like_pattern(" 退款 "), "%退款%");
        assert_eq!(like_pattern("50%_a\\"), "%50\\%\\_a\\\\%");
    }

    #[test]
    fn a_cursor_reads_back_and_nonsense_is_refused() {
        let at = DateTime::from_timestamp_micros(1_800_000_000_123_456).unwrap();
        let id = Uuid::now_v7();
        assert_eq!(parse_cursor(&cursor(at, id)).unwrap(), (at, id));
        assert!(parse_cursor("x").is_err());
        assert!(parse_cursor("1_nope").is_err());
    }
}
