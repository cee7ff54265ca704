//! Serving the built UI (Trunk's `dist/`): hashed assets from disk or from
//! the binary (release builds by `scripts/build.sh` embed `dist/`, see
//! `build.rs`), and `index.html` for every page path so deep links work.
//! The page's Content-Security-Policy allows the WASM and exactly the
//! inline bootstrap script Trunk writes (by its SHA-256), nothing else
//! inline.

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

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_ui.rs"));
}

/// Files by URL path (`/index.html`), as `build.rs` embeds them.
pub type EmbeddedFiles = &'static [(&'static str, &'static [u8])];

/// The UI embedded in this binary (empty unless it was built with
/// `MESHDECK_EMBED_DIST`).
pub fn embedded_files() -> EmbeddedFiles {
    embedded::FILES
}

/// Where the UI's files come from.
#[derive(Clone)]
enum Assets {
    Disk(PathBuf),
    Embedded(EmbeddedFiles),
}

/// The loaded UI: `index.html` in memory plus the policy that fits it.
#[derive(Clone)]
pub struct Spa {
    assets: Assets,
    index: Option<Arc<[u8]>>,
    csp: HeaderValue,
}

impl Spa {
    /// The UI from `--static-dir` when given; else the one embedded in the
    /// binary; else `dist/` in the working directory.
    pub fn from_args(static_dir: Option<&Path>) -> Self {
        match static_dir {
            Some(dir) => Spa::load(dir),
            None if !embedded_files().is_empty() => Spa::embedded(embedded_files()),
            None => Spa::load(Path::new("dist")),
        }
    }

    /// Reads `dir/index.html` once; the UI is rebuilt by restarting.
    pub fn load(dir: &Path) -> Self {
        let index = std::fs::read(dir.join("index.html")).ok();
        if index.is_none() {
            tracing::warn!(dir = %dir.display(), "no index.html: the UI is not built; the API still works");
        }
        Spa::with(Assets::Disk(dir.to_path_buf()), index)
    }

    /// Serves `files` (URL path and content, `.gz` siblings for gzip).
    pub fn embedded(files: EmbeddedFiles) -> Self {
        let index = files
            .iter()
            .find(|(path, _)| *path == "/index.html")
            .map(|(_, body)| body.to_vec());
        Spa::with(Assets::Embedded(files), index)
    }

    fn with(assets: Assets, index: Option<Vec<u8>>) -> Self {
        let hashes = index
            .as_deref()
            .map(|html| inline_script_hashes(&String::from_utf8_lossy(html)))
            .unwrap_or_default();
        let csp = HeaderValue::from_str(&content_security_policy(&hashes))
            .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
        Spa {
            assets,
            index: index.map(Arc::from),
            csp,
        }
    }

