//! Membership plans (fee standards), memberships and charge records.
