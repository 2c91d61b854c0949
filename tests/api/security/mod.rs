//! Issue 11, security items: each test reproduces one attack and pins its defence
//! (docs/security.md lists them).

mod brute_force;
mod headers;
mod keep_alive;
mod logs;
mod media;
mod nul;
mod secrets;
mod ssrf;
