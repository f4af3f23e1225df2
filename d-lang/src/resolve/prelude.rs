//! D's stable types that every program sees: `psinfo_t`, `lwpsinfo_t`,
//! `bufinfo_t`, `devinfo_t` and `fileinfo_t` (as DTrace's `procfs.d` and
//! `io.d` declare them), and the network providers' `pktinfo_t`,
//! `csinfo_t`, `ipinfo_t`, `ifinfo_t`, `ipv4info_t`, `ipv6info_t`,
//! `tcpinfo_t`, `tcpsinfo_t`, `tcplsinfo_t`, `udpinfo_t` and `udpsinfo_t`
//! (as Oracle's DTrace for Linux's `ip.d`, `tcp.d` and `udp.d` do), compiled
//! by the resolver once per thread and copied into each resolver's type
//! table.

use super::{Resolver, TypeTable};
use crate::ast::Item;
use crate::catalog::StaticCatalog;
use crate::options::{CompileOptions, Origin};

/// The prelude's D source.
pub const PRELUDE: &str = r#"
typedef struct psinfo {
	int	pr_flag;
	int	pr_nlwp;
	pid_t	pr_pid;
	pid_t	pr_ppid;
	pid_t	pr_pgid;
	pid_t	pr_sid;
	uid_t	pr_uid;
	uid_t	pr_euid;
	gid_t	pr_gid;
	gid_t	pr_egid;
	uintptr_t pr_addr;
	size_t	pr_size;
	size_t	pr_rssize;
	dev_t	pr_ttydev;
	ushort_t pr_pctcpu;
	ushort_t pr_pctmem;
	int64_t	pr_start;
	int64_t	pr_time;
	int64_t	pr_ctime;
	char	pr_fname[16];
	char	pr_psargs[80];
	int	pr_wstat;
	int	pr_argc;
	uintptr_t pr_argv;
	uintptr_t pr_envp;
	char	pr_dmodel;
	taskid_t pr_taskid;
	projid_t pr_projid;
	int	pr_nzomb;
	int	pr_poolid;
	zoneid_t pr_zoneid;
	id_t	pr_contract;
} psinfo_t;

typedef struct lwpsinfo {
	int	pr_flag;
	id_t	pr_lwpid;
	uintptr_t pr_addr;
	uintptr_t pr_wchan;
	char	pr_stype;
	char	pr_state;
	char	pr_sname;
	char	pr_nice;
	short	pr_syscall;
	char	pr_oldpri;
	char	pr_cpu;
	int	pr_pri;
	ushort_t pr_pctcpu;
	int64_t	pr_start;
	int64_t	pr_time;
	char	pr_clname[8];
	char	pr_name[16];
	processorid_t pr_onpro;
	processorid_t pr_bindpro;
	psetid_t pr_bindpset;
} lwpsinfo_t;

typedef struct bufinfo {
	int	b_flags;
	size_t	b_bcount;
	uintptr_t b_addr;
	uint64_t b_lblkno;
	uint64_t b_blkno;
	size_t	b_resid;
	size_t	b_bufsize;
	uintptr_t b_iodone;
	int	b_error;
	dev_t	b_edev;
} bufinfo_t;

typedef struct devinfo {
	int	dev_major;
	int	dev_minor;
	int	dev_instance;
	string	dev_name;
	string	dev_statname;
	string	dev_pathname;
} devinfo_t;

typedef struct fileinfo {
	string	fi_name;
	string	fi_dirname;
	string	fi_pathname;
	uint64_t fi_offset;
	string	fi_fs;
	string	fi_mount;
	int	fi_oflags;
} fileinfo_t;

typedef struct pktinfo {
	uintptr_t pkt_addr;
} pktinfo_t;

typedef struct csinfo {
	uintptr_t cs_addr;
	uint64_t cs_cid;
	pid_t	cs_pid;
	zoneid_t cs_zoneid;
} csinfo_t;

typedef struct ipinfo {
	uint8_t	ip_ver;
	uint32_t ip_plength;
	string	ip_saddr;
	string	ip_daddr;
} ipinfo_t;

typedef struct ifinfo {
	string	if_name;
	int8_t	if_local;
	uint64_t if_ipstack;
	uintptr_t if_addr;
} ifinfo_t;

typedef struct ipv4info {
	uint8_t	ipv4_ver;
	uint8_t	ipv4_ihl;
	uint8_t	ipv4_tos;
	uint16_t ipv4_length;
	uint16_t ipv4_ident;
	uint8_t	ipv4_flags;
	uint16_t ipv4_offset;
	uint8_t	ipv4_ttl;
	uint8_t	ipv4_protocol;
	string	ipv4_protostr;
	uint16_t ipv4_checksum;
	uint32_t ipv4_src;
	uint32_t ipv4_dst;
	string	ipv4_saddr;
	string	ipv4_daddr;
	uintptr_t ipv4_hdr;
} ipv4info_t;

