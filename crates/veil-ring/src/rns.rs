//! RNS bases: CRT composition and fast base conversion (in progress).
