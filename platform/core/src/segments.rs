//! Saved segments: a named member search staff keep and reuse. The rules here are pure:
//! what a segment's name must be. The search itself is checked by the member search.

use crate::{FieldError, Issue, Validation};

/// Longest segment name (characters).
pub const NAME_MAX: usize = 100;

/// The most segments the list answers (a business keeps a handful).
pub const LIST_MAX: i64 = 200;

/// A segment's name, trimmed: required, at most [`NAME_MAX`] characters, no control
/// characters.
pub fn check_name(raw: &str) -> Result<String, Vec<FieldError>> {
    let name = raw.trim();
    let mut v = Validation::new();
    if name.is_empty() {
        v.check::<()>("name", Err(Issue::required()));
    } else if name.chars().count() > NAME_MAX {
        v.check::<()>("name", Err(Issue::too_long(NAME_MAX)));
    } else if name.chars().any(char::is_control) {
        v.check::<()>(
            "name",
            Err(Issue::invalid_format(
                "segment_name",
                "has a control character",
            )),
        );
    }
    v.finish().map(|()| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_trimmed_required_and_bounded() {
        assert_eq!(check_name("  常客 ").unwrap(), "常客");
        for bad in ["", "   ", "a\u{7}b"] {
            let e = check_name(bad).unwrap_err();
            assert_eq!(e[0].field, "name", "{bad:?}");
        }
        assert!(check_name(&"长".repeat(NAME_MAX)).is_ok());
        assert!(check_name(&"长".repeat(NAME_MAX + 1)).is_err());
    }
}
