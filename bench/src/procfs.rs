//! What the kernel says about a process and the machine: memory, CPU time, context
//! switches, load average.

use std::sync::OnceLock;

/// Resident set size in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status_field(&status, "VmRSS:")
}

/// CPU time of a whole process (all threads), in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuTime {
    /// In the process's own code.
    pub user: f64,
    /// In the kernel on its behalf: system calls (socket writes above all), page faults.
    pub system: f64,
}

impl CpuTime {
    pub fn total(&self) -> f64 {
        self.user + self.system
    }
}

/// The CPU time spent between two readings of the same process.
impl std::ops::Sub for CpuTime {
    type Output = CpuTime;

    fn sub(self, before: CpuTime) -> CpuTime {
        CpuTime { user: self.user - before.user, system: self.system - before.system }
    }
}

/// User plus system CPU time of the whole process, in seconds.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    cpu_time(pid).map(|t| t.total())
}

pub fn cpu_time(pid: u32) -> Option<CpuTime> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (user, system) = utime_stime(&stat)?;
    let tck = clock_ticks_per_second() as f64;
    Some(CpuTime { user: user as f64 / tck, system: system as f64 / tck })
}

/// utime and stime (fields 14 and 15) of a `/proc/<pid>/stat` line. The command name in
/// parentheses may contain spaces, so fields are counted after its closing `)`.
fn utime_stime(stat: &str) -> Option<(u64, u64)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11); // field 3 is the first after ')'
    Some((fields.next()?.parse::<u64>().ok()?, fields.next()?.parse::<u64>().ok()?))
}

/// Voluntary plus involuntary context switches summed over the process's threads:
/// each one is a thread going to sleep or being preempted, a proxy for wake-ups.
pub fn context_switches(pid: u32) -> Option<u64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut sum = 0;
    for task in tasks.flatten() {
        let Ok(status) = std::fs::read_to_string(task.path().join("status")) else { continue };
        sum += status_field(&status, "voluntary_ctxt_switches:").unwrap_or(0);
        sum += status_field(&status, "nonvoluntary_ctxt_switches:").unwrap_or(0);
    }
    Some(sum)
}

fn status_field(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// The 1, 5 and 15 minute load averages.
pub fn load_average() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut it = text.split_whitespace().map(|w| w.parse::<f64>().ok());
    Some([it.next()??, it.next()??, it.next()??])
}

/// `getconf CLK_TCK` (the unit of /proc CPU times); 100 on every Linux this runs on.
fn clock_ticks_per_second() -> u64 {
    static TCK: OnceLock<u64> = OnceLock::new();
    *TCK.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse().ok())
            .filter(|&t| t > 0)
            .unwrap_or(100)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cpu_fields_after_the_command_name() {
        let line = "4242 (tokio (rt) x) S 1 4242 4242 0 -1 4194560 2063 0 0 0 731 69 0 0 20 0 9 0 1234 0 0";
        assert_eq!(utime_stime(line), Some((731, 69)));
    }

    #[test]
    fn a_difference_keeps_user_and_kernel_time_apart() {
        let before = CpuTime { user: 1.0, system: 0.5 };
        let after = CpuTime { user: 3.5, system: 0.75 };
        assert_eq!(after - before, CpuTime { user: 2.5, system: 0.25 });
        assert_eq!((after - before).total(), 2.75);
    }

    #[test]
    fn this_process_is_visible() {
        let me = std::process::id();
        assert!(rss_kib(me).is_some_and(|k| k > 0));
        assert!(cpu_time(me).is_some_and(|t| t.total() >= 0.0));
        assert!(context_switches(me).is_some_and(|n| n > 0));
        assert!(load_average().is_some());
    }
}
