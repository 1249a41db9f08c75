//! Links with aarch32-rt's `link.x`, our `memory.x`, and armv7-kprobes' `kprobes.x`.
fn main() {
    let here = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    println!("cargo:rustc-link-search={here}");
    println!("cargo:rerun-if-changed=memory.x");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("arm") {
        println!("cargo:rustc-link-arg-bins=-Tkprobes.x");
        println!("cargo:rustc-link-arg-bins=-Tlink.x");
    }
}
