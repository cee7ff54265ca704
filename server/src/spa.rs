//! Serving the built UI (Trunk's `dist/`): hashed assets from disk, and
//! `index.html` for every page path so deep links work. The page's
//! Content-Security-Policy allows the WASM and exactly the inline bootstrap
//! script Trunk writes (by its SHA-256), nothing else inline.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use http::{HeaderValue, StatusCode, header};
use sha2::{Digest, Sha256};
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// The loaded UI: `index.html` in memory plus the policy that fits it.
#[derive(Clone)]
pub struct Spa {
    dir: PathBuf,
    index: Option<Arc<[u8]>>,
    csp: HeaderValue,
}

impl Spa {
    /// Reads `dir/index.html` once; the UI is rebuilt by restarting.
    pub fn load(dir: &Path) -> Self {
        let index = std::fs::read(dir.join("index.html")).ok();
        let hashes = index
            .as_deref()
            .map(|html| inline_script_hashes(&String::from_utf8_lossy(html)))
            .unwrap_or_default();
        if index.is_none() {
            tracing::warn!(dir = %dir.display(), "no index.html: the UI is not built; the API still works");
        }
        let csp = HeaderValue::from_str(&content_security_policy(&hashes))
            .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
        Spa {
            dir: dir.to_path_buf(),
            index: index.map(Arc::from),
            csp,
        }
    }

    /// The Content-Security-Policy sent with every response.
    pub fn csp(&self) -> &HeaderValue {
        &self.csp
    }

    /// Answers a non-API request: an asset from disk, else `index.html`
    /// (200 for the console's pages, 404 for other paths so the UI shows
    /// its not-found page with an honest status).
    pub async fn serve(&self, request: Request) -> Response {
        let path = request.uri().path().to_owned();
        if app::nav::is_ui_path(&path) || path == "/index.html" {
            return self.index(StatusCode::OK);
        }
        // A path no file can have (a segment longer than file names may
        // be, a NUL or other control character once decoded) is not found,
        // rather than an error from the file system.
        if !plausible_file_path(&path) {
            return self.index(StatusCode::NOT_FOUND);
        }
        let assets = ServeDir::new(&self.dir)
            .precompressed_gzip()
            .append_index_html_on_directories(false);
        match assets.oneshot(request).await {
            Ok(response) if response.status() != StatusCode::NOT_FOUND => {
                let mut response = response.map(Body::new);
                // Only a hashed asset's answer may be kept for a year (its
                // name changes with its content); errors and other files
                // are asked for again.
                let cache = if !response.status().is_success()
                    && response.status() != StatusCode::NOT_MODIFIED
                {
                    "no-store"
                } else if is_hashed_asset(&path) {
                    "public, max-age=31536000, immutable"
                } else {
                    "no-cache"
                };
                response
                    .headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
                response
            }
            _ => self.index(StatusCode::NOT_FOUND),
        }
    }

    fn index(&self, status: StatusCode) -> Response {
        let Some(index) = &self.index else {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                NOT_BUILT,
            )
                .into_response();
        };
        (
            status,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            Body::from(index.to_vec()),
        )
            .into_response()
    }
}

/// Longest file name segment served (file systems allow 255 bytes).
const MAX_SEGMENT_BYTES: usize = 255;

/// Whether `path` could name a file: every percent-decoded segment short
/// enough and free of control characters.
fn plausible_file_path(path: &str) -> bool {
    path.split('/').all(|segment| {
        let decoded = percent_decode_bytes(segment);
        decoded.len() <= MAX_SEGMENT_BYTES && !decoded.iter().any(|b| b.is_ascii_control())
    })
}

fn percent_decode_bytes(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// Whether the file `path` names carries Trunk's content hash (a `-` and
/// 16 hex digits before the extension, e.g. `frontend-b46e7fa6a25cd0c1.js`).
fn is_hashed_asset(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or("");
    name.match_indices('-').any(|(i, _)| {
        let hash = name.get(i + 1..i + 17).unwrap_or("");
        hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit())
    })
}

const NOT_BUILT: &str = "<!doctype html><title>meshdeck</title><h1>meshdeck: the UI is not built</h1>\
<p>Build it with <code>trunk build --release</code> (see README.md) and point \
<code>--static-dir</code> at its <code>dist/</code>. The REST API under <code>/api</code> works without it.</p>";

/// The policy: scripts only from this origin plus the listed inline hashes,
/// WASM compilation allowed, fetches only to this origin, no framing.
pub fn content_security_policy(inline_script_hashes: &[String]) -> String {
    let mut script_src = String::from("'self' 'wasm-unsafe-eval'");
    for hash in inline_script_hashes {
        script_src.push_str(&format!(" 'sha256-{hash}'"));
    }
    format!(
        "default-src 'self'; script-src {script_src}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; \
         base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Base64 SHA-256 of the body of every inline `<script>` (one without `src`).
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(tag_end) = after.find('>') else {
            break;
        };
        let tag = &after[..tag_end];
        let body_and_more = &after[tag_end + 1..];
        let Some(close) = body_and_more.find("</script>") else {
            break;
        };
        if !tag.contains(" src=") {
            let digest = Sha256::digest(&body_and_more.as_bytes()[..close]);
            hashes.push(base64::engine::general_purpose::STANDARD.encode(digest));
        }
        rest = &body_and_more[close + "</script>".len()..];
    }
    hashes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_trunks_hashed_names_are_immutable() {
        for hashed in [
            "/frontend-b46e7fa6a25cd0c1.js",
            "/frontend-b46e7fa6a25cd0c1_bg.wasm",
            "/main-f206aba3db198f4e.css",
        ] {
            assert!(is_hashed_asset(hashed), "{hashed}");
        }
        for plain in [
            "/favicon.ico",
            "/app-1234.js",
            "/robots.txt",
            "/a-b46e7fa6a25cd0cx.js",
        ] {
            assert!(!is_hashed_asset(plain), "{plain}");
        }
    }

    #[test]
    fn impossible_file_names_are_recognised() {
        assert!(plausible_file_path("/frontend-b46e7fa6a25cd0c1.js"));
        assert!(!plausible_file_path("/%00"));
        assert!(!plausible_file_path("/a%0Ab"));
        assert!(!plausible_file_path(&format!("/{}", "a".repeat(256))));
        assert!(plausible_file_path(&format!("/{}", "a".repeat(255))));
        // Escaped bytes count once decoded.
        assert!(!plausible_file_path(&format!("/{}", "%41".repeat(256))));
    }

    #[test]
    fn only_inline_scripts_are_hashed() {
        let html = r#"<script src="/a.js"></script><script type="module">boot()</script>"#;
        let hashes = inline_script_hashes(html);
        assert_eq!(hashes.len(), 1);
        // sha256("boot()") in base64, computed with `printf 'boot()' | openssl dgst -sha256 -binary | base64`.
        assert_eq!(hashes[0], "MeZS89WlF0u+o0hCvHTBt4q1WHU+U+sJKgbdRUc36mY=");
    }

    #[test]
    fn policy_allows_wasm_and_the_hash() {
        let csp = content_security_policy(&["abc=".into()]);
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-abc='"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(
            !csp.contains(" 'unsafe-eval'"),
            "plain eval must stay forbidden: {csp}"
        );
    }
}
