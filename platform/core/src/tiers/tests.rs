//! Unit tests of `core::tiers`.

use super::*;
use chrono::TimeZone;

fn ladder(demotion: Demotion, retention_days: u32) -> Ladder {
    let tier = |code: &str, threshold| Tier {
        code: code.into(),
        name: Names {
            zh_cn: code.into(),
            en: code.into(),
        },
        color: "#123456".into(),
        threshold,
        benefits: Benefits::default(),
    };
    Ladder {
        metric: Metric::Spend,
        window: Window {
            kind: WindowKind::Rolling,
            days: 30,
        },
        retention_days,
        demotion,
        tiers: vec![
            tier("base", 0),
            tier("silver", 100),
            tier("gold", 200),
            tier("platinum", 300),
        ],
        script: None,
    }
}

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 1, day, 12, 0, 0).unwrap()
}

fn standing(tier: &str) -> Standing {
    Standing {
        tier: Some(tier.into()),
        ..Standing::default()
    }
}

#[test]
fn qualifying_is_the_highest_threshold_reached() {
    let l = ladder(Demotion::OneRung, 0);
    assert_eq!(l.qualifying(0), 0);
    assert_eq!(l.qualifying(99), 0);
    assert_eq!(l.qualifying(100), 1);
    assert_eq!(l.qualifying(10_000), 3);
    assert_eq!(l.position(Some("gone")), 0);
    assert_eq!(l.position(None), 0);
}

#[test]
fn events_only_promote() {
    let l = ladder(Demotion::OneRung, 0);
    assert_eq!(promote_on_event(&l, &standing("silver"), 250), Some(2));
    assert_eq!(promote_on_event(&l, &standing("gold"), 50), None);
    assert_eq!(promote_on_event(&l, &Standing::default(), 99), None);
}

#[test]
fn demotion_waits_for_retention_then_steps_one_rung_a_day() {
    let l = ladder(Demotion::OneRung, 7);
    let e = evaluate(&l, &standing("platinum"), 0, at(1));
    assert_eq!(e.moved, None);
    assert_eq!(e.standing.below_since, Some(at(1)));
    let e = evaluate(&l, &e.standing, 0, at(7));
    assert_eq!(e.moved, None, "six days below: still retained");
    let e = evaluate(&l, &e.standing, 0, at(8));
    assert_eq!(e.moved, Some(Move::Demotion));
    assert_eq!(e.standing.tier.as_deref(), Some("gold"));
    assert_eq!(e.standing.below_since, Some(at(1)), "still below gold");
    let e = evaluate(&l, &e.standing, 0, at(9));
    assert_eq!(e.standing.tier.as_deref(), Some("silver"));
    let e = evaluate(&l, &e.standing, 0, at(10));
    assert_eq!(e.standing.tier.as_deref(), Some("base"));
    assert_eq!(e.standing.below_since, None);
}

#[test]
fn direct_demotion_goes_to_the_qualifying_tier_and_recovery_clears_retention() {
    let l = ladder(Demotion::Direct, 3);
    let e = evaluate(&l, &standing("platinum"), 120, at(1));
    let back = evaluate(&l, &e.standing, 300, at(2));
    assert_eq!(back.standing.below_since, None);
    assert_eq!(back.moved, None);
    let e = evaluate(&l, &back.standing, 120, at(3));
    let e = evaluate(&l, &e.standing, 120, at(6));
    assert_eq!(e.moved, Some(Move::Demotion));
    assert_eq!(e.standing.tier.as_deref(), Some("silver"));
    assert_eq!(e.standing.below_since, None);
}

#[test]
fn a_pin_holds_then_lapses() {
    let l = ladder(Demotion::Direct, 0);
    let pinned = Standing {
        tier: Some("gold".into()),
        below_since: None,
        pin: Some(Pin {
            tier: "gold".into(),
            until: at(10),
        }),
    };
    let e = evaluate(&l, &pinned, 0, at(9));
    assert_eq!(e.standing.tier.as_deref(), Some("gold"));
    assert_eq!(e.moved, None);
    // Earning more still lifts the member above the pin.
    let up = evaluate(&l, &pinned, 350, at(9));
    assert_eq!(up.standing.tier.as_deref(), Some("platinum"));
    assert_eq!(up.moved, Some(Move::Promotion));
    let e = evaluate(&l, &pinned, 0, at(10));
    assert_eq!(e.standing.tier.as_deref(), Some("base"));
    assert_eq!(e.standing.pin, None);
    assert_eq!(e.moved, Some(Move::PinLapsed));
}

#[test]
fn a_qualifying_tier_decided_elsewhere_gets_the_same_retention_demotion_and_pins() {
    let l = ladder(Demotion::OneRung, 3);
    // The script's answer (gold) promotes on an event whatever the metric.
    assert_eq!(promote_to(&l, &standing("silver"), 2), Some(2));
    assert_eq!(promote_to(&l, &standing("gold"), 1), None);
    // Below gold per the script: retained, then one rung down.
    let e = evaluate_qualified(&l, &standing("platinum"), 0, at(1));
    assert_eq!(e.moved, None);
    let e = evaluate_qualified(&l, &e.standing, 0, at(4));
    assert_eq!(e.moved, Some(Move::Demotion));
    assert_eq!(e.standing.tier.as_deref(), Some("gold"));
    let pinned = Standing {
        pin: Some(Pin {
            tier: "gold".into(),
            until: at(10),
        }),
        ..standing("gold")
    };
    assert_eq!(applied(&l, &pinned, 0, at(9)), 2);
    assert_eq!(applied(&l, &pinned, 3, at(9)), 3);
    assert_eq!(applied(&l, &pinned, 0, at(10)), 0);
    assert_eq!(l.find("gold"), Some(2));
    assert_eq!(l.find("diamond"), None);
}

