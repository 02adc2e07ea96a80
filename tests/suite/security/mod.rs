//! The security suite: SECURITY.md, line by line.

mod canary;
mod role_matrix;
