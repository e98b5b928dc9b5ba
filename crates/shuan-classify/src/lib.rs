//! Classification and grading (分类分级) for shuan.
//!
//! Owns: the category taxonomy (GB/T 35273 / GB/T 43697), grading profiles loaded from data
//! files, and the rules that turn column findings into column, table and dataset levels.
//! Must not: detect data types itself (it consumes `shuan-detect` ids) or touch sources.
