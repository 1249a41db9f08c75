//! The stop-machine rendezvous: runs a callback while every online CPU is parked with IRQs and FIQs masked.
