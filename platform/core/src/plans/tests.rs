//! Unit tests of `core::plans`.

use super::*;

fn plan(code: &str, price: i64, features: &[Feature], limits: &[(Limit, i64)]) -> Plan {
    Plan {
        code: code.into(),
        name: code.to_uppercase(),
        monthly_price_minor: price,
        currency: "CNY".into(),
        features: features.iter().copied().collect(),
        limits: limits.iter().copied().collect(),
        overage_minor: BTreeMap::new(),
        trial_days: 14,
        archived: false,
    }
}

#[test]
fn cheapest_plan_with_a_feature_comes_first_and_archived_ones_are_skipped() {
    let mut old = plan("old", 1, &[Feature::Webhooks], &[]);
    old.archived = true;
    let plans = vec![
        plan("pro", 500, &[Feature::Webhooks, Feature::ApiKeys], &[]),
        plan("starter", 100, &[Feature::ApiKeys], &[]),
        old,
    ];
    let codes = |v: Vec<&Plan>| v.iter().map(|p| p.code.clone()).collect::<Vec<_>>();
    assert_eq!(
        codes(plans_with(Feature::ApiKeys, &plans)),
        ["starter", "pro"]
    );
    assert_eq!(codes(plans_with(Feature::Webhooks, &plans)), ["pro"]);
    assert!(plans_with(Feature::Sms, &plans).is_empty());
}

#[test]
fn limits_refuse_at_the_boundary_and_unlimited_never_does() {
    let p = plan("free", 0, &[], &[(Limit::Members, 500)]);
    assert_eq!(check_limit(&p, Limit::Members, 499, 1), Ok(()));
    assert_eq!(
        check_limit(&p, Limit::Members, 500, 1),
        Err(OverLimit {
            limit: Limit::Members,
            allowed: 500,
            usage: 500
        })
    );
    assert_eq!(check_limit(&p, Limit::Staff, 1_000_000, 1), Ok(()));
}

#[test]
fn monthly_limits_with_overage_are_billed_not_refused() {
    let mut p = plan("pro", 100, &[], &[(Limit::SmsPerMonth, 10)]);
    assert!(check_limit(&p, Limit::SmsPerMonth, 10, 1).is_err());
    p.overage_minor.insert(Limit::SmsPerMonth, 5);
    assert!(check_limit(&p, Limit::SmsPerMonth, 10, 1).is_ok());
    let usage = BTreeMap::from([(Limit::SmsPerMonth, 13)]);
    let (start, end) = month_bounds(Utc.with_ymd_and_hms(2026, 4, 10, 0, 0, 0).unwrap());
    let lines = invoice_lines(&p, start, end, &usage);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].amount_minor, 100);
    assert_eq!((lines[1].quantity, lines[1].amount_minor), (3, 15));
    // A free plan without overage has nothing to bill.
    assert!(invoice_lines(&plan("free", 0, &[], &[]), start, end, &usage).is_empty());
    // Half of April (30 days) pays half the price.
    let mid = Utc.with_ymd_and_hms(2026, 4, 16, 0, 0, 0).unwrap();
    let half = invoice_lines(&p, mid, end, &BTreeMap::new());
    assert_eq!(half[0].amount_minor, 50);
}

#[test]
fn warnings_at_eighty_and_a_hundred_percent() {
    assert_eq!(warning(399, Some(500)), None);
    assert_eq!(warning(400, Some(500)), Some(Warning::Near));
    assert_eq!(warning(500, Some(500)), Some(Warning::Reached));
    assert_eq!(warning(10, None), None);
    assert_eq!(warning(0, Some(0)), Some(Warning::Reached));
}

#[test]
fn downgrade_lists_every_standing_count_over_the_target() {
    let target = plan(
        "free",
        0,
        &[],
        &[
            (Limit::Members, 500),
            (Limit::Staff, 3),
            (Limit::SmsPerMonth, 0),
        ],
    );
    let usage = BTreeMap::from([
        (Limit::Members, 501),
        (Limit::Staff, 3),
        (Limit::SmsPerMonth, 40),
    ]);
    let over = over_after_change(&target, &usage);
    assert_eq!(
        over,
        vec![OverLimit {
            limit: Limit::Members,
            allowed: 500,
            usage: 501
        }]
    );
}

