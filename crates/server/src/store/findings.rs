//! Store functions: findings (see the crate README).

#[allow(unused_imports)]
use super::Store;
