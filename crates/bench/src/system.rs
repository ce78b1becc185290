//! What the benchmarks observe of the server from outside: its memory (from
//! `/proc/PID/status`, sampled while it indexes), the CPU time it has used (from
//! `/proc/PID/stat`) and the size of its data directory on disk (like `du`). Linux only;
//! elsewhere these figures are simply not reported.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// A `Vm*:` line of `/proc/PID/status`, in bytes.
pub fn parse_status_field(status: &str, field: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        let kb: u64 = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
        Some(kb * 1024)
    })
}

fn read_status(pid: u32) -> Result<String> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status (is {pid} the server's pid?)"))
}

/// Current resident set size of a process, in bytes.
pub fn rss(pid: u32) -> Result<u64> {
    parse_status_field(&read_status(pid)?, "VmRSS").context("no VmRSS in /proc/PID/status")
}

/// Lifetime peak resident set size (high-water mark) of a process, in bytes.
pub fn hwm(pid: u32) -> Result<u64> {
    parse_status_field(&read_status(pid)?, "VmHWM").context("no VmHWM in /proc/PID/status")
}

/// `utime + stime` of a `/proc/PID/stat` line, in clock ticks: the CPU time used by every
/// thread of the process, living or exited, in user and kernel mode. The command name (field
/// 2) is in parentheses and may hold spaces or parentheses itself, so the fields are counted
/// from the last `)`.
pub fn parse_stat_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // After the name: field 3 (state) is the first; utime is field 14, stime field 15.
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Clock ticks per second of `/proc` times (`getconf CLK_TCK`; 100 on Linux when it cannot be
/// asked).
pub fn clock_ticks_per_second() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .filter(|&t| t > 0)
            .unwrap_or(100)
    })
}

/// CPU time (user + system, all threads) a process has used since it started, in seconds.
pub fn cpu_seconds(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat (is {pid} the server's pid?)"))?;
    let ticks = parse_stat_cpu_ticks(&stat).context("no utime/stime in /proc/PID/stat")?;
    Ok(ticks as f64 / clock_ticks_per_second() as f64)
}

/// Waits until a process has used less than 5% of one core over a whole second, checking
/// every 100 ms; returns how long it was busy before that quiet second began (`timeout` if it
/// never went quiet).
pub fn wait_until_idle(pid: u32, timeout: Duration) -> Result<Duration> {
    const WINDOW: Duration = Duration::from_secs(1);
    const BUSY_CPU_SECONDS: f64 = 0.05;
    let start = Instant::now();
    let mut samples: std::collections::VecDeque<(Instant, f64)> = Default::default();
    loop {
        let now = Instant::now();
        samples.push_back((now, cpu_seconds(pid)?));
        while samples.len() > 1 && now.duration_since(samples[1].0) >= WINDOW {
            samples.pop_front();
        }
        let (first_at, first_cpu) = samples[0];
        let last_cpu = samples[samples.len() - 1].1;
        if now.duration_since(first_at) >= WINDOW && last_cpu - first_cpu < BUSY_CPU_SECONDS {
            return Ok(first_at.duration_since(start));
        }
        if now.duration_since(start) >= timeout {
            return Ok(timeout);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Samples VmRSS of a process every 100 ms on a thread until stopped; keeps the maximum.
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<u64>,
}

impl RssSampler {
    pub fn start(pid: u32) -> Result<Self> {
        let first = rss(pid)?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut max = first;
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                if let Ok(v) = rss(pid) {
                    max = max.max(v);
                }
            }
            max
        });
        Ok(RssSampler { stop, handle })
    }

    /// Stops sampling and returns the largest VmRSS seen.
    pub fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().unwrap_or(0)
    }
}

/// Sizes of a directory tree, counting each hard-linked file once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct DiskUsage {
    /// Blocks allocated, as `du` reports (sparse and preallocated files count what they use).
    pub allocated_bytes: u64,
    /// Sum of file lengths, as `du --apparent-size` reports.
    pub apparent_bytes: u64,
}

