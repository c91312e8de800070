//! Arbitrary bytes in every file the checks read: never a panic, and a
//! result for every check.

use portcullis_assess::{assess, Host, Options, VulnScan};
use proptest::prelude::*;

const FILES: &[&str] = &[
    "etc/passwd",
    "etc/shadow",
    "etc/group",
    "etc/ssh/sshd_config",
    "etc/login.defs",
    "etc/sudoers",
    "etc/pam.d/common-auth",
    "etc/pam.d/common-password",
    "etc/security/pwquality.conf",
    "etc/security/faillock.conf",
    "etc/nftables.conf",
    "etc/iptables/rules.v4",
    "etc/ufw/ufw.conf",
    "etc/default/ufw",
    "etc/firewalld/firewalld.conf",
    "etc/os-release",
    "etc/apt/apt.conf.d/20auto-upgrades",
    "etc/portcullis/allowed-ports",
    "etc/gdm3/daemon.conf",
    "etc/dconf/db/local.d/00-x",
    "var/lib/dpkg/status",
    "var/lib/apt/lists/x_dists_bookworm-security_main_binary-amd64_Packages",
    "var/lib/apt/lists/x_dists_bookworm-security_main_binary-amd64_Packages.lz4",
    "var/lib/apt/lists/x_dists_bookworm-security_InRelease",
    "var/log/lastlog",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn arbitrary_files_never_panic(
        contents in proptest::collection::vec(
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..400),
                "[ -~\n\t=:#{}\\[\\];\"]{0,300}".prop_map(|s| s.into_bytes()),
            ],
            FILES.len(),
        )
    ) {
        let d = tempfile::tempdir().unwrap();
        for (f, c) in FILES.iter().zip(&contents) {
            let p = d.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, c).unwrap();
        }
        let host = Host::open_with(d.path(), false);
        let a = assess(&host, &Options { now: 1_795_000_000, vulns: VulnScan::Findings(vec![]) });
        prop_assert_eq!(a.checks.len(), 27);
        let _ = portcullis_assess::report::html(&a);
        let _ = portcullis_assess::report::json(&a);
    }
}
