//! The built console and member portal as static files: brotli or gzip copies made at build
//! time are sent to browsers that take them, hashed assets are cached for a year, pages are
//! revalidated, `/m/...` falls back to the portal's own small page and every other unknown
//! path to the console's (both are single-page apps).

use poem::http::{header, HeaderValue, Method, StatusCode};
use poem::{Endpoint, Request, Response, Result};
use std::path::{Component, Path, PathBuf};

/// Serves the files of a built console directory.
pub struct ConsoleFiles {
    dir: PathBuf,
    /// Whether the build has the portal's own page (looked at once, when serving starts).
    has_portal_page: bool,
}

impl ConsoleFiles {
    pub fn new(dir: PathBuf) -> Self {
        let has_portal_page = dir.join("portal.html").is_file();
        Self {
            dir,
            has_portal_page,
        }
    }
}

/// The page a path falls back to when it names no file: the portal's for `/m/...` (when it
/// was built as its own page), the console's for the rest. Missing assets are not pages.
pub fn fallback_page(path: &str, has_portal_page: bool) -> Option<&'static str> {
    if path.starts_with("assets/") {
        None
    } else if has_portal_page && (path == "m" || path.starts_with("m/")) {
        Some("portal.html")
    } else {
        Some("index.html")
    }
}

/// A request path as a relative file path, or `None` when it tries to leave the directory.
pub fn relative_path(raw: &str) -> Option<PathBuf> {
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .ok()?;
    let mut out = PathBuf::new();
    for c in Path::new(decoded.trim_start_matches('/')).components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(out)
}

/// The encodings to try, best first, for an `Accept-Encoding` header: (name, file suffix).
pub fn encodings(accept: &str) -> Vec<(&'static str, &'static str)> {
    let takes = |name: &str| {
        accept.split(',').any(|part| {
            let mut it = part.split(';');
            let coding = it.next().unwrap_or("").trim();
            let refused = it.any(|p| {
                p.replace(' ', "")
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    == Some(0.0)
            });
            coding.eq_ignore_ascii_case(name) && !refused
        })
    };
    let mut out = Vec::new();
    if takes("br") {
        out.push(("br", ".br"));
    }
    if takes("gzip") {
        out.push(("gzip", ".gz"));
    }
    out
}

/// How long a browser may keep a file: hashed assets forever, everything else revalidated.
pub fn cache_control(rel: &Path) -> &'static str {
    if rel.starts_with("assets") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    }
}

async fn is_file(p: &Path) -> bool {
    tokio::fs::metadata(p).await.is_ok_and(|m| m.is_file())
}

impl Endpoint for ConsoleFiles {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Response> {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return Ok(StatusCode::METHOD_NOT_ALLOWED.into());
        }
        let Some(mut rel) = relative_path(req.uri().path()) else {
            return Ok(StatusCode::NOT_FOUND.into());
        };
        if rel.as_os_str().is_empty() || !is_file(&self.dir.join(&rel)).await {
            let path = rel.to_string_lossy().replace('\\', "/");
            match fallback_page(&path, self.has_portal_page) {
                Some(page) => rel = PathBuf::from(page),
                None => return Ok(StatusCode::NOT_FOUND.into()),
            }
        }
        let full = self.dir.join(&rel);
        let mime = mime_guess::from_path(&rel).first_or_octet_stream();
        let accept = req
            .headers()
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mut chosen = None;
        for (name, suffix) in encodings(accept) {
            let mut p = full.clone().into_os_string();
            p.push(suffix);
            let p = PathBuf::from(p);
            if is_file(&p).await {
                chosen = Some((name, p));
                break;
            }
        }
        let (encoding, file) = match chosen {
            Some((name, p)) => (Some(name), p),
            None => (None, full),
        };
        let body = tokio::fs::read(&file).await.map_err(|e| {
            poem::Error::from_string(e.to_string(), StatusCode::INTERNAL_SERVER_ERROR)
        })?;
        let mut resp = Response::builder()
            .header(header::CONTENT_TYPE, mime.as_ref())
            .header(header::CACHE_CONTROL, cache_control(&rel))
            .header(header::VARY, "Accept-Encoding")
            .header(header::CONTENT_LENGTH, body.len());
        if let Some(e) = encoding {
            resp = resp.header(header::CONTENT_ENCODING, HeaderValue::from_static(e));
        }
        Ok(if req.method() == Method::HEAD {
            resp.finish()
        } else {
            resp.body(body)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_leave_the_console_directory() {
        assert_eq!(
            relative_path("/assets/a.js"),
            Some(PathBuf::from("assets/a.js"))
        );
        assert_eq!(relative_path("/"), Some(PathBuf::new()));
        assert_eq!(relative_path("/m/%E5%BA%97"), Some(PathBuf::from("m/店")));
        assert_eq!(relative_path("/../etc/passwd"), None);
        assert_eq!(relative_path("/assets/%2e%2e/%2e%2e/secret"), None);
    }

    #[test]
    fn the_portal_falls_back_to_its_own_page_and_missing_assets_are_not_pages() {
        assert_eq!(fallback_page("m/demo/points", true), Some("portal.html"));
        assert_eq!(fallback_page("m/demo", false), Some("index.html"));
        assert_eq!(fallback_page("members/123", true), Some("index.html"));
        assert_eq!(fallback_page("ms/x", true), Some("index.html"));
        assert_eq!(fallback_page("assets/gone-1234.js", true), None);
    }

    #[test]
    fn brotli_is_preferred_and_a_refused_encoding_is_not_sent() {
        assert_eq!(
            encodings("gzip, deflate, br"),
            [("br", ".br"), ("gzip", ".gz")]
        );
        assert_eq!(encodings("gzip"), [("gzip", ".gz")]);
        assert_eq!(encodings("br;q=0, gzip;q=0.8"), [("gzip", ".gz")]);
        assert_eq!(encodings("br; q = 0.000, gzip"), [("gzip", ".gz")]);
        assert!(encodings("").is_empty());
        assert!(encodings("identity").is_empty());
    }

    #[test]
    fn hashed_assets_are_immutable_and_pages_are_revalidated() {
        assert_eq!(
            cache_control(Path::new("assets/index-abc123.js")),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(cache_control(Path::new("index.html")), "no-cache");
        assert_eq!(cache_control(Path::new("portal.html")), "no-cache");
    }
}
