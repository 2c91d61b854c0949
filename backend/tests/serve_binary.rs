//! The real `wahub` binary as a container runs it: `wahub healthcheck` against a running
//! `wahub serve`, and its JSON log lines carrying the request id.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    data: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wahub() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wahub"));
    // Settings come from the environment only, not from a wahub.toml lying around.
    cmd.current_dir(std::env::temp_dir());
    cmd
}

/// `wahub serve` on `bind`, with its stdout lines sent to the returned channel.
fn serve(bind: &str, port: u16, extra: &[(&str, &str)]) -> (Server, mpsc::Receiver<String>) {
    let data = std::env::temp_dir().join(format!("wahub_bin_{}_{port}", std::process::id()));
    let mut cmd = wahub();
    cmd.arg("serve").env("WAHUB_BIND", bind).env("WAHUB_DATA_DIR", &data).env("RUST_LOG", "info");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("spawn wahub serve");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let server = Server { child, data };
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(60), "wahub serve did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    (server, rx)
}

fn healthcheck(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let mut cmd = wahub();
    cmd.arg("healthcheck").args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run wahub healthcheck");
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn healthcheck_exits_zero_only_when_healthz_answers_200() {
    let port = free_port();
    // Bound to the wildcard address, as in the container: the check asks loopback.
    let bind = format!("0.0.0.0:{port}");
    let (server, _logs) = serve(&bind, port, &[]);
    let (ok, err) = healthcheck(&[], &[("WAHUB_BIND", &bind)]);
    assert!(ok, "healthy server reported unhealthy: {err}");
    let (ok, err) = healthcheck(&["--addr", &format!("127.0.0.1:{port}")], &[]);
    assert!(ok, "{err}");
    drop(server);

    // Nothing listening: failure, promptly.
    let started = Instant::now();
    let (ok, err) = healthcheck(&["--addr", &format!("127.0.0.1:{port}"), "--timeout-ms", "2000"], &[]);
    assert!(!ok);
    assert!(err.contains("cannot connect"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(30));

    // Something answering, but not 200.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        if let Ok((mut sock, _)) = listener.accept() {
            let mut buf = [0u8; 512];
            let _ = sock.read(&mut buf);
            let _ = sock.write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n");
        }
    });
    let (ok, err) = healthcheck(&["--addr", &addr.to_string()], &[]);
    assert!(!ok);
    assert!(err.contains("503"), "{err}");
}

#[test]
fn json_log_lines_carry_the_request_id() {
    let port = free_port();
    let (_server, logs) = serve(&format!("127.0.0.1:{port}"), port, &[("WAHUB_LOG_FORMAT", "json")]);
    let mut sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-request-id: probe-42\r\nconnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    sock.read_to_string(&mut answer).unwrap();
    assert!(answer.to_ascii_lowercase().contains("x-request-id: probe-42"), "{answer}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = logs.recv_timeout(left).expect("a request log line with the request id");
        let Ok(json) = serde_json::from_str::<serde_json::Value>(&line) else {
            panic!("a log line that is not JSON: {line}");
        };
        if json["fields"]["path"] == "/healthz" {
            assert_eq!(json["fields"]["request_id"], "probe-42", "{line}");
            assert_eq!(json["span"]["request_id"], "probe-42", "{line}");
            break;
        }
    }
}

/// Rows in `users` as the SQLite file alone holds them (any WAL ignored).
fn users_in_the_file(db: &std::path::Path) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let url = format!("sqlite://{}?immutable=true", db.display());
        let conn = sea_orm::Database::connect(url.as_str()).await.expect("open the file read-only");
        let sql = Statement::from_string(conn.get_database_backend(), "SELECT COUNT(*) AS n FROM users");
        let row = conn.query_one(sql).await.expect("count").expect("a row");
        let n: i64 = row.try_get_by_index(0).expect("n");
        conn.close().await.ok();
        n
    })
}

#[test]
fn a_stopped_server_leaves_everything_in_its_database_file() {
    let port = free_port();
    let (mut server, _logs) = serve(&format!("127.0.0.1:{port}"), port, &[]);
    let body = r#"{"email":"backup@example.com","password":"correct horse battery staple"}"#;
    let mut sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let request = format!(
        "POST /api/v1/auth/register HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    sock.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    sock.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");

    let term = Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status().expect("kill");
    assert!(term.success());
    let stopped = Instant::now();
    while server.child.try_wait().expect("wait").is_none() {
        assert!(stopped.elapsed() < Duration::from_secs(30), "wahub serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
    let db = server.data.join("wahub.db");
    assert!(!server.data.join("wahub.db-wal").exists(), "the WAL was copied back and removed");
    assert_eq!(users_in_the_file(&db), 1, "the registered user is in the database file itself");
}
