//! Asking the processor to start loading a cache line before the code reads it. Scans that jump
//! from one document's data to another's (the forward positions of thousands of candidates)
//! wait on memory more than they compute; telling the processor a few documents ahead lets those
//! loads overlap. This is the workspace's only `unsafe` code, kept in this leaf crate so that
//! every other crate forbids it outright.

/// Starts loading the cache line holding `value` into every cache level, without waiting for
/// it. A hint only: nothing is read into the program, and on targets other than x86_64 it does
/// nothing.
#[inline(always)]
pub fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    #[allow(unsafe_code)]
    // SAFETY: `_mm_prefetch` is unsafe only because it needs the `sse` target feature, which
    // every x86_64 target has. The instruction reads nothing the program sees and cannot fault,
    // whatever the address; this one comes from a live reference anyway.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
            (value as *const T).cast(),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
