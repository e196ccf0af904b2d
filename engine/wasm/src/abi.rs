//! The module's exports for `/static/lotse-engine.js` (no generated glue): the page copies a
//! UTF-8 request into memory from `lotse_alloc`, calls `lotse_load` or `lotse_preview` with its
//! address and length, and reads the answer at the address returned: its length as a 32-bit
//! little-endian number, then its UTF-8 bytes; `lotse_free` gives both buffers back.
#![allow(unsafe_code)]

use std::alloc::{Layout, alloc, dealloc};

fn layout(len: usize) -> Option<Layout> {
    Layout::from_size_align(len.max(1), 4).ok()
}

/// Reserves `len` bytes for a request; 0 when that is not possible.
#[unsafe(no_mangle)]
pub extern "C" fn lotse_alloc(len: usize) -> *mut u8 {
    match layout(len) {
        // SAFETY: the layout has a non-zero size.
        Some(l) => unsafe { alloc(l) },
        None => std::ptr::null_mut(),
    }
}

/// Gives back a buffer from [`lotse_alloc`] or an answer (`len`: its whole size, for an answer
/// four bytes more than the length it starts with).
///
/// # Safety
/// `ptr` and `len` must come from one [`lotse_alloc`] or one answer, given back once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lotse_free(ptr: *mut u8, len: usize) {
    if let Some(l) = layout(len)
        && !ptr.is_null()
    {
        // SAFETY: as the caller promises, `ptr` was allocated with this layout.
        unsafe { dealloc(ptr, l) }
    }
}

/// # Safety
/// `ptr`/`len` must be a buffer from [`lotse_alloc`] holding the request.
unsafe fn request<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if ptr.is_null() {
        return &[];
    }
    // SAFETY: as the caller promises.
    unsafe { std::slice::from_raw_parts(ptr, len) }
}

fn answer(text: String) -> *mut u8 {
    let bytes = text.into_bytes();
    let Ok(n) = u32::try_from(bytes.len()) else {
        return std::ptr::null_mut();
    };
    let out = lotse_alloc(bytes.len() + 4);
    if out.is_null() {
        return out;
    }
    // SAFETY: `out` has room for the four length bytes and the text.
    unsafe {
        std::ptr::copy_nonoverlapping(n.to_le_bytes().as_ptr(), out, 4);
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), out.add(4), bytes.len());
    }
    out
}

fn call(ptr: *const u8, len: usize, f: fn(&str) -> String) -> *mut u8 {
    // SAFETY: the page passes the buffer it filled (see the module's documentation).
    let input = unsafe { request(ptr, len) };
    match std::str::from_utf8(input) {
        Ok(s) => answer(f(s)),
        Err(_) => answer(r#"{"error":"LOT-B008: the request is not UTF-8"}"#.to_string()),
    }
}

/// [`crate::load`].
#[unsafe(no_mangle)]
pub extern "C" fn lotse_load(ptr: *const u8, len: usize) -> *mut u8 {
    call(ptr, len, crate::load)
}

/// [`crate::preview`].
#[unsafe(no_mangle)]
pub extern "C" fn lotse_preview(ptr: *const u8, len: usize) -> *mut u8 {
    call(ptr, len, crate::preview)
}

/// The seeds of ahash's hashers (in jsonschema and rhai), which getrandom would take from the
/// operating system: a fixed sequence here. Nothing in the browser's engine is a secret or
/// faces keys chosen to collide: it checks one citizen's own answers.
///
/// # Safety
/// getrandom calls this with a writable buffer of `len` bytes.
#[unsafe(no_mangle)]
unsafe extern "Rust" fn __getrandom_v03_custom(
    dest: *mut u8,
    len: usize,
) -> Result<(), getrandom::Error> {
    let mut x: u32 = 0x9e37_79b9;
    for i in 0..len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        // SAFETY: `i < len`, as getrandom promises.
        unsafe { *dest.add(i) = x.to_le_bytes()[0] };
    }
    Ok(())
}
