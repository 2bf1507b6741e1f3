//! `cfg(postgres_tests)` turns the PostgreSQL half of the tests on, as in `tests/build.rs`.

fn main() {
    println!("cargo::rerun-if-env-changed=PORTCULLIS_TEST_POSTGRES_URL");
    println!("cargo::rustc-check-cfg=cfg(postgres_tests)");
    if std::env::var_os("PORTCULLIS_TEST_POSTGRES_URL").is_some_and(|url| !url.is_empty()) {
        println!("cargo::rustc-cfg=postgres_tests");
    }
}
