//! The languages people read Patron in, and picking a text in one of them.

use crate::fields::Labels;
use crate::tiers::Names;

/// A language the product speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    ZhCn,
    En,
}

impl Lang {
    /// Reads `zh-CN`, `zh`, `en`, `en-US` ... (any case); `None` for anything else.
    pub fn parse(raw: &str) -> Option<Self> {
        let l = raw.trim().to_ascii_lowercase();
        if l == "zh" || l.starts_with("zh-") || l.starts_with("zh_") {
            Some(Self::ZhCn)
        } else if l == "en" || l.starts_with("en-") || l.starts_with("en_") {
            Some(Self::En)
        } else {
            None
        }
    }

    /// The first language of an `Accept-Language` header the product speaks.
    pub fn from_accept_language(header: &str) -> Option<Self> {
        header
            .split(',')
            .filter_map(|part| part.split(';').next())
            .find_map(Self::parse)
    }

    /// The code (`zh-CN`, `en`).
    pub fn code(self) -> &'static str {
        match self {
            Self::ZhCn => "zh-CN",
            Self::En => "en",
        }
    }

    /// One of two texts.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Self::ZhCn => zh,
            Self::En => en,
        }
    }

    /// A field's label in this language, the other one when this one is empty.
    pub fn label(self, l: &Labels) -> &str {
        either(self.pick(&l.zh_cn, &l.en), self.pick(&l.en, &l.zh_cn))
    }

    /// A tier's name in this language, the other one when this one is empty.
    pub fn name(self, n: &Names) -> &str {
        either(self.pick(&n.zh_cn, &n.en), self.pick(&n.en, &n.zh_cn))
    }
}

fn either<'a>(first: &'a str, second: &'a str) -> &'a str {
    if first.trim().is_empty() {
        second
    } else {
        first
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_are_read_from_codes_and_accept_language_headers() {
        assert_eq!(Lang::parse("zh-CN"), Some(Lang::ZhCn));
        assert_eq!(Lang::parse("ZH_cn"), Some(Lang::ZhCn));
        assert_eq!(Lang::parse("en-GB"), Some(Lang::En));
        assert_eq!(Lang::parse("fr"), None);
        assert_eq!(
            Lang::from_accept_language("fr-FR,fr;q=0.9,en-US;q=0.8,zh;q=0.5"),
            Some(Lang::En)
        );
        assert_eq!(Lang::from_accept_language("de"), None);
    }

    #[test]
    fn a_label_falls_back_to_the_other_language_when_blank() {
        let l = Labels {
            zh_cn: "会籍到期".into(),
            en: "".into(),
        };
        assert_eq!(Lang::En.label(&l), "会籍到期");
        assert_eq!(Lang::ZhCn.label(&l), "会籍到期");
        let n = Names {
            zh_cn: "金卡".into(),
            en: "Gold".into(),
        };
        assert_eq!(Lang::En.name(&n), "Gold");
        assert_eq!(Lang::ZhCn.name(&n), "金卡");
    }
}
