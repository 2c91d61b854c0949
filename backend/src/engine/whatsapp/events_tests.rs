//! Unit tests of the pure event mapping (placeholder; filled below).
