//! The one primitive that writes kernel text: aligned word store plus cache maintenance.