    /// Whether the UI comes from the binary.
    pub fn is_embedded(&self) -> bool {
        matches!(self.assets, Assets::Embedded(_))
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
        let dir = match &self.assets {
            Assets::Disk(dir) => dir,
            Assets::Embedded(files) => return self.serve_embedded(files, &request, &path),
        };
        let assets = ServeDir::new(dir)
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

    /// An embedded file (its `.gz` sibling where the client takes gzip),
    /// with the headers `ServeDir` would send; `index.html` (404) for a
    /// path no file has.
    fn serve_embedded(&self, files: EmbeddedFiles, request: &Request, path: &str) -> Response {
        let find = |p: &str| files.iter().find(|(name, _)| *name == p).map(|(_, b)| *b);
        if !matches!(*request.method(), http::Method::GET | http::Method::HEAD) {
            return self.index(StatusCode::NOT_FOUND);
        }
        let Some(plain) = find(path) else {
            return self.index(StatusCode::NOT_FOUND);
        };
        let gzip_ok = request
            .headers()
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|e| {
                let mut parts = e.trim().split(';');
                let name = parts.next().unwrap_or("").trim();
                let q_zero = parts.any(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                        == Some(0.0)
                });
                (name == "gzip" || name == "*") && !q_zero
            });
        let gz = gzip_ok.then(|| find(&format!("{path}.gz"))).flatten();
        let cache = if is_hashed_asset(path) {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        let mut response = Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, content_type(path))
            .header(header::CACHE_CONTROL, cache)
            .header(header::VARY, "accept-encoding");
        let body = match gz {
            Some(gz) => {
                response = response.header(header::CONTENT_ENCODING, "gzip");
                gz
            }
            None => plain,
        };
        response = response.header(header::CONTENT_LENGTH, body.len());
        let body = if request.method() == http::Method::HEAD {
            Body::empty()
        } else {
            Body::from(body)
        };
        response
            .body(body)
            .unwrap_or_else(|_| self.index(StatusCode::NOT_FOUND))
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

/// The content type of a UI file, by its extension.
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json") => "application/json",
        Some("txt") => "text/plain; charset=utf-8",
        Some("gz") => "application/gzip",
        _ => "application/octet-stream",
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

/// Whether the file `path` names carries Trunk's content hash: a `-`, then
/// the hash in hex (a 64-bit value printed without leading zeros, so 12 to
/// 16 digits in practice), then `.` or `_` (`frontend-b46e7fa6a25cd0c1.js`,
/// `frontend-8ac2d5e2a284251_bg.wasm`).
fn is_hashed_asset(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or("");
    name.match_indices('-').any(|(i, _)| {
        let rest = &name[i + 1..];
        let digits = rest
            .find(|c: char| !c.is_ascii_hexdigit())
            .unwrap_or(rest.len());
        (12..=16).contains(&digits) && matches!(rest[digits..].chars().next(), Some('.' | '_'))
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
            // A hash with a leading zero, printed without it.
            "/frontend-8ac2d5e2a284251_bg.wasm",
            "/frontend-8ac2d5e2a284251.js",
        ] {
            assert!(is_hashed_asset(hashed), "{hashed}");
        }
        for plain in [
            "/favicon.ico",
            "/app-1234.js",
            "/robots.txt",
            "/a-b46e7fa6a25cd0cx.js",
            "/notes-2024.txt",
            "/a-b46e7fa6a25cd0c1ab.js",
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

    static FILES: EmbeddedFiles = &[
        (
            "/index.html",
            b"<html><script type=\"module\">boot()</script></html>",
        ),
        ("/frontend-b46e7fa6a25cd0c1.js", b"plain js"),
        ("/frontend-b46e7fa6a25cd0c1.js.gz", b"gzipped js"),
        ("/robots.txt", b"User-agent: *"),
    ];

    async fn get(spa: &Spa, method: &str, path: &str, accept: Option<&str>) -> (Response, Vec<u8>) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(a) = accept {
            request = request.header(header::ACCEPT_ENCODING, a);
        }
        let response = spa.serve(request.body(Body::empty()).unwrap()).await;
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap().to_vec();
        (Response::from_parts(parts, Body::empty()), bytes)
    }

    fn header_of(r: &Response, name: header::HeaderName) -> Option<&str> {
        r.headers().get(name).and_then(|v| v.to_str().ok())
    }

    #[tokio::test]
    async fn the_embedded_ui_is_served_like_the_one_on_disk() {
        let spa = Spa::embedded(FILES);
        assert!(spa.is_embedded());
        // The policy allows the embedded index's inline script.
        assert!(
            spa.csp()
                .to_str()
                .unwrap()
                .contains("'sha256-MeZS89WlF0u+o0hCvHTBt4q1WHU+U+sJKgbdRUc36mY='")
        );
        let (r, body) = get(&spa, "GET", "/graph", None).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(body.starts_with(b"<html>"));
        let js = "/frontend-b46e7fa6a25cd0c1.js";
        let (r, body) = get(&spa, "GET", js, Some("br, gzip;q=0.8")).await;
        assert_eq!(body, b"gzipped js");
        assert_eq!(header_of(&r, header::CONTENT_ENCODING), Some("gzip"));
        assert_eq!(
            header_of(&r, header::CONTENT_TYPE),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(
            header_of(&r, header::CACHE_CONTROL),
            Some("public, max-age=31536000, immutable")
        );
        assert_eq!(header_of(&r, header::CONTENT_LENGTH), Some("10"));
        for refused in [None, Some("gzip;q=0"), Some("br")] {
            let (r, body) = get(&spa, "GET", js, refused).await;
            assert_eq!(body, b"plain js", "{refused:?}");
            assert_eq!(header_of(&r, header::CONTENT_ENCODING), None);
        }
        let (r, body) = get(&spa, "HEAD", js, None).await;
        assert_eq!((r.status(), body.len()), (StatusCode::OK, 0));
        assert_eq!(header_of(&r, header::CONTENT_LENGTH), Some("8"));
        let (r, _) = get(&spa, "GET", "/robots.txt", None).await;
        assert_eq!(header_of(&r, header::CACHE_CONTROL), Some("no-cache"));
        assert_eq!(
            header_of(&r, header::CONTENT_TYPE),
            Some("text/plain; charset=utf-8")
        );
        // No such file, or not a read: the UI's not-found page, 404.
        for (method, path) in [("GET", "/missing.js"), ("POST", js)] {
            let (r, body) = get(&spa, method, path, None).await;
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{method} {path}");
            assert!(body.starts_with(b"<html>"));
        }
        // Without an index.html nothing is served but the "not built" page.
        let (r, _) = get(&Spa::embedded(&[]), "GET", "/", None).await;
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
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
