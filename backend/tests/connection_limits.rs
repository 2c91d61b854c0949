//! Issue 11 item 4: 300 silent TCP connections against a server with a 256-fd limit made
//! it refuse everything and spin a core (poem retried a failing `accept` at once, and
//! nothing ever closed a silent socket). `wahub serve` runs here as a child process with
//! RLIMIT_NOFILE 256: it must back off instead of spinning, close the silent sockets
//! after the header timeout, and answer a normal request again.

#![cfg(target_os = "linux")]

use std::io::Read;
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// CPU seconds (user + system) the process has used so far.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    // SAFETY: sysconf has no preconditions.
    ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

fn healthz(port: u16, timeout: Duration) -> Option<String> {
    let mut sock = TcpStream::connect(("127.0.0.1", port)).ok()?;
    sock.set_read_timeout(Some(timeout)).ok()?;
    std::io::Write::write_all(&mut sock, b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").ok()?;
    let mut out = String::new();
    sock.read_to_string(&mut out).ok()?;
    Some(out)
}

#[test]
fn silent_connections_at_the_fd_limit_neither_spin_nor_lock_the_server_out() {
    let port = free_port();
    let data = std::env::temp_dir().join(format!("wahub_fdlimit_{}_{port}", std::process::id()));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wahub"));
    cmd.arg("serve")
        .env("WAHUB_BIND", format!("127.0.0.1:{port}"))
        .env("WAHUB_DATA_DIR", &data)
        .env("WAHUB_HEADER_READ_TIMEOUT_MS", "1500")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit { rlim_cur: 256, rlim_max: 256 };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let server = Server(cmd.spawn().expect("spawn wahub serve"));
    let started = Instant::now();
    while healthz(port, Duration::from_secs(2)).is_none_or(|r| !r.starts_with("HTTP/1.1 200")) {
        assert!(started.elapsed() < Duration::from_secs(30), "wahub did not start");
        std::thread::sleep(Duration::from_millis(100));
    }

    // More silent sockets than the server has file descriptors.
    let silent: Vec<TcpStream> = (0..300).filter_map(|_| TcpStream::connect(("127.0.0.1", port)).ok()).collect();
    assert!(silent.len() >= 260, "opened {} silent connections", silent.len());
    let pid = server.0.id();
    let cpu_before = cpu_secs(pid);
    std::thread::sleep(Duration::from_secs(2));
    let cpu_used = cpu_secs(pid) - cpu_before;
    assert!(cpu_used < 0.8, "the server spun: {cpu_used:.2} s of CPU in 2 s while at its fd limit");

    // The header timeout frees descriptors, so a normal request is answered again.
    let answered = healthz(port, Duration::from_secs(10)).unwrap_or_default();
    assert!(answered.starts_with("HTTP/1.1 200"), "no answer while silent sockets are open: {answered:?}");
    drop(silent);
    let again = healthz(port, Duration::from_secs(5)).unwrap_or_default();
    assert!(again.starts_with("HTTP/1.1 200"), "{again:?}");
    drop(server);
    let _ = std::fs::remove_dir_all(data);
}
