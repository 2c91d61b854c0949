//! Just enough of an event frame to time it, read without a full JSON parse.
//!
//! The server writes `{"type":"event","seq":N,"event":..,"session_id":..,"at":"RFC 3339",
//! "data":..}`; `seq` and `at` come before `"data"`, so only that prefix is searched for
//! them. The message text inside `data` carries the client's send time (see [`SENT_MARK`]).

/// Marks the client's send time (Unix nanoseconds) inside a posted message's text.
pub const SENT_MARK: &str = "sent_ns=";

pub struct EventStamp {
    pub seq: i64,
    /// `at`, as nanoseconds since the Unix epoch.
    pub at_ns: i128,
    /// When the client posted the request that made this event, if the text says.
    pub sent_ns: Option<i128>,
}

pub fn event_stamp(text: &str) -> Option<EventStamp> {
    let data_at = text.find("\"data\":").unwrap_or(text.len());
    let head = &text[..data_at];
    if !head.starts_with("{\"type\":\"event\"") {
        return None;
    }
    let seq = leading_number(field(head, "\"seq\":")?)? as i64;
    let at = field(head, "\"at\":\"")?;
    let at_ns = rfc3339_ns(&at[..at.find('"')?])?;
    let sent_ns = field(&text[data_at..], SENT_MARK).and_then(leading_number);
    Some(EventStamp { seq, at_ns, sent_ns })
}

fn leading_number(s: &str) -> Option<i128> {
    s[..s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len())].parse().ok()
}

fn field<'a>(head: &'a str, key: &str) -> Option<&'a str> {
    head.find(key).map(|i| &head[i + key.len()..])
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z` to Unix nanoseconds.
fn rfc3339_ns(s: &str) -> Option<i128> {
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let rest = s.get(19..)?.strip_suffix('Z')?;
    let frac_ns = match rest.strip_prefix('.') {
        Some(digits) if !digits.is_empty() && digits.len() <= 9 => {
            digits.parse::<i64>().ok()? * 10i64.pow(9 - digits.len() as u32)
        }
        Some(_) => return None,
        None => 0,
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec;
    Some(secs as i128 * 1_000_000_000 + frac_ns as i128)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (eras of 400 years).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub fn now_ns() -> i128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i128)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_seq_and_time() {
        let f = r#"{"type":"event","seq":42,"event":"message.received","session_id":"x","at":"2024-03-01T00:00:01.5Z","data":{"at":"no"}}"#;
        let s = event_stamp(f).expect("stamp");
        assert_eq!(s.seq, 42);
        assert_eq!(s.at_ns, 1_709_251_201_500_000_000);
        assert_eq!(s.sent_ns, None);
        let f = r#"{"type":"event","seq":7,"event":"message.received","session_id":"x","at":"2024-03-01T00:00:01Z","data":{"peer":"1","text":"bench message 3 sent_ns=1709251200999000000"}}"#;
        let s = event_stamp(f).expect("stamp");
        assert_eq!((s.seq, s.sent_ns), (7, Some(1_709_251_200_999_000_000)));
        assert!(event_stamp(r#"{"type":"hello","seq":1}"#).is_none());
        assert_eq!(rfc3339_ns("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339_ns("2000-02-29T12:00:00.000000001Z"), Some(951_825_600_000_000_001));
    }
}
