//! Browser I/O. The only part of the crate that touches `web-sys`; each function is a thin
//! wrapper that turns browser failures into [`crate::core::error::Error`] values.

pub mod storage;
