//! Embeds the built UI in the binary when `MESHDECK_EMBED_DIST` names
//! Trunk's output directory (`scripts/build.sh` sets it for the release
//! build): `$OUT_DIR/embedded_ui.rs` holds every file of it, by URL path,
//! with `include_bytes!`. Without it the table is empty and the UI is
//! served from `--static-dir`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn files(dir: &Path, base: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            files(&path, base, out);
        } else if let Ok(rel) = path.strip_prefix(base) {
            let url = format!("/{}", rel.to_string_lossy().replace('\\', "/"));
            out.push((url, path.clone()));
        }
    }
}

fn main() {
    println!("cargo:rerun-if-env-changed=MESHDECK_EMBED_DIST");
    let mut found = Vec::new();
    if let Some(dir) = std::env::var_os("MESHDECK_EMBED_DIST").map(PathBuf::from) {
        println!("cargo:rerun-if-changed={}", dir.display());
        if let Ok(dir) = dir.canonicalize() {
            files(&dir, &dir, &mut found);
        }
        if !found.iter().any(|(url, _)| url == "/index.html") {
            println!(
                "cargo:warning=MESHDECK_EMBED_DIST={} holds no index.html: no UI embedded",
                dir.display()
            );
            found.clear();
        }
    }
    let mut code = String::from(
        "/// The embedded UI: URL path and content of each file.\npub static FILES: &[(&str, &[u8])] = &[\n",
    );
    for (url, path) in &found {
        println!("cargo:rerun-if-changed={}", path.display());
        writeln!(
            code,
            "    ({url:?}, include_bytes!({:?})),",
            path.display().to_string()
        )
        .unwrap();
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("embedded_ui.rs");
    std::fs::write(out, code).expect("writing embedded_ui.rs");
}
