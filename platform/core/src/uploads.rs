//! Uploaded files: what may be uploaded (images of a few types, up to a per-file cap), for
//! what purpose, and where each object lives in the store (`t/<tenant id>/<purpose>/<id>`).
//! Browsers send and fetch the bytes through presigned addresses; the server counts what is
//! stored against the plan's `storage_mb`.

use crate::Issue;
use uuid::Uuid;

/// The largest file accepted, in bytes (5 MiB).
pub const MAX_UPLOAD_BYTES: i64 = 5 * 1024 * 1024;

/// The types accepted: pictures browsers show.
pub const CONTENT_TYPES: &[&str] = &["image/jpeg", "image/png", "image/webp"];

/// How long a presigned upload address stays valid.
pub const PUT_EXPIRY_SECS: u64 = 15 * 60;

/// How long a presigned reading address stays valid.
pub const GET_EXPIRY_SECS: u64 = 10 * 60;

/// Longest file name kept (it is only shown).
pub const MAX_FILE_NAME: usize = 200;

/// A megabyte of the plan's `storage_mb`.
pub const MEGABYTE: i64 = 1024 * 1024;

/// What a file is for; part of its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    ActivityCover,
    ActivityPhoto,
    MallItem,
    MemberAvatar,
}

impl Purpose {
    pub const ALL: &'static [&'static str] = &[
        "activity_cover",
        "activity_photo",
        "mall_item",
        "member_avatar",
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ActivityCover => "activity_cover",
            Self::ActivityPhoto => "activity_photo",
            Self::MallItem => "mall_item",
            Self::MemberAvatar => "member_avatar",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, Issue> {
        match raw {
            "activity_cover" => Ok(Self::ActivityCover),
            "activity_photo" => Ok(Self::ActivityPhoto),
            "mall_item" => Ok(Self::MallItem),
            "member_avatar" => Ok(Self::MemberAvatar),
            other => Err(Issue::not_one_of(other, Self::ALL)),
        }
    }
}

/// The object's key: the tenant first, so one tenant's objects never mix with another's.
pub fn object_key(tenant_id: i64, purpose: Purpose, id: Uuid) -> String {
    format!("t/{tenant_id}/{}/{id}", purpose.as_str())
}

/// A content type accepted for upload (parameters and case ignored), in its plain form.
pub fn parse_content_type(raw: &str) -> Result<&'static str, Issue> {
    let plain = raw
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    CONTENT_TYPES
        .iter()
        .find(|t| **t == plain)
        .copied()
        .ok_or_else(|| Issue::not_one_of(raw, CONTENT_TYPES))
}

/// A file's size: at least one byte, at most [`MAX_UPLOAD_BYTES`].
pub fn parse_size(size: i64) -> Result<i64, Issue> {
    if (1..=MAX_UPLOAD_BYTES).contains(&size) {
        Ok(size)
    } else {
        Err(Issue::out_of_range(1, MAX_UPLOAD_BYTES))
    }
}

/// A file name as shown: trimmed, without path, at most [`MAX_FILE_NAME`] characters.
pub fn parse_file_name(raw: &str) -> Result<String, Issue> {
    let name = raw.rsplit(['/', '\\']).next().unwrap_or("").trim();
    if name.is_empty() {
        return Err(Issue::required());
    }
    if name.chars().count() > MAX_FILE_NAME {
        return Err(Issue::too_long(MAX_FILE_NAME));
    }
    Ok(name.to_owned())
}

/// Megabytes used by `bytes` of storage, rounded up.
pub fn megabytes(bytes: i64) -> i64 {
    (bytes.max(0) + MEGABYTE - 1) / MEGABYTE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_start_with_the_tenant() {
        let id = Uuid::nil();
        assert_eq!(
            object_key(42, Purpose::ActivityPhoto, id),
            format!("t/42/activity_photo/{id}")
        );
    }

    #[test]
    fn only_pictures_of_the_listed_types() {
        assert_eq!(parse_content_type("IMAGE/PNG").unwrap(), "image/png");
        assert_eq!(parse_content_type("image/jpeg; q=1").unwrap(), "image/jpeg");
        assert!(parse_content_type("image/svg+xml").is_err());
        assert!(parse_content_type("text/html").is_err());
    }

    #[test]
    fn sizes_within_the_cap() {
        assert!(parse_size(0).is_err());
        assert!(parse_size(MAX_UPLOAD_BYTES + 1).is_err());
        assert_eq!(parse_size(MAX_UPLOAD_BYTES).unwrap(), MAX_UPLOAD_BYTES);
    }

    #[test]
    fn file_names_lose_their_path() {
        assert_eq!(parse_file_name("C:\\pics\\a.png").unwrap(), "a.png");
        assert!(parse_file_name("  ").is_err());
    }

    #[test]
    fn megabytes_round_up() {
        assert_eq!(megabytes(0), 0);
        assert_eq!(megabytes(1), 1);
        assert_eq!(megabytes(MEGABYTE), 1);
        assert_eq!(megabytes(MEGABYTE + 1), 2);
    }
}