pub fn disk_usage(path: &Path) -> Result<DiskUsage> {
    use std::os::unix::fs::MetadataExt;
    let mut seen = HashSet::new();
    let mut usage = DiskUsage::default();
    let mut stack = vec![path.to_path_buf()];
    while let Some(p) = stack.pop() {
        let meta =
            std::fs::symlink_metadata(&p).with_context(|| format!("reading {}", p.display()))?;
        if meta.is_dir() {
            for entry in
                std::fs::read_dir(&p).with_context(|| format!("listing {}", p.display()))?
            {
                stack.push(entry?.path());
            }
        } else if seen.insert((meta.dev(), meta.ino())) {
            usage.allocated_bytes += meta.blocks() * 512;
            usage.apparent_bytes += meta.len();
        }
    }
    Ok(usage)
}

/// `1.23 GB`-style size (decimal units, like the figures in the issues).
pub fn human_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.2} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.1} kB", b / 1e3)
    } else {
        format!("{bytes} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_status() {
        let status = "Name:\tquarry\nVmPeak:\t  200 kB\nVmHWM:\t    1500 kB\nVmRSS:\t    1024 kB\n";
        assert_eq!(parse_status_field(status, "VmRSS"), Some(1024 * 1024));
        assert_eq!(parse_status_field(status, "VmHWM"), Some(1500 * 1024));
        assert_eq!(parse_status_field(status, "VmSwap"), None);
    }

    #[test]
    fn parses_proc_stat() {
        // A command name with spaces and a parenthesis, as a process may name itself.
        let stat = "4242 (quarry (x) y) S 1 4242 4242 0 -1 4194560 900 0 0 0 1234 56 7 8 20 0 \
                    9 0 100 1000000 2000 18446744073709551615";
        assert_eq!(parse_stat_cpu_ticks(stat), Some(1234 + 56));
        assert_eq!(parse_stat_cpu_ticks("4242 (quarry) S 1 2"), None);
        assert_eq!(parse_stat_cpu_ticks("no parenthesis"), None);
    }

    #[test]
    fn own_process_cpu_time_grows() {
        let pid = std::process::id();
        let before = cpu_seconds(pid).unwrap();
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_millis(300) {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        let after = cpu_seconds(pid).unwrap();
        assert!(after > before, "{before} -> {after}");
        assert!(clock_ticks_per_second() >= 100);
    }

    #[test]
    fn an_idle_process_is_seen_idle_and_a_busy_one_is_waited_for() {
        use std::process::{Command, Stdio};
        let mut idle = Command::new("sleep").arg("30").spawn().unwrap();
        let waited = wait_until_idle(idle.id(), Duration::from_secs(20)).unwrap();
        let _ = idle.kill();
        let _ = idle.wait();
        assert!(
            waited < Duration::from_secs(1),
            "waited {waited:?} for a sleeping process"
        );
        // `yes` keeps a core busy: never idle, so the wait gives up at its timeout.
        let mut busy = Command::new("yes").stdout(Stdio::null()).spawn().unwrap();
        let waited = wait_until_idle(busy.id(), Duration::from_millis(1_500)).unwrap();
        let _ = busy.kill();
        let _ = busy.wait();
        assert_eq!(waited, Duration::from_millis(1_500));
    }

    #[test]
    fn own_process_memory_is_readable() {
        let pid = std::process::id();
        assert!(rss(pid).unwrap() > 0);
        assert!(hwm(pid).unwrap() >= rss(pid).unwrap() / 2);
        let sampler = RssSampler::start(pid).unwrap();
        std::thread::sleep(Duration::from_millis(150));
        assert!(sampler.finish() > 0);
    }

    #[test]
    fn disk_usage_counts_files_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), vec![1u8; 10_000]).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/b"), vec![1u8; 5_000]).unwrap();
        std::fs::hard_link(dir.path().join("a"), dir.path().join("sub/a2")).unwrap();
        let u = disk_usage(dir.path()).unwrap();
        assert_eq!(u.apparent_bytes, 15_000);
        assert!(u.allocated_bytes >= 15_000);
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_500), "1.5 kB");
        assert_eq!(human_bytes(300_000_000), "300.0 MB");
        assert_eq!(human_bytes(3_100_000_000), "3.10 GB");
    }
}
