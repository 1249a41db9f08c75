//! Host-side views of a capture.
