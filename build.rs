//! Puts the crate's linker fragments on the link path of whatever links the crate (as
//! aarch32-rt does with its `link.x`): `kprobes.x` for a kernel on aarch32-rt's
//! `link.x`, `kprobes-never-probe.x` for a kernel with its own script (see `src/linked.rs`).

use std::{env, fs, path::PathBuf};

const FRAGMENTS: [&str; 2] = ["kprobes.x", "kprobes-never-probe.x"];

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let here = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    for name in FRAGMENTS {
        let from = here.join("link").join(name);
        fs::copy(&from, out.join(name))
            .unwrap_or_else(|e| panic!("copying {}: {e}", from.display()));
        println!("cargo:rerun-if-changed=link/{name}");
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-link-search={}", out.display());
}
