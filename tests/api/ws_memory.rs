//! A client that never reads costs a bounded number of bytes and is closed with 4008
//! as soon as it is that far behind, not after a send timeout.

use serde_json::{json, Value};
use wahub_tests::{json_of, spawn_app};

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn a_never_reading_client_is_closed_with_4008_once_it_owes_too_many_bytes() {
    // The count limit stays at its default (1024 events): only bytes can trip it here.
    let app = spawn_app().await;
    assert!(app.settings.ws.ws_buffer >= 1024);
    let user = app.register("a@example.com").await;
    let user_id: uuid::Uuid = user.id.parse().expect("uuid");
    let sid = id(&app.connected_session(&user, "main", "6281234567890").await);
    let mut ws = app.ws(&user, None).await;
    ws.next_json().await;
    // Up to ~18 MB of events: more than the kernel's socket buffers and the byte budget
    // hold. The server lets go of this socket's subscription as soon as it is too far
    // behind, while the client still reads nothing.
    let text = "x".repeat(60_000);
    let mut posted = 0;
    while app.state.events.receiver_count(user_id) > 0 {
        assert!(posted < 300, "still subscribed after {posted} large events");
        let body = json!({ "from": "6289999999999", "text": format!("{posted} {text}") });
        json_of(app.post(&format!("/api/v1/sessions/{sid}/sim/incoming"), &user.token, body).await, 200).await;
        posted += 1;
        // The engine and the log take a moment; give the writer the chance to trip.
        if posted % 20 == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    let (frames, code) = ws.drain_until_close(10).await;
    assert_eq!(code, Some(4008), "after {} frames", frames.len());
    assert!(frames.len() < posted, "{} of {posted} frames: the rest was never buffered", frames.len());
    app.stop().await;
}