#[test]
fn lifecycle_moves_and_access() {
    use TenantStatus::*;
    assert!(can_move(Trial, Active));
    assert!(can_move(Suspended, Active));
    assert!(!can_move(Closed, Active));
    assert!(!can_move(Active, Trial));
    assert_eq!(
        access(Suspended, Some(SuspendReason::Operator), false),
        Access::ReadOnly(ReadOnlyReason::Operator)
    );
    assert_eq!(
        access(Suspended, Some(SuspendReason::Billing), false),
        Access::ReadOnly(ReadOnlyReason::Billing)
    );
    assert_eq!(
        access(Closed, None, false),
        Access::ReadOnly(ReadOnlyReason::Closed)
    );
    assert_eq!(access(Closed, None, true), Access::None);
    assert_eq!(access(PastDue, None, false), Access::Full);
}

#[test]
fn months_and_periods() {
    let at = Utc.with_ymd_and_hms(2026, 1, 31, 15, 0, 0).unwrap();
    let (s, e) = month_bounds(at);
    assert_eq!(s, Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
    assert_eq!(e, Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap());
    assert_eq!(period_from(at), (at, e));
}

#[test]
fn plan_codes() {
    assert!(parse_plan_code("pro").is_ok());
    assert!(parse_plan_code("Pro").is_err());
    assert!(parse_plan_code("1x").is_err());
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[test]
fn an_invoice_is_due_a_week_after_it_is_issued() {
    assert_eq!(
        invoice_due(at("2026-03-31T10:00:00Z")),
        at("2026-04-07T10:00:00Z")
    );
}

#[test]
fn an_active_account_with_an_overdue_invoice_becomes_past_due_at_once() {
    let due = at("2026-04-07T10:00:00Z");
    assert_eq!(
        dunning_step(
            TenantStatus::Active,
            due,
            due + chrono::Duration::seconds(1)
        ),
        Some(TenantStatus::PastDue)
    );
}

#[test]
fn a_past_due_account_is_suspended_only_when_the_grace_has_run_out() {
    let due = at("2026-04-07T10:00:00Z");
    let last_day = due + chrono::Duration::days(14) - chrono::Duration::seconds(1);
    assert_eq!(dunning_step(TenantStatus::PastDue, due, last_day), None);
    assert_eq!(
        dunning_step(TenantStatus::PastDue, due, due + chrono::Duration::days(14)),
        Some(TenantStatus::Suspended)
    );
}

#[test]
fn dunning_leaves_trial_suspended_and_closed_accounts_alone() {
    let due = at("2026-04-07T10:00:00Z");
    let late = due + chrono::Duration::days(100);
    for status in [
        TenantStatus::Trial,
        TenantStatus::Suspended,
        TenantStatus::Closed,
    ] {
        assert_eq!(dunning_step(status, due, late), None, "{status:?}");
    }
}

#[test]
fn a_read_only_account_refuses_writes_with_its_reason_but_not_reads_or_safe_writes() {
    let unpaid = Access::ReadOnly(ReadOnlyReason::Billing);
    assert_eq!(
        write_refusal(unpaid, false, false),
        Some(ReadOnlyReason::Billing)
    );
    assert_eq!(write_refusal(unpaid, true, false), None);
    assert_eq!(write_refusal(unpaid, false, true), None);
    assert_eq!(
        write_refusal(Access::ReadOnly(ReadOnlyReason::Operator), false, false),
        Some(ReadOnlyReason::Operator)
    );
    assert_eq!(write_refusal(Access::Full, false, false), None);
}

#[test]
fn a_closed_account_reads_without_its_plan_features_but_writes_still_need_them() {
    let closed = Access::ReadOnly(ReadOnlyReason::Closed);
    assert!(!feature_checked(closed, true));
    assert!(feature_checked(closed, false));
    assert!(feature_checked(Access::Full, true));
    assert!(feature_checked(
        Access::ReadOnly(ReadOnlyReason::Billing),
        true
    ));
}

#[test]
fn the_old_name_of_campaigns_is_read_as_campaigns_and_never_written() {
    assert_eq!(Feature::parse("campaigns").ok(), Some(Feature::Campaigns));
    assert_eq!(
        Feature::parse("email_campaigns").ok(),
        Some(Feature::Campaigns)
    );
    let stored: BTreeSet<Feature> =
        serde_json::from_str(r#"["email_campaigns", "sms"]"#).expect("a stored feature list");
    assert_eq!(stored, BTreeSet::from([Feature::Campaigns, Feature::Sms]));
    assert_eq!(
        serde_json::to_string(&stored).expect("json"),
        r#"["sms","campaigns"]"#
    );
    assert_eq!(Feature::Campaigns.as_str(), "campaigns");
    assert!(Feature::parse("e-mail").is_err());
}
