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
        let assets = ServeDir::new(&self.dir)
            .precompressed_gzip()
            .append_index_html_on_directories(false);
        match assets.oneshot(request).await {
            Ok(response) if response.status() != StatusCode::NOT_FOUND => {
                let mut response = response.map(Body::new);
                // Trunk puts a content hash in every asset's name.
                response.headers_mut().insert(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                );
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
