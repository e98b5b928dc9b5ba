//! Every data type the detectors know has a category and a level in every built-in
//! profile, and no profile names a type the detectors do not know.

use shuan_classify::{Profile, BUILTIN_PROFILES};
use shuan_detect::DataType;

#[test]
fn every_detector_type_is_mapped_in_every_builtin_profile() {
    let ids: Vec<&str> = DataType::all().iter().map(|d| d.id()).collect();
    assert!(ids.len() >= 28, "detector list looks truncated: {ids:?}");
    for (name, _) in BUILTIN_PROFILES {
        let p = Profile::builtin(name).unwrap();
        p.check_type_ids(&ids)
            .unwrap_or_else(|e| panic!("built-in profile {name}: {e}"));
        for id in &ids {
            let rule = p.type_rule(id).unwrap();
            // Sensitive personal information is never graded at the lowest level.
            if rule.category.sensitive_pi {
                assert!(
                    rule.level > p.default_level(),
                    "{name}: {id} at the lowest level"
                );
            }
        }
    }
}

#[test]
fn identity_documents_are_at_least_as_high_as_contact_details() {
    for (name, _) in BUILTIN_PROFILES {
        let p = Profile::builtin(name).unwrap();
        let level = |id: &str| p.type_rule(id).unwrap().level;
        assert!(level("cn_resident_id") >= level("cn_mobile"), "{name}");
        assert!(level("cn_mobile") >= level("cn_uscc"), "{name}");
        assert!(level("bank_card") >= level("email"), "{name}");
    }
}
