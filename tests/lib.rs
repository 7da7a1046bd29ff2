//! Test support: start the real server on a free port against the real PostgreSQL named by
//! `PATRON_DATABASE_URL`, and talk to it over HTTP like any client, through a typed
//! [`TestApp`] (see [`support`]).

pub mod support;

pub use support::*;
