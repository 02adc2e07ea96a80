//! The references: the best straightforward code for what each case measures, written without
//! Convene's layers (domain, ORM entities, GraphQL, live feeds), and run on the same database.
//! The server references run as child processes of this binary, on the same footing as
//! `convene serve`: a process and a runtime of their own, and their own file descriptors.

pub mod fanout;
pub mod reply_write;
pub mod thread_page;
