//! Software prefetch. The flow tables outgrow the caches with a few thousand flows, so a
//! packet's lookups are cache misses; a stage that already knows the key a later stage will
//! look up asks for its line early, and the two misses overlap instead of queueing.

/// Ask for the cache line holding address `p` to be loaded. A hint only: it never dereferences
/// `p`, never faults and changes nothing the program can observe except timing.
#[inline(always)]
pub fn read<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    #[allow(unsafe_code)]
    // SAFETY: `prefetcht0` reads nothing architecturally and cannot fault, whatever the address
    // (even null or dangling), and `p` is never dereferenced; SSE, which provides it, is part of
    // the x86-64 baseline, so the instruction exists on every CPU this code runs on.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