typedef struct ipv6info {
	uint8_t	ipv6_ver;
	uint8_t	ipv6_tclass;
	uint32_t ipv6_flow;
	uint16_t ipv6_plen;
	uint8_t	ipv6_nexthdr;
	string	ipv6_nextstr;
	uint8_t	ipv6_hlim;
	uintptr_t ipv6_src;
	uintptr_t ipv6_dst;
	string	ipv6_saddr;
	string	ipv6_daddr;
	uintptr_t ipv6_hdr;
} ipv6info_t;

typedef struct tcpinfo {
	uint16_t tcp_sport;
	uint16_t tcp_dport;
	uint32_t tcp_seq;
	uint32_t tcp_ack;
	uint8_t	tcp_offset;
	uint8_t	tcp_flags;
	uint16_t tcp_window;
	uint16_t tcp_checksum;
	uint16_t tcp_urgent;
	uintptr_t tcp_hdr;
} tcpinfo_t;

typedef struct tcpsinfo {
	uintptr_t tcps_addr;
	int	tcps_local;
	int	tcps_active;
	uint16_t tcps_lport;
	uint16_t tcps_rport;
	string	tcps_laddr;
	string	tcps_raddr;
	int32_t	tcps_state;
	uint32_t tcps_iss;
	uint32_t tcps_suna;
	uint32_t tcps_snxt;
	uint32_t tcps_rack;
	uint32_t tcps_rnxt;
	uint32_t tcps_swnd;
	int32_t	tcps_snd_ws;
	uint32_t tcps_rwnd;
	int32_t	tcps_rcv_ws;
	uint32_t tcps_cwnd;
	uint32_t tcps_cwnd_ssthresh;
	uint32_t tcps_sack_fack;
	uint32_t tcps_sack_snxt;
	uint32_t tcps_rto;
	uint32_t tcps_mss;
	int	tcps_retransmit;
	int	tcps_rtt;
	int	tcps_rtt_sd;
	uint32_t tcps_irs;
} tcpsinfo_t;

typedef struct tcplsinfo {
	int32_t	tcps_state;
} tcplsinfo_t;

typedef struct udpinfo {
	uint16_t udp_sport;
	uint16_t udp_dport;
	uint16_t udp_length;
	uint16_t udp_checksum;
	uintptr_t udp_hdr;
} udpinfo_t;

typedef struct udpsinfo {
	uintptr_t udps_addr;
	uint16_t udps_lport;
	uint16_t udps_rport;
	string	udps_laddr;
	string	udps_raddr;
} udpsinfo_t;
"#;

thread_local! {
    static TABLE: TypeTable = build();
}

fn build() -> TypeTable {
    let opts = CompileOptions::new(Origin::File("<prelude>".into()));
    let script = match crate::parser::parse(PRELUDE, &opts) {
        Ok(s) => s,
        Err(d) => unreachable!("the built-in prelude parses: {d}"),
    };
    let catalog = StaticCatalog::default();
    let mut r = Resolver::with_types(&opts, &catalog, TypeTable::new());
    for item in &script.items {
        if let Item::Decl(d) = item {
            if let Err(e) = r.declaration(d) {
                unreachable!("the built-in prelude resolves: {e}");
            }
        }
    }
    r.into_types()
}

/// A copy of the type table with D's built-in typedefs and the prelude's types.
pub fn types() -> TypeTable {
    TABLE.with(|t| t.clone())
}

#[cfg(test)]
mod tests {
    use crate::ast::{Item, StorageClass};
    use crate::options::{CompileOptions, Origin};
    use crate::types::PRELUDE_TYPEDEFS;

    #[test]
    fn prelude_types_resolve() {
        let t = super::types();
        for name in PRELUDE_TYPEDEFS {
            assert!(t.typedef(name).is_some(), "{name}");
        }
        assert_eq!(t.typedef("psinfo_t").map(|t| t.size()), Some(256));
    }

    /// The parser knows the prelude's typedefs by `PRELUDE_TYPEDEFS`: the
    /// list and the prelude must name the same types.
    #[test]
    fn prelude_declares_exactly_the_listed_typedefs() {
        let opts = CompileOptions::new(Origin::File("<prelude>".into()));
        let script = crate::parser::parse(super::PRELUDE, &opts).expect("parses");
        let mut declared: Vec<String> = script
            .items
            .iter()
            .filter_map(|item| match item {
                Item::Decl(d) if d.specs.class == Some(StorageClass::Typedef) => Some(d),
                _ => None,
            })
            .flat_map(|d| d.declarators.iter().filter_map(|x| x.name()))
            .map(|(name, _)| name.to_string())
            .collect();
        declared.sort();
        let mut listed: Vec<String> = PRELUDE_TYPEDEFS.iter().map(|s| s.to_string()).collect();
        listed.sort();
        assert_eq!(declared, listed);
    }
}
