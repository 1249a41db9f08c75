//! The kernel heap, so tests and the crate's users may use `alloc`.

use core::ptr::addr_of_mut;
use linked_list_allocator::LockedHeap;

#[global_allocator]
static HEAP: LockedHeap = LockedHeap::empty();

unsafe extern "C" {
    static mut __heap_start: u8;
    static mut __heap_end: u8;
}

/// Hands the linker's `.heap` region to the allocator. Core 0, once, before any
/// allocation.
pub fn init() {
    // SAFETY: `.heap` is a NOLOAD region reserved by link.ld for this purpose alone,
    // mapped read-write; init runs once before the first allocation.
    unsafe {
        let start = addr_of_mut!(__heap_start);
        let size = addr_of_mut!(__heap_end) as usize - start as usize;
        HEAP.lock().init(start, size);
    }
}

/// Bytes in use and free.
pub fn usage() -> (usize, usize) {
    let h = HEAP.lock();
    (h.used(), h.free())
}
