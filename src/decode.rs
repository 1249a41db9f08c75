//! Table-driven A32 decoder: every instruction word is rejected (with a reason), simulated, or emulated.
