//! The fuzz harness (`fuzz/fuzz_targets/api_request.rs`) on random inputs in every test
//! run: any method, route tail, headers and body answer below 500 without a panic.

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_request_answers_below_500(head in proptest::collection::vec(any::<u8>(), 0..24),
                                     body in prop_oneof![
                                         proptest::collection::vec(any::<u8>(), 0..300),
                                         "[ -~]{0,200}".prop_map(|s| s.into_bytes()),
                                         Just(br#"{"code":"A1","name":"x","parent":null}"#.to_vec()),
                                         Just(br#"{"username":"x","password":"y","totp":"123456"}"#.to_vec()),
                                         Just(br#"{"role":"auditor","department":"ROOT","scope":{"kind":"chosen","departments":[]}}"#.to_vec()),
                                         Just(br#"{"text":"permit(principal,action,resource);"}"#.to_vec()),
                                     ]) {
        let mut data = head;
        data.push(0);
        data.extend(body);
        shuan_server::fuzzing::check_one(&data);
    }
}
