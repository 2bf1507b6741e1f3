//! Tables for people, JSON for scripts.

use comfy_table::{Table, presets::NOTHING};
use portcullis_client::Client;
use std::fmt::Display;
use std::io::Write;

/// The server's last answer exactly as it sent it, one JSON document on standard output.
pub fn json(client: &Client) {
    let body = client.last_body().unwrap_or_default();
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(&body).and_then(|()| out.write_all(b"\n")) {
        eprintln!("error: cannot print JSON: {e}");
    }
}

pub fn table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) {
    let mut table = Table::new();
    table.load_style(NOTHING);
    if !header.is_empty() {
        table.set_header(header.to_vec());
    }
    for row in rows {
        table.add_row(row);
    }
    println!("{table}");
}

/// One object as `field  value` lines.
pub fn fields(rows: &[(&str, String)]) {
    table(
        &[],
        rows.iter().map(|(k, v)| vec![(*k).to_owned(), v.clone()]),
    );
}

pub fn optional<T: Display>(value: &Option<T>) -> String {
    value
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_else(|| "-".into())
}

pub fn list<T: Display>(values: &[T]) -> String {
    values
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}
