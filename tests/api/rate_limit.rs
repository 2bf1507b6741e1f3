//! Password endpoints are rate limited per client address: 429 with `Retry-After`.

use portcullis_tests::*;
use serde_json::json;

backend_tests!(login_attempts_beyond_the_limit_get_429_with_retry_after);

async fn login_attempts_beyond_the_limit_get_429_with_retry_after(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.login_rate_limit = 3).await;
    let attempt = || {
        app.http
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"email": "nobody@example.com", "password": "wrong password"}))
            .send()
    };
    for _ in 0..3 {
        assert_error(attempt().await.unwrap(), 401, "unauthenticated").await;
    }
    let limited = attempt().await.unwrap();
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    assert_error(limited, 429, "rate_limited").await;
}