#[test]
fn a_blank_or_oversized_script_is_refused() {
    let mut l = ladder(Demotion::OneRung, 0);
    l.script = Some("  ".into());
    assert_eq!(l.validate().unwrap_err()[0].field, "script");
    l.script = Some("x".repeat(MAX_SCRIPT + 1));
    assert_eq!(l.validate().unwrap_err()[0].field, "script");
    l.script = Some(r#""gold""#.into());
    assert!(l.validate().is_ok());
}

#[test]
fn windows_start_in_the_business_time_zone() {
    let tz: Tz = "Asia/Shanghai".parse().unwrap();
    let now = Utc.with_ymd_and_hms(2026, 12, 31, 17, 0, 0).unwrap(); // 1 Jan 01:00 local
    let w = Window {
        kind: WindowKind::CalendarYear,
        days: 0,
    };
    assert_eq!(
        w.start(now, tz),
        Some(Utc.with_ymd_and_hms(2026, 12, 31, 16, 0, 0).unwrap())
    );
    assert_eq!(w.ends_on(now, tz), NaiveDate::from_ymd_opt(2027, 12, 31));
    let r = Window {
        kind: WindowKind::Rolling,
        days: 30,
    };
    assert_eq!(r.start(now, tz), Some(now - Duration::days(30)));
}

#[test]
fn validation_names_each_bad_field() {
    let mut l = ladder(Demotion::OneRung, 0);
    l.tiers[0].threshold = 5;
    l.tiers[2].threshold = 100;
    l.tiers[3].code = "silver".into();
    l.tiers[1].color = "red".into();
    l.tiers[1].benefits.discount_percent = 101;
    l.tiers[1].name.en = " ".into();
    l.window.days = 0;
    let fields: Vec<String> = l
        .validate()
        .unwrap_err()
        .into_iter()
        .map(|e| e.field)
        .collect();
    for f in [
        "window.days",
        "tiers[0].threshold",
        "tiers[2].threshold",
        "tiers[3].code",
        "tiers[1].color",
        "tiers[1].benefits.discount_percent",
        "tiers[1].name.en",
    ] {
        assert!(fields.iter().any(|x| x == f), "{f} in {fields:?}");
    }
    assert!(ladder(Demotion::OneRung, 0).validate().is_ok());
}

#[test]
fn an_event_that_adds_nothing_to_the_measure_cannot_promote() {
    let mut l = ladder(Demotion::OneRung, 0);
    l.metric = Metric::PointsEarned;
    assert!(!l.event_may_promote(0, 5_000));
    assert!(l.event_may_promote(1, 0));
    l.metric = Metric::Spend;
    assert!(!l.event_may_promote(100, 0));
    assert!(l.event_may_promote(0, 1));
    l.metric = Metric::Visits;
    assert!(l.event_may_promote(0, 0));
    l.metric = Metric::PointsEarned;
    l.script = Some("\"gold\"".into());
    assert!(l.event_may_promote(0, 0));
}

#[test]
fn an_event_that_cannot_reach_the_next_tier_is_told_so_and_one_that_can_is_not() {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    let mut rng = StdRng::seed_from_u64(22);
    let base = ladder(Demotion::OneRung, 30);
    let codes = [
        None,
        Some("base"),
        Some("silver"),
        Some("gold"),
        Some("platinum"),
    ];
    for _ in 0..20_000 {
        let mut l = base.clone();
        // Thresholds in any order, not only rising ones.
        for t in l.tiers.iter_mut().skip(1) {
            t.threshold = rng.gen_range(0..400);
        }
        let tier = codes[rng.gen_range(0..codes.len())];
        let standing = Standing {
            tier: tier.map(str::to_owned),
            ..Standing::default()
        };
        let before = rng.gen_range(0..400);
        let added = rng.gen_range(-5..200);
        let may = l.may_reach_next(tier, before, added);
        // Never a promotion it said could not happen, whatever the event really added.
        for metric in before..=before + added.max(0) {
            if promote_on_event(&l, &standing, metric).is_some() {
                assert!(may, "{tier:?} {before} + {added}: promotes at {metric}");
            }
        }
        // And it says "may" only when the most the event could add promotes.
        assert_eq!(
            may,
            promote_on_event(&l, &standing, before + added.max(0)).is_some(),
            "{tier:?} {before} + {added}"
        );
    }
    let mut scripted = base.clone();
    scripted.script = Some("\"gold\"".into());
    assert!(scripted.may_reach_next(Some("platinum"), 0, 0));
    assert_eq!(base.most_added(7, 900), 900);
}
