//! Whether the kernel may back the server's memory with transparent huge pages. Many kernels
//! ship with them `always` on, and then every first touch of fresh heap memory clears a whole
//! 2 MiB page: on a fresh snapshot, when searches fill the caches with word digests, clearing
//! pages took about a fifth of the server's CPU, and huge pages also inflated the resident
//! size while indexing. Like the databases that tell their users to turn them off, Quarry opts
//! its own process out at start (`prctl(PR_SET_THP_DISABLE)`, inherited by every thread),
//! unless `--transparent-huge-pages system` leaves the machine's setting alone.

use clap::ValueEnum;

/// What `--transparent-huge-pages` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HugePages {
    /// This process does not use transparent huge pages (the default).
    Off,
    /// Keep whatever the kernel is configured to do (`/sys/kernel/mm/transparent_hugepage`).
    System,
}

/// What applying the choice did, for the start-up log.
#[derive(Debug, PartialEq, Eq)]
pub enum Applied {
    /// The process opted out of transparent huge pages.
    Disabled,
    /// The machine's setting is kept.
    Kept,
    /// The kernel refused to opt out (too old, or not Linux); the machine's setting applies.
    Unsupported(String),
}

/// Applies the choice to this process. Call before threads start and memory grows, so that
/// no huge page is handed out first.
pub fn apply(choice: HugePages) -> Applied {
    match choice {
        HugePages::System => Applied::Kept,
        HugePages::Off => disable(),
    }
}

#[cfg(target_os = "linux")]
fn disable() -> Applied {
    // The flag belongs to the address space, so it covers every thread, present and future.
    match rustix::thread::disable_transparent_huge_pages(true) {
        Ok(()) => Applied::Disabled,
        Err(e) => Applied::Unsupported(e.to_string()),
    }
}

#[cfg(not(target_os = "linux"))]
fn disable() -> Applied {
    Applied::Unsupported("transparent huge pages can only be turned off on Linux".to_string())
}
