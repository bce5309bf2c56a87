use crate::helpers::spawn_app;
use reqwest::StatusCode;

#[tokio::test]
async fn a_load_balancer_probe_gets_ok_without_a_session() {
    let app = spawn_app().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers().get("set-cookie").is_none(),
        "the probe must not create sessions"
    );
    assert_eq!(response.text().await.unwrap(), "ok");
}
