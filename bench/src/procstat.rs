//! CPU time and resident memory of this process or another one, read from /proc.

/// User + system CPU seconds used so far by this process.
pub fn cpu_seconds() -> f64 {
    cpu_seconds_of("self")
}

/// Resident set size of this process in bytes.
pub fn rss_bytes() -> u64 {
    rss_bytes_of("self")
}

/// User + system CPU seconds used so far by process `pid` ("self" for this one); 0 if unreadable.
pub fn cpu_seconds_of(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // USER_HZ is 100 on every Linux platform we run on.
    (ticks(11) + ticks(12)) / 100.0
}

/// Resident set size (VmRSS) of process `pid` in bytes; 0 if unreadable.
pub fn rss_bytes_of(pid: &str) -> u64 {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return 0;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Open file descriptors of process `pid`; 0 if unreadable.
pub fn open_fds_of(pid: &str) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}
