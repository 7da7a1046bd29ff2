//! The API as a client sees it: the real server, over HTTP, against a real PostgreSQL.

mod access;
mod auth;
mod bad_input;
mod citus;
mod contract;
mod dashboard;
mod desk;
mod fields;
mod idempotency;
mod isolation;
mod jobs;
mod member_files;
mod members;
mod members_pii;
mod messages;
mod migrate;
mod plans;
mod points;
mod portal;
mod prepaid;
mod replicas;
mod security;
mod service;
mod signup;
mod tiers;
mod transfer;
