//! Resource paths (contract section 12): the grammar, covering by whole segments, key
//! restrictions and the stored `resource=role` grants, checked against the grammar's own words.
//!
//! Input: UTF-8 text, one candidate path per line; the whole text is also read as the stored
//! comma-separated forms.
#![no_main]

use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use portcullis_domain::{Grant, ResourcePath, Restriction, Role, RoleAt, Standing};

/// "1 to 8 segments joined by `/`, each matching `^[a-z0-9][a-z0-9._-]{0,62}$`"
fn grammar(raw: &str) -> bool {
    let segments: Vec<&str> = raw.split('/').collect();
    (1..=8).contains(&segments.len())
        && segments.iter().all(|segment| {
            let bytes = segment.as_bytes();
            let first = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
            (1..=63).contains(&bytes.len())
                && first(bytes[0])
                && bytes
                    .iter()
                    .all(|&b| first(b) || matches!(b, b'.' | b'_' | b'-'))
        })
}

fn check_path(raw: &str) -> Option<ResourcePath> {
    let parsed = ResourcePath::parse(raw);
    assert_eq!(parsed.is_ok(), grammar(raw), "{raw:?}");
    let path = parsed.ok()?;
    assert_eq!(path.as_str(), raw);
    assert_eq!(path.to_string(), raw);
    assert_eq!(ResourcePath::parse(raw.to_owned()).unwrap(), path);
    assert_eq!(ResourcePath::parse(path.as_str()).unwrap(), path);
    // What the stored forms and the platforms rely on.
    assert!(!raw.is_empty() && !raw.starts_with('/') && !raw.ends_with('/'));
    assert!(!raw.contains("//"));
    assert!(
        raw.split('/')
            .all(|s| s != "." && s != ".." && !s.starts_with('.'))
    );
    assert!(!raw.contains([',', '=', ' ', '\\', '%']));
    assert!(raw.is_ascii());
    assert_eq!(path.clone().into_string(), raw);
    Some(path)
}

/// "A path covers itself and every path below it, by whole segments"
fn covers(a: &ResourcePath, b: &ResourcePath) -> bool {
    let (a, b): (Vec<&str>, Vec<&str>) = (
        a.as_str().split('/').collect(),
        b.as_str().split('/').collect(),
    );
    b.starts_with(&a)
}

fn check_restriction(lines: &[&str], paths: &[Option<ResourcePath>]) {
    let mut distinct: Vec<&str> = lines.to_vec();
    distinct.sort();
    distinct.dedup();
    let expected = paths.iter().all(Option::is_some) && (1..=16).contains(&distinct.len());
    let parsed = Restriction::parse(lines);
    assert_eq!(parsed.is_ok(), expected, "{lines:?}");
    let Ok(restriction) = parsed else {
        return;
    };
    assert_eq!(restriction.names(), distinct);
    assert_eq!(
        Restriction::from_csv(&restriction.to_csv()).unwrap(),
        restriction
    );
    assert!(restriction.contains(&restriction));
    for path in paths.iter().flatten() {
        assert!(restriction.covers(path));
    }
}

fn check_csv(text: &str) {
    if let Ok(restriction) = Restriction::from_csv(text) {
        assert_eq!(
            Restriction::from_csv(&restriction.to_csv()).unwrap(),
            restriction
        );
        assert!(restriction.paths().iter().all(|p| grammar(p.as_str())));
    }
    let Ok(grants) = RoleAt::from_csv(text) else {
        return;
    };
    assert_eq!(RoleAt::from_csv(&RoleAt::to_csv(&grants)).unwrap(), grants);
    assert!(grants.iter().all(|g| grammar(g.resource.as_str())
        && matches!(g.role, Role::Admin | Role::Developer | Role::Viewer)));
    // Grants only add: the role at a path is the highest of the organization role and the
    // grants covering it.
    let standing = Standing {
        role: Role::Guest,
        grants: grants
            .iter()
            .map(|g| Grant {
                resource: g.resource.clone(),
                role: g.role,
                created_at: DateTime::<Utc>::UNIX_EPOCH,
            })
            .collect(),
    };
    assert_eq!(standing.role_at(None), Role::Guest);
    for grant in &grants {
        let expected = grants
            .iter()
            .filter(|g| covers(&g.resource, &grant.resource))
            .fold(Role::Guest, |role, g| role.higher(g.role));
        assert_eq!(standing.role_at(Some(&grant.resource)), expected);
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines: Vec<&str> = text.split('\n').take(32).collect();
    let paths: Vec<Option<ResourcePath>> = lines.iter().map(|line| check_path(line)).collect();
    for a in paths.iter().flatten() {
        assert!(a.covers(a));
        for b in paths.iter().flatten() {
            assert_eq!(a.covers(b), covers(a, b), "{a} covers {b}");
            if a.covers(b) && b.covers(a) {
                assert_eq!(a, b);
            }
        }
    }
    check_restriction(&lines, &paths);
    check_csv(text);
});
