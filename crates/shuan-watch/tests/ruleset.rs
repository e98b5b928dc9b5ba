//! Rule-set TOML: partial files keep the defaults, every refusal names its key.

use shuan_watch::rules::Measure;
use shuan_watch::{RuleId, RuleSet, RuleSetError, Severity, DEFAULT_RULES_TOML};

#[test]
fn an_empty_file_is_the_defaults_and_keys_override_them() {
    assert_eq!(RuleSet::from_toml("").unwrap(), RuleSet::default());
    let r = RuleSet::from_toml(
        r#"
[volume_spike]
measure = "rows"
factor = 8
min_count = 5000

[off_hours]
utc_offset = "-05:00"
days = ["mon", "sat"]
start = "07:30"
end = "24:00"
holidays = ["2026-10-01", "2026-10-02"]

[vendor_bulk_export]
enabled = false
severity = "low"
min_csv_calls = 0
"#,
    )
    .unwrap();
    assert_eq!(r.volume_spike.measure, Measure::Rows);
    assert_eq!(r.volume_spike.factor, 8.0);
    assert_eq!(r.volume_spike.min_count, 5000);
    assert_eq!(
        r.volume_spike.window_minutes, 60,
        "untouched keys keep defaults"
    );
    assert_eq!(r.off_hours.utc_offset_minutes, -300);
    assert_eq!(
        r.off_hours.days,
        [true, false, false, false, false, true, false]
    );
    assert_eq!(
        (r.off_hours.start_minute, r.off_hours.end_minute),
        (450, 1440)
    );
    assert_eq!(r.off_hours.holidays.len(), 2);
    assert!(!r.enabled(RuleId::VendorBulkExport));
    assert!(r.enabled(RuleId::Enumeration));
    assert_eq!(r.vendor_bulk_export.severity, Severity::Low);
    assert_eq!(r.vendor_bulk_export.min_rows, 1000);
}

#[test]
fn the_default_file_names_every_rule() {
    for rule in RuleId::ALL {
        assert!(
            DEFAULT_RULES_TOML.contains(&format!("[{}]", rule.id())),
            "{rule} missing from default_rules.toml"
        );
    }
}

fn refused(text: &str) -> RuleSetError {
    RuleSet::from_toml(text).expect_err(text)
}

fn invalid_key(text: &str) -> String {
    match refused(text) {
        RuleSetError::Invalid { key, .. } => key,
        other => panic!("{text}: {other:?}"),
    }
}

#[test]
fn unknown_keys_and_sections_are_named() {
    assert_eq!(
        refused("[volume_spike]\nfactr = 3\n"),
        RuleSetError::UnknownKey("volume_spike.factr".into())
    );
    assert_eq!(
        refused("[misuse]\nenabled = true\n"),
        RuleSetError::UnknownKey("misuse".into())
    );
    let e = refused("[enumeration]\nmin_distinct = 10\nwindow = 5\n").to_string();
    assert!(e.contains("enumeration.window"), "{e}");
}

#[test]
fn bad_values_are_named() {
    let cases = [
        ("[volume_spike]\nfactor = \"five\"\n", "volume_spike.factor"),
        ("[volume_spike]\nfactor = 0.5\n", "volume_spike.factor"),
        ("[volume_spike]\nfactor = nan\n", "volume_spike.factor"),
        (
            "[volume_spike]\nmeasure = \"bytes\"\n",
            "volume_spike.measure",
        ),
        (
            "[volume_spike]\nmin_baseline_windows = 30\n",
            "volume_spike.min_baseline_windows",
        ),
        (
            "[volume_spike]\nwindow_minutes = 0\n",
            "volume_spike.window_minutes",
        ),
        (
            "[volume_spike]\nwindow_minutes = -5\n",
            "volume_spike.window_minutes",
        ),
        (
            "[volume_spike]\nenabled = \"yes\"\n",
            "volume_spike.enabled",
        ),
        (
            "[enumeration]\nseverity = \"urgent\"\n",
            "enumeration.severity",
        ),
        (
            "[enumeration]\nmin_distinct = 100000\n",
            "enumeration.min_distinct",
        ),
        (
            "[enumeration]\nignore_params = [\"limit\", 3]\n",
            "enumeration.ignore_params",
        ),
        ("[off_hours]\nutc_offset = \"+8\"\n", "off_hours.utc_offset"),
        ("[off_hours]\ndays = [\"monday\"]\n", "off_hours.days"),
        ("[off_hours]\nstart = \"25:00\"\n", "off_hours.start"),
        (
            "[off_hours]\nstart = \"20:00\"\nend = \"08:00\"\n",
            "off_hours.end",
        ),
        (
            "[off_hours]\nholidays = [\"2026-02-30\"]\n",
            "off_hours.holidays",
        ),
        (
            "[after_denials]\nmin_denials = 0\n",
            "after_denials.min_denials",
        ),
        (
            "[after_denials]\nactions = \"service.call\"\n",
            "after_denials.actions",
        ),
        (
            "[new_address]\nbaseline_days = 0\n",
            "new_address.baseline_days",
        ),
        (
            "[vendor_bulk_export]\nmin_rows = 0\nmin_csv_calls = 0\n",
            "vendor_bulk_export.min_rows",
        ),
        (
            "[outside_purpose]\ndenial_codes = [\"\"]\n",
            "outside_purpose.denial_codes",
        ),
        ("[engine]\nmax_evidence = 0\n", "engine.max_evidence"),
        ("[engine]\nmax_actors = 1.5\n", "engine.max_actors"),
        ("engine = 3\n", "engine"),
    ];
    for (text, key) in cases {
        assert_eq!(invalid_key(text), key, "{text}");
        let msg = refused(text).to_string();
        assert!(msg.contains(key), "{msg}");
    }
}

#[test]
fn syntax_errors_are_refused() {
    assert!(matches!(
        refused("[volume_spike\n"),
        RuleSetError::Syntax(_)
    ));
    assert!(matches!(refused("factor = = 3"), RuleSetError::Syntax(_)));
}

#[test]
fn the_defaults_match_the_platform_ids() {
    let r = RuleSet::default();
    // The vendor role id comes from shuan-access; the call action is shuan-policy's
    // Action::ServiceCall.id() (not a dependency here: Cedar is heavy to build).
    assert_eq!(
        r.vendor_bulk_export.roles,
        vec![shuan_access::Role::VendorOperator.id().to_string()]
    );
    assert_eq!(r.engine.service_action, "service.call");
    for p in shuan_share::service::PAGING {
        assert!(r.enumeration.ignore_params.iter().any(|i| i == p));
    }
}
