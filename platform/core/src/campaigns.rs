//! Campaigns: one message to the members a search finds, by e-mail, SMS and the portal's
//! inbox. The rules here are pure: what a campaign's draft must hold, which language a
//! member is written in, what a text message carries, and how many of a campaign's
//! messages still fit a member's contact budget.

use crate::lang::Lang;
use crate::messages::Template;
use crate::{FieldError, Issue, Validation};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// The channels a campaign can use, in the order a member's contact budget is spent.
pub const CHANNELS: &[&str] = &["inbox", "email", "sms"];

/// Longest campaign name, subject or inbox title (characters).
pub const NAME_MAX: usize = 200;
/// Longest e-mail or inbox body (characters).
pub const BODY_MAX: usize = 20_000;
/// Longest text message (characters), the opt-out text included.
pub const SMS_MAX: usize = 500;
/// The days a contact budget looks back.
pub const BUDGET_DAYS: i64 = 7;
/// The most messages a contact budget can allow per member per [`BUDGET_DAYS`].
pub const BUDGET_MAX: i32 = 100;

/// One message of a campaign: for a channel, in a language. E-mail and the inbox have a
/// subject (the inbox's title); SMS has only the body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Message {
    pub channel: String,
    pub locale: String,
    pub subject: Option<String>,
    pub body: String,
}

/// A campaign as staff write it (the audience is checked by the member search).
#[derive(Debug, Clone)]
pub struct Draft {
    pub name: String,
    pub channels: Vec<String>,
    pub messages: Vec<Message>,
    pub send_at: Option<DateTime<Utc>>,
}

/// The opt-out words every marketing text message ends with (the same as the scheduled
/// notices' texts).
pub fn sms_opt_out(lang: Lang) -> &'static str {
    crate::messages::sms_opt_out(lang)
}

fn required_text(v: &mut Validation, field: &str, raw: Option<&str>, max: usize) {
    match raw {
        None => {
            v.check::<()>(field, Err(Issue::required()));
        }
        Some(s) if s.trim().is_empty() => {
            v.check::<()>(field, Err(Issue::required()));
        }
        Some(s) if s.chars().count() > max => {
            v.check::<()>(field, Err(Issue::too_long(max)));
        }
        Some(s) => {
            v.check(field, Template::parse(s));
        }
    }
}

impl Draft {
    /// Checks the draft: a name, one or more known channels (each once), for each channel
    /// a message in zh-CN or en (or both, each once), every text with well-formed
    /// placeholders, and a sending time not in the past. Every problem is named by field.
    pub fn check(&self, now: DateTime<Utc>) -> Result<(), Vec<FieldError>> {
        let mut v = Validation::new();
        if self.name.trim().is_empty() {
            v.check::<()>("name", Err(Issue::required()));
        } else if self.name.chars().count() > NAME_MAX {
            v.check::<()>("name", Err(Issue::too_long(NAME_MAX)));
        }
        if self.channels.is_empty() {
            v.check::<()>("channels", Err(Issue::required()));
        }
        for (i, c) in self.channels.iter().enumerate() {
            if !CHANNELS.contains(&c.as_str()) {
                v.check::<()>(
                    &format!("channels.{i}"),
                    Err(Issue::not_one_of(c, CHANNELS)),
                );
            } else if self.channels[..i].contains(c) {
                v.check::<()>(
                    &format!("channels.{i}"),
                    Err(Issue::invalid_format("campaign_channel", "is listed twice")
                        .with("value", c.as_str())),
                );
            }
        }
        let mut seen: Vec<(&str, &str)> = Vec::new();
        for (i, m) in self.messages.iter().enumerate() {
            let at = |f: &str| format!("messages.{i}.{f}");
            if !self.channels.contains(&m.channel) {
                v.check::<()>(
                    &at("channel"),
                    Err(Issue::invalid_format(
                        "campaign_channel",
                        "is not one of the campaign's channels",
                    )
                    .with("value", m.channel.as_str())),
                );
                continue;
            }
            if !["zh-CN", "en"].contains(&m.locale.as_str()) {
                v.check::<()>(
                    &at("locale"),
                    Err(Issue::not_one_of(&m.locale, &["zh-CN", "en"])),
                );
                continue;
            }
            if seen.contains(&(m.channel.as_str(), m.locale.as_str())) {
                v.check::<()>(
                    &at("locale"),
                    Err(Issue::invalid_format(
                        "campaign_locale",
                        "this channel already has this language",
                    )
                    .with("value", m.locale.as_str())),
                );
                continue;
            }
            seen.push((m.channel.as_str(), m.locale.as_str()));
            match m.channel.as_str() {
                "sms" => {
                    if m.subject.is_some() {
                        v.check::<()>(
                            &at("subject"),
                            Err(Issue::invalid_format(
                                "sms_subject",
                                "text messages have no subject",
                            )),
                        );
                    }
                    let room = SMS_MAX
                        - sms_opt_out(Lang::ZhCn)
                            .chars()
                            .count()
                            .max(sms_opt_out(Lang::En).chars().count())
                        - 1;
                    required_text(&mut v, &at("body"), Some(&m.body), room);
                }
                _ => {
                    required_text(&mut v, &at("subject"), m.subject.as_deref(), NAME_MAX);
                    required_text(&mut v, &at("body"), Some(&m.body), BODY_MAX);
                }
            }
        }
        for c in &self.channels {
            if CHANNELS.contains(&c.as_str()) && !self.messages.iter().any(|m| &m.channel == c) {
                let i = self.channels.iter().position(|x| x == c).unwrap_or(0);
                v.check::<()>(
                    "messages",
                    Err(Issue::required()
                        .words(format!("channel {c} has no message"))
                        .with("channel", c.as_str())
                        .with("index", i)),
                );
            }
        }
        if let Some(at) = self.send_at {
            if at < now - chrono::Duration::minutes(1) {
                v.check::<()>(
                    "send_at",
                    Err(Issue::invalid_format("future_time", "is in the past")),
                );
            }
        }
        v.finish()
    }

