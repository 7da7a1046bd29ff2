//! The API as a client sees it: the real server, over HTTP, against a real PostgreSQL.

mod access;
mod auth;
mod bad_input;
mod isolation;
mod jobs;
mod migrate;
mod plans;
mod service;
mod signup;
