//! The single-step engine: makes a probed instruction behave as if it had run in place.
