//! The security suite: SECURITY.md, line by line.

mod sdl;

mod canary;
mod existence;
mod role_matrix;
mod csrf;
mod accounts;
mod markdown;
mod cache;