    /// The message of `channel` in `lang`, else in the other language.
    pub fn message(&self, channel: &str, lang: Lang) -> Option<&Message> {
        let of = |l: &str| {
            self.messages
                .iter()
                .find(|m| m.channel == channel && m.locale == l)
        };
        let other = match lang {
            Lang::ZhCn => Lang::En,
            Lang::En => Lang::ZhCn,
        };
        of(lang.code()).or_else(|| of(other.code()))
    }
}

/// A message filled in for one member: (subject, body). A text message ends with the
/// opt-out words.
pub fn render(
    m: &Message,
    vars: &BTreeMap<String, String>,
    lang: Lang,
) -> (Option<String>, String) {
    let fill = |s: &str| {
        Template::parse(s)
            .map(|t| t.render(vars, false))
            .unwrap_or_else(|_| s.to_owned())
    };
    let subject = m.subject.as_deref().map(fill);
    let mut body = fill(&m.body);
    if m.channel == "sms" {
        body = crate::messages::with_sms_opt_out(&body, lang);
        body = body.chars().take(SMS_MAX).collect();
    }
    (subject, body)
}

/// The HTML part of a campaign e-mail from its filled-in text: the text escaped, a
/// paragraph per blank-line-separated block and a line break per line; each of `links`
/// where the text has it becomes a link; then the 1×1 image that tells when the e-mail was
/// opened, loaded from `pixel` (the text part has none).
pub fn email_html(text: &str, links: &[&str], pixel: &str) -> String {
    use crate::messages::escape_html;
    let mut body = String::with_capacity(text.len() * 2);
    for block in text
        .replace("\r\n", "\n")
        .split("\n\n")
        .filter(|b| !b.trim().is_empty())
    {
        let lines: Vec<String> = block.lines().map(escape_html).collect();
        body.push_str("<p>");
        body.push_str(&lines.join("<br>"));
        body.push_str("</p>\n");
    }
    for link in links.iter().filter(|l| !l.is_empty()) {
        let l = escape_html(link);
        body = body.replace(&l, &format!("<a href=\"{l}\">{l}</a>"));
    }
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n{body}\
         <img src=\"{}\" width=\"1\" height=\"1\" alt=\"\" style=\"border:0\">\n</body></html>\n",
        escape_html(pixel)
    )
}

