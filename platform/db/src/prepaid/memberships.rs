//! Membership plans, memberships, freezes and charge records.
