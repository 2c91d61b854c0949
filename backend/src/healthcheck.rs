//! `wahub healthcheck`: asks this node's `/healthz` over loopback and exits 0 on a 200.
//! Made for container HEALTHCHECKs, where no curl is installed.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Where to reach a server bound to `bind`: a wildcard address becomes loopback.
pub fn target(bind: &str) -> Option<SocketAddr> {
    let mut addr = bind.to_socket_addrs().ok()?.next()?;
    if addr.ip().is_unspecified() {
        let loopback = match addr.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        };
        addr.set_ip(loopback);
    }
    Some(addr)
}

/// `Ok` when `/healthz` answers 200 within `timeout`; else why not.
pub fn check(addr: SocketAddr, timeout: Duration) -> Result<(), String> {
    let mut sock = TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    sock.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    sock.set_write_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    let request = format!("GET /healthz HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
    sock.write_all(request.as_bytes()).map_err(|e| format!("cannot send to {addr}: {e}"))?;
    // The status line is all that counts; read a little more than it.
    let mut head = [0u8; 64];
    let mut got = 0;
    while got < 12 {
        match sock.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => return Err(format!("no answer from {addr}: {e}")),
        }
    }
    let line = String::from_utf8_lossy(&head[..got]);
    let status = line.split_whitespace().nth(1).unwrap_or("");
    if line.starts_with("HTTP/1.") && status == "200" {
        Ok(())
    } else {
        Err(format!("{addr}/healthz answered {:?}", line.lines().next().unwrap_or("")))
    }
}

#[cfg(test)]
mod tests {
    use super::target;

    #[test]
    fn wildcard_binds_are_reached_on_loopback() {
        assert_eq!(target("0.0.0.0:8080").unwrap().to_string(), "127.0.0.1:8080");
        assert_eq!(target("[::]:9000").unwrap().to_string(), "[::1]:9000");
        assert_eq!(target("127.0.0.1:81").unwrap().to_string(), "127.0.0.1:81");
        assert!(target("no port").is_none());
    }
}