/// How many of `wanted` messages still fit a member who had `recent` marketing messages in
/// the last [`BUDGET_DAYS`] days, under a budget of `budget` (none: all of them).
pub fn budget_room(recent: i64, budget: Option<i32>, wanted: usize) -> usize {
    match budget {
        None => wanted,
        Some(b) => {
            let left = (i64::from(b) - recent).max(0) as usize;
            wanted.min(left)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_html_escapes_the_text_links_the_links_and_ends_with_the_image() {
        let html = email_html(
            "Dear <Ann> & co,\nspring is here.\n\nUnsubscribe: https://x.test/u?token=a.b",
            &["https://x.test/u?token=a.b"],
            "https://x.test/api/v1/portal/s/opened/t.1",
        );
        assert!(
            html.contains("<p>Dear &lt;Ann&gt; &amp; co,<br>spring is here.</p>"),
            "{html}"
        );
        assert!(
            html.contains("<a href=\"https://x.test/u?token=a.b\">https://x.test/u?token=a.b</a>"),
            "{html}"
        );
        assert!(html.contains(
            "<img src=\"https://x.test/api/v1/portal/s/opened/t.1\" width=\"1\" height=\"1\""
        ));
        assert_eq!(html.matches("<img").count(), 1);
    }

    fn draft() -> Draft {
        Draft {
            name: "Spring".into(),
            channels: vec!["email".into(), "sms".into()],
            messages: vec![
                Message {
                    channel: "email".into(),
                    locale: "zh-CN".into(),
                    subject: Some("你好 {{member.name}}".into()),
                    body: "春季活动".into(),
                },
                Message {
                    channel: "sms".into(),
                    locale: "en".into(),
                    subject: None,
                    body: "Hello {{member.name}}".into(),
                },
            ],
            send_at: None,
        }
    }

    fn fields(d: &Draft) -> Vec<String> {
        d.check(Utc::now())
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn a_good_draft_passes() {
        assert!(draft().check(Utc::now()).is_ok());
    }

    #[test]
    fn problems_are_named_by_field() {
        let mut d = draft();
        d.name = " ".into();
        d.channels.push("fax".into());
        d.channels.push("email".into());
        d.messages[0].subject = None;
        d.messages[1].body = "{{oops".into();
        d.send_at = Some(Utc::now() - chrono::Duration::hours(1));
        assert_eq!(
            fields(&d),
            vec![
                "name",
                "channels.2",
                "channels.3",
                "messages.0.subject",
                "messages.1.body",
                "send_at"
            ]
        );
    }

    #[test]
    fn every_channel_needs_a_message() {
        let mut d = draft();
        d.messages.truncate(1);
        assert_eq!(fields(&d), vec!["messages"]);
        d.messages.push(Message {
            channel: "inbox".into(),
            locale: "en".into(),
            subject: Some("x".into()),
            body: "y".into(),
        });
        assert_eq!(fields(&d), vec!["messages.1.channel", "messages"]);
    }

    #[test]
    fn the_members_language_first_then_the_other() {
        let d = draft();
        assert_eq!(d.message("email", Lang::En).unwrap().locale, "zh-CN");
        assert_eq!(d.message("sms", Lang::ZhCn).unwrap().locale, "en");
        assert!(d.message("inbox", Lang::En).is_none());
    }

    #[test]
    fn text_messages_carry_the_opt_out_words() {
        let d = draft();
        let vars = BTreeMap::from([("member.name".to_owned(), "Li".to_owned())]);
        let (s, b) = render(d.message("sms", Lang::En).unwrap(), &vars, Lang::ZhCn);
        assert_eq!(s, None);
        assert_eq!(b, "Hello Li拒收请回复R");
        let (s, _) = render(d.message("email", Lang::ZhCn).unwrap(), &vars, Lang::ZhCn);
        assert_eq!(s.as_deref(), Some("你好 Li"));
    }

    #[test]
    fn the_budget_allows_what_is_left() {
        assert_eq!(budget_room(5, None, 3), 3);
        assert_eq!(budget_room(0, Some(2), 3), 2);
        assert_eq!(budget_room(2, Some(2), 1), 0);
        assert_eq!(budget_room(9, Some(2), 1), 0);
    }
}
