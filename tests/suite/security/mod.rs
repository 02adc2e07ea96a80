//! The security suite: SECURITY.md, line by line.

mod sdl;

mod accounts;
mod cache;
mod canary;
mod csrf;
mod existence;
mod markdown;
mod role_matrix;
mod uploads;
