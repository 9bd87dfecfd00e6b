//! The web UI is embedded from `web/dist`. Make sure the folder exists so the crate builds
//! before the UI has been built, and rebuild when any file in it changes.

use std::path::Path;

fn watch(dir: &Path) {
    println!("cargo:rerun-if-changed={}", dir.display());
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.path().is_dir() {
                watch(&e.path());
            }
        }
    }
}

fn main() {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/dist");
    std::fs::create_dir_all(&dist).expect("creating web/dist");
    watch(&dist);
}
