//! The live probe catalogue: every probe this system offers, numbered, for the compiler and `-l`.
//!
//! [`LiveCatalog`] implements d-lang's [`ProbeCatalog`]. It is built from the
//! providers in [`crate::providers`] and from tracefs ([`crate::tracefs`]):
//!
//! - IDs are assigned once, in a fixed order: `dtrace` (BEGIN 1, END 2,
//!   ERROR 3), `profile`'s listed probes, `syscall` (by syscall name, entry
//!   then return), the stable providers `proc`, `sched` and `io` (each in
//!   its table's order), `sdt` (by subsystem, then event). Probes made on
//!   demand (`profile:::tick-7ms`) take the next free ID.
//! - The order depends only on the set of tracepoints, never on the order
//!   of `available_events` or of directory reads, so `-l` lists the same
//!   rows with the same IDs on every run, as long as the kernel offers the
//!   same tracepoints (loading a module that adds some shifts later IDs).
//! - Building it reads one tracefs file (`available_events`), so listing
//!   stays fast. Argument types come from `format` files, read only for
//!   probes a description matched, and cached.
//!   The stable providers' argument types are fixed (DTrace's `psinfo_t *`,
//!   `bufinfo_t *`…) and need no file at all.
//! - Without tracefs (not root, no kernel support) the catalogue still holds
//!   `dtrace` and `profile`; [`LiveCatalog::kernel_error`] says why.

use crate::providers::{self, ArgSource, ProbeSpec};
use crate::tracefs::{EventName, Tracefs, TracefsError};
use d_lang::catalog::{glob_match, ProbeArg, ProbeCatalog, ProbeDesc, ProbeInfo};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// One numbered probe and where its argument types come from.
#[derive(Debug, Clone)]
struct Entry {
    /// The probe, with `args` left empty.
    info: ProbeInfo,
    args: ArgSource,
}

/// The probes of the running system.
#[derive(Debug)]
pub struct LiveCatalog {
    /// Probes known at build time; entry `i` has ID `i + 1`.
    fixed: Vec<Entry>,
    /// Each named provider's run of `fixed`, so a description naming a
    /// provider scans only that provider's probes.
    runs: HashMap<&'static str, std::ops::Range<usize>>,
    /// Probes made on demand, with IDs after `fixed`.
    on_demand: Mutex<Vec<Entry>>,
    /// fbt probes made so far: (function, name) → ID.
    fbt_made: Mutex<HashMap<(String, String), u32>>,
    /// USDT probe sites by probe ID.
    usdt_sites: Mutex<HashMap<u32, Vec<providers::usdt::Site>>>,
    /// Every USDT probe of each process, read once (by pid).
    usdt_probes: Mutex<HashMap<u32, std::sync::Arc<providers::usdt::ProcessNotes>>>,
    /// pid provider sites by probe ID.
    pid_sites: Mutex<HashMap<u32, Vec<providers::pid::Site>>>,
    /// Processes traced with -c/-p, and for a -c command that has not yet
    /// run its program, that program's file.
    processes: Mutex<Vec<(u32, Option<std::path::PathBuf>)>>,
    /// The tracer's own pid when its probes are listed: their providers
    /// are [`probes::catalogue`]'s, so a description that can name none of
    /// them skips reading the binary's notes.
    own_pid: Option<u32>,
    /// Whether this machine's kernel functions are probes (`fbt`): only
    /// for the catalogue of the running system, not one of a given tree.
    fbt: bool,
    /// Argument types already read, by probe ID.
    args_cache: Mutex<HashMap<u32, Vec<ProbeArg>>>,
    /// Tracepoint formats already read (argument types and code generation both need them).
    formats:
        Mutex<HashMap<crate::tracefs::EventName, Option<crate::tracepoint_format::EventFormat>>>,
    tracefs: Option<Tracefs>,
    kernel_error: Option<TracefsError>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl LiveCatalog {
    /// The catalogue of this machine: mounts tracefs if needed. Never fails;
    /// kernel providers are missing (see [`Self::kernel_error`]) when tracefs is
    /// unusable.
    pub fn open() -> LiveCatalog {
        let mut catalog = match Tracefs::open().and_then(LiveCatalog::from_tracefs) {
            Ok(catalog) => catalog,
            Err(e) => LiveCatalog::build(&[], None, Some(e)),
        };
        catalog.fbt = true;
        // The tracer's own probes (the `lumen` provider) are listed like
        // those of a traced process.
        // Only its own binary: the libraries it maps are not the tracer's
        // probes (DTrace offers no USDT of the consumer's libc either).
        catalog.add_process(std::process::id(), std::env::current_exe().ok());
        catalog.own_pid = Some(std::process::id());
        catalog
    }

    /// The catalogue of the tracefs tree at `tracefs`.
    pub fn from_tracefs(tracefs: Tracefs) -> Result<LiveCatalog, TracefsError> {
        let events = tracefs.events()?;
        Ok(LiveCatalog::build(&events, Some(tracefs), None))
    }

    /// A catalogue with only the probes that need no kernel support
    /// (`dtrace`, `profile`).
    pub fn without_kernel() -> LiveCatalog {
        LiveCatalog::build(&[], None, None)
    }

    /// Every named provider's listed probes, numbered in the providers'
    /// order, each provider's probes one run of IDs.
    fn build(
        events: &[EventName],
        tracefs: Option<Tracefs>,
        kernel_error: Option<TracefsError>,
    ) -> Self {
        let mut fixed = Vec::new();
        let mut runs = HashMap::new();
        for provider in providers::NAMED {
            let start = fixed.len();
            for spec in provider.listed(events) {
                fixed.push(entry(fixed.len() as u32 + 1, spec));
            }
            runs.insert(provider.name(), start..fixed.len());
        }
        LiveCatalog {
            fixed,
            runs,
            on_demand: Mutex::new(Vec::new()),
            fbt_made: Mutex::new(HashMap::new()),
            usdt_sites: Mutex::new(HashMap::new()),
            usdt_probes: Mutex::new(HashMap::new()),
            pid_sites: Mutex::new(HashMap::new()),
            processes: Mutex::new(Vec::new()),
            own_pid: None,
            fbt: false,
            args_cache: Mutex::new(HashMap::new()),
            formats: Mutex::new(HashMap::new()),
            tracefs,
            kernel_error,
        }
    }

    /// Why kernel probes (`syscall`, `proc`, `sched`, `io`, `sdt`) are
    /// unavailable, if they are.
    pub fn kernel_error(&self) -> Option<&TracefsError> {
        self.kernel_error.as_ref()
    }

    /// How many probes exist right now.
    pub fn len(&self) -> usize {
        self.fixed.len() + lock(&self.on_demand).len()
    }

    /// Whether the catalogue is empty (it never is: `dtrace` is always there).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Probes matching `desc`, in ID order, with `args` left empty (cheap:
    /// reads no format files). Makes an on-demand `profile` probe if `desc`
    /// names one exactly.
    pub fn list(&self, desc: &ProbeDesc) -> Vec<ProbeInfo> {
        self.make_on_demand(desc);
        let mut out: Vec<ProbeInfo> = self
            .candidates(desc)
            .iter()
            .filter(|e| desc.matches(&e.info))
            .map(|e| e.info.clone())
            .collect();
        out.extend(
            lock(&self.on_demand)
                .iter()
                .filter(|e| desc.matches(&e.info))
                .map(|e| e.info.clone()),
        );
        out
    }

    /// The listed probes `desc` can match: the run of the provider it
    /// names exactly, or every listed probe for a provider glob.
    fn candidates(&self, desc: &ProbeDesc) -> &[Entry] {
        if desc.provider.is_empty() || desc.provider.contains(['*', '?', '[', '\\']) {
            return &self.fixed;
        }
        match self.runs.get(desc.provider.as_str()) {
            Some(run) => &self.fixed[run.clone()],
            None => &[],
        }
    }

    /// The probe with ID `id`, without `args`.
    pub fn by_id(&self, id: u32) -> Option<ProbeInfo> {
        let index = (id as usize).checked_sub(1)?;
        if let Some(e) = self.fixed.get(index) {
            return Some(e.info.clone());
        }
        lock(&self.on_demand)
            .get(index - self.fixed.len())
            .map(|e| e.info.clone())
    }

    /// The typed arguments of a probe (reads its format file once, then caches).
    /// Unreadable or unparsable formats give no arguments.
    pub fn args(&self, id: u32) -> Vec<ProbeArg> {
        if let Some(args) = lock(&self.args_cache).get(&id) {
            return args.clone();
        }
        let source = self.arg_source(id);
        let args = self.read_args(&source);
        lock(&self.args_cache).insert(id, args.clone());
        args
    }

    /// Where the probe's arguments come from (which tracepoint, if any).
    pub fn arg_source(&self, id: u32) -> ArgSource {
        let Some(index) = (id as usize).checked_sub(1) else {
            return ArgSource::None;
        };
        match self.fixed.get(index) {
            Some(e) => e.args.clone(),
            None => lock(&self.on_demand)
                .get(index - self.fixed.len())
                .map_or(ArgSource::None, |e| e.args.clone()),
        }
    }

    /// The parsed `format` file of a tracepoint, read once per catalogue.
    pub fn event_format(
        &self,
        event: &crate::tracefs::EventName,
    ) -> Option<crate::tracepoint_format::EventFormat> {
        if let Some(f) = lock(&self.formats).get(event) {
            return f.clone();
        }
        let parsed = self
            .tracefs
            .as_ref()
            .and_then(|t| t.read_format(event).ok())
            .and_then(|text| crate::tracepoint_format::parse_format(&text).ok());
        lock(&self.formats).insert(event.clone(), parsed.clone());
        parsed
    }

    /// The tracefs this catalogue reads, if the kernel providers are available.
    pub fn tracefs(&self) -> Option<&Tracefs> {
        self.tracefs.as_ref()
    }

    /// `probe` with its `args` filled in.
    pub fn with_args(&self, mut probe: ProbeInfo) -> ProbeInfo {
        probe.args = self.args(probe.id);
        probe
    }

    fn read_args(&self, source: &ArgSource) -> Vec<ProbeArg> {
        let (event, syscall) = match source {
            ArgSource::None => return Vec::new(),
            ArgSource::Fixed(types) => {
                return types
                    .iter()
                    .map(|t| ProbeArg {
                        name: String::new(),
                        native_type: t.to_string(),
                        d_type: t.to_string(),
                    })
                    .collect()
            }
            ArgSource::Types(types) => {
                return types
                    .iter()
                    .map(|t| ProbeArg {
                        name: String::new(),
                        native_type: t.clone(),
                        d_type: t.clone(),
                    })
                    .collect()
            }
            ArgSource::Function { name, ret } => {
                return providers::fbt::arg_types(name, *ret)
                    .into_iter()
                    .map(|(name, ty)| ProbeArg {
                        name,
                        native_type: ty.clone(),
                        d_type: ty,
                    })
                    .collect()
            }
            ArgSource::Tracepoint(e) => (e, false),
            ArgSource::Syscall(e) => (e, true),
        };
        let Some(fmt) = self.event_format(event) else {
            return Vec::new();
        };
        let fields = fmt.event_fields();
        if syscall {
            fields
                .skip_while(|f| f.name != "__syscall_nr")
                .skip(1)
                .map(|f| f.to_probe_arg())
                .collect()
        } else {
            fields.map(|f| f.to_probe_arg()).collect()
        }
    }

    /// A process traced with -c/-p: its USDT probes match provider globs.
    /// `program` is the file a -c command is about to run (its mappings
    /// are still the tracer's until it does).
    pub fn add_process(&self, pid: u32, program: Option<std::path::PathBuf>) {
        lock(&self.processes).push((pid, program));
    }

    /// The sites of USDT probe `id`: one probe may be fired from several
    /// places of a function (each a note of its own), and is all of them.
    pub fn usdt_sites(&self, id: u32) -> Vec<providers::usdt::Site> {
        lock(&self.usdt_sites).get(&id).cloned().unwrap_or_default()
    }

    /// The site of pid provider probe `id`.
    pub fn pid_site(&self, id: u32) -> Option<providers::pid::Site> {
        lock(&self.pid_sites)
            .get(&id)
            .and_then(|s| s.first())
            .cloned()
    }

    /// Make the pid provider probes `desc` names: `pidPID:…` of one process
    /// (globs over pids would instrument every process: not made).
    fn make_pid(&self, desc: &ProbeDesc) {
        let Some((providers::pid::PREFIX, pid)) = providers::usdt::split_pid(&desc.provider) else {
            return;
        };
        let program = lock(&self.processes)
            .iter()
            .find(|(p, _)| *p == pid)
            .and_then(|(_, f)| f.clone());
        let objects = match program {
            Some(p) => providers::pid::program_and_libraries(&p),
            None => crate::sdt_notes::mapped_objects(pid),
        };
        let found = providers::pid::matching(desc, pid, &objects);
        self.add_process_probes(found, &self.pid_sites);
    }

    /// Add per-process probes (`usdt`, `pid`) not made yet, named by
    /// their per-process provider, and remember each one's sites by ID (a
    /// second site of a probe that exists joins it).
    fn add_process_probes<S: PartialEq>(
        &self,
        found: Vec<(String, ProbeSpec, S)>,
        sites: &Mutex<HashMap<u32, Vec<S>>>,
    ) {
        let mut sites = lock(sites);
        let mut extra = lock(&self.on_demand);
        for (provider, spec, site) in found {
            let exists = extra.iter().find(|e| {
                e.info.provider == provider
                    && e.info.module == spec.module
                    && e.info.function == spec.function
                    && e.info.name == spec.name
            });
            if let Some(e) = exists {
                let known = sites.entry(e.info.id).or_default();
                if !known.contains(&site) {
                    known.push(site);
                }
                continue;
            }
            let id = (self.fixed.len() + extra.len()) as u32 + 1;
            let mut e = entry(id, spec);
            e.info.provider = provider;
            extra.push(e);
            sites.insert(id, vec![site]);
        }
    }

    /// Make the USDT probes `desc` can match: of the process its provider
    /// names (`prov1234`), or of every traced process for a glob.
    fn make_usdt(&self, desc: &ProbeDesc) {
        let traced = lock(&self.processes).clone();
        let mut pids: Vec<(u32, Option<std::path::PathBuf>)> = Vec::new();
        if let Some((_, pid)) = providers::usdt::split_pid(&desc.provider) {
            let program = traced
                .iter()
                .find(|(p, _)| *p == pid)
                .and_then(|(_, f)| f.clone());
            pids.push((pid, program));
        } else if desc.provider.is_empty() || desc.provider.contains(['*', '?', '[']) {
            pids = traced;
        }
        for (pid, program) in pids {
            if Some(pid) == self.own_pid && !may_name_own_probe(desc, pid) {
                continue;
            }
            let found = self.process_usdt(pid, program).matching(desc);
            self.add_process_probes(found, &self.usdt_sites);
        }
    }

    /// Every USDT probe of process `pid` (of `program`, for a `-c` command
    /// that has not run it yet): its objects' notes are read once per
    /// catalogue, whatever number of descriptions ask.
    fn process_usdt(
        &self,
        pid: u32,
        program: Option<std::path::PathBuf>,
    ) -> std::sync::Arc<providers::usdt::ProcessNotes> {
        if let Some(all) = lock(&self.usdt_probes).get(&pid) {
            return std::sync::Arc::clone(all);
        }
        let objects = match program {
            Some(p) => vec![p],
            None => crate::sdt_notes::mapped_objects(pid),
        };
        let all = std::sync::Arc::new(providers::usdt::ProcessNotes::read(pid, &objects));
        lock(&self.usdt_probes).insert(pid, std::sync::Arc::clone(&all));
        all
    }

    /// Make the fbt probes `desc` can match that do not exist yet.
    fn make_fbt(&self, desc: &ProbeDesc) {
        if !self.fbt {
            return;
        }
        let specs = providers::fbt::matching(desc);
        if specs.is_empty() {
            return;
        }
        let mut made = lock(&self.fbt_made);
        let mut extra = lock(&self.on_demand);
        for spec in specs {
            let key = (spec.function.clone(), spec.name.clone());
            if made.contains_key(&key) {
                continue;
            }
            let id = (self.fixed.len() + extra.len()) as u32 + 1;
            made.insert(key, id);
            extra.push(entry(id, spec));
        }
    }

    /// Make the probe `desc` names exactly if a provider makes it on
    /// demand (`profile:::tick-7ms`, `cpc:::page_faults-user-1`) and it
    /// does not exist yet, and the fbt probes `desc` can match.
    fn make_on_demand(&self, desc: &ProbeDesc) {
        self.make_fbt(desc);
        self.make_usdt(desc);
        self.make_pid(desc);
        if !desc.is_exact() || !desc.module.is_empty() || !desc.function.is_empty() {
            return;
        }
        for provider in providers::NAMED {
            let name = provider.name();
            if !glob_match(&desc.provider, name) {
                continue;
            }
            let Some(spec) = provider.on_demand(&desc.name) else {
                continue;
            };
            let exists = |e: &Entry| e.info.provider == name && e.info.name == desc.name;
            let mut extra = lock(&self.on_demand);
            if self.fixed.iter().any(exists) || extra.iter().any(exists) {
                continue;
            }
            let id = (self.fixed.len() + extra.len()) as u32 + 1;
            extra.push(entry(id, spec));
        }
    }
}

/// Whether `desc` can match a probe of the tracer's own binary, process
/// `pid`: one of the providers [`probes::catalogue`] declares.
fn may_name_own_probe(desc: &ProbeDesc, pid: u32) -> bool {
    probes::catalogue().iter().any(|provider| {
        glob_match(&desc.provider, &format!("{}{pid}", provider.name))
            && provider
                .probes
                .iter()
                .any(|p| glob_match(&desc.name, p.name))
    })
}

fn entry(id: u32, spec: ProbeSpec) -> Entry {
    Entry {
        info: ProbeInfo {
            id,
            provider: spec.provider.to_string(),
            module: spec.module,
            function: spec.function,
            name: spec.name,
            args: Vec::new(),
        },
        args: spec.args,
    }
}

impl providers::ProbeSource for LiveCatalog {
    fn arg_source(&self, id: u32) -> ArgSource {
        LiveCatalog::arg_source(self, id)
    }

    fn event_format(&self, event: &EventName) -> Option<crate::tracepoint_format::EventFormat> {
        LiveCatalog::event_format(self, event)
    }

    fn usdt_sites(&self, id: u32) -> Vec<providers::usdt::Site> {
        LiveCatalog::usdt_sites(self, id)
    }

    fn pid_site(&self, id: u32) -> Option<providers::pid::Site> {
        LiveCatalog::pid_site(self, id)
    }
}

impl ProbeCatalog for LiveCatalog {
    /// Without `args`: they are typed when `args[]` asks ([`Self::args`]).
    fn matching(&self, desc: &ProbeDesc) -> Vec<ProbeInfo> {
        self.list(desc)
    }

    fn probe_args(&self, probe: &ProbeInfo) -> Vec<ProbeArg> {
        self.args(probe.id)
    }

    fn kernel_type(&self, name: &str) -> Option<d_lang::types::Type> {
        let btf = crate::btf::KernelBtf::kernel()?;
        btf.lookup(name).map(|id| btf.d_type(id))
    }

    fn kernel_symbol(&self, name: &str) -> Option<d_lang::catalog::KernelSymbol> {
        let addr = kallsyms_address(name).or_else(|| system_map_address(name))?;
        let var = crate::btf::KernelBtf::kernel()
            .and_then(|b| b.var(name).map(|(ty, per_cpu)| (b.d_type(ty), per_cpu)));
        Some(d_lang::catalog::KernelSymbol {
            addr,
            per_cpu: var.as_ref().is_some_and(|v| v.1),
            ty: var.map(|v| v.0),
        })
    }
}

/// The address of kernel symbol `name` in /proc/kallsyms (module symbols
/// included); `None` if absent or hidden (kptr_restrict shows zeros).
fn kallsyms_address(name: &str) -> Option<u64> {
    symbol_in("/proc/kallsyms", name)
}

/// The running address of kernel symbol `name` from
/// `/boot/System.map-RELEASE`: where /proc/kallsyms lists only text
/// symbols (no `CONFIG_KALLSYMS_ALL`), the map still has the data ones.
/// Its addresses are the link-time ones, so the kernel's load offset
/// (KASLR) is added: the difference between `_text` in both.
fn system_map_address(name: &str) -> Option<u64> {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok()?;
    let map = format!("/boot/System.map-{}", release.trim());
    let linked = symbol_in(&map, name)?;
    let text_now = symbol_in("/proc/kallsyms", "_text")?;
    let text_linked = symbol_in(&map, "_text")?;
    Some(linked.wrapping_add(text_now.wrapping_sub(text_linked)))
}

/// Symbol `name`'s address in an nm-style listing (`ADDR TYPE NAME`).
fn symbol_in(path: &str, name: &str) -> Option<u64> {
    use std::io::BufRead;
    let f = std::fs::File::open(path).ok()?;
    for line in std::io::BufReader::new(f).lines() {
        let line = line.ok()?;
        let mut it = line.split_whitespace();
        let (Some(addr), Some(_kind), Some(sym)) = (it.next(), it.next(), it.next()) else {
            continue;
        };
        if sym == name {
            return u64::from_str_radix(addr, 16).ok().filter(|&a| a != 0);
        }
    }
    None
}

#[cfg(test)]
pub mod test_utils {
    //! A fake tracefs tree for catalogue tests.
    use std::fs;
    use std::path::Path;

    /// Format text of `syscalls:sys_enter_read` as this kernel writes it.
    pub const SYS_ENTER_READ: &str = "name: sys_enter_read\nID: 842\nformat:\n\
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n\
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n\
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\
\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n\
\tfield:unsigned int fd;\toffset:16;\tsize:8;\tsigned:0;\n\
\tfield:char * buf;\toffset:24;\tsize:8;\tsigned:0;\n\
\tfield:size_t count;\toffset:32;\tsize:8;\tsigned:0;\n\n\
print fmt: \"fd: 0x%08lx\", ((unsigned long)(REC->fd))\n";

    /// Format text of `syscalls:sys_exit_read`.
    pub const SYS_EXIT_READ: &str = "name: sys_exit_read\nID: 841\nformat:\n\
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\
\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n\
\tfield:long ret;\toffset:16;\tsize:8;\tsigned:1;\n\n\
print fmt: \"0x%lx\", REC->ret\n";

    /// Format text of `sched:sched_process_exec`.
    pub const SCHED_PROCESS_EXEC: &str = "name: sched_process_exec\nID: 365\nformat:\n\
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\
\tfield:__data_loc char[] filename;\toffset:8;\tsize:4;\tsigned:0;\n\
\tfield:pid_t pid;\toffset:12;\tsize:4;\tsigned:1;\n\
\tfield:pid_t old_pid;\toffset:16;\tsize:4;\tsigned:1;\n\n\
print fmt: \"filename=%s\", __get_str(filename)\n";

    /// Lay out a tracefs tree under `root` with the given `(subsystem, event, format)`s.
    pub fn fake_tracefs(root: &Path, events: &[(&str, &str, &str)]) {
        let mut list = String::new();
        for (subsys, event, format) in events {
            let dir = root.join("events").join(subsys).join(event);
            fs::create_dir_all(&dir).expect("create event dir");
            fs::write(dir.join("format"), format).expect("write format");
            list.push_str(&format!("{subsys}:{event}\n"));
        }
        fs::write(root.join("available_events"), list).expect("write available_events");
    }
}

#[cfg(test)]
mod tests {
    use super::test_utils::*;
    use super::*;
    use d_lang::catalog::DescField;

    fn desc(s: &str) -> ProbeDesc {
        ProbeDesc::parse(s, DescField::Name).unwrap()
    }

    const FAKE_EVENTS: &[(&str, &str, &str)] = &[
        ("sched", "sched_process_exec", SCHED_PROCESS_EXEC),
        ("syscalls", "sys_exit_read", SYS_EXIT_READ),
        ("syscalls", "sys_enter_read", SYS_ENTER_READ),
        ("ftrace", "function", "name: function\nformat:\n"),
        ("block", "block_rq_issue", "garbage"),
        ("sched", "sched_switch", "name: sched_switch\nformat:\n"),
    ];

    fn fake_with(events: &[(&str, &str, &str)]) -> (tempfile::TempDir, LiveCatalog) {
        let dir = tempfile::tempdir().unwrap();
        fake_tracefs(dir.path(), events);
        let cat = LiveCatalog::from_tracefs(Tracefs::at(dir.path())).unwrap();
        (dir, cat)
    }

    fn fake() -> (tempfile::TempDir, LiveCatalog) {
        fake_with(FAKE_EVENTS)
    }

    /// The probes `d` matches, typed as `args[]` sees them.
    fn typed(cat: &LiveCatalog, d: &ProbeDesc) -> Vec<ProbeInfo> {
        cat.matching(d)
            .into_iter()
            .map(|p| {
                let args = cat.probe_args(&p);
                ProbeInfo { args, ..p }
            })
            .collect()
    }

    /// Every probe as `-l` prints it.
    fn rows(cat: &LiveCatalog) -> Vec<String> {
        cat.list(&ProbeDesc::default())
            .iter()
            .map(crate::listing::row)
            .collect()
    }

    #[test]
    fn id_order() {
        let (_dir, cat) = fake();
        let all: Vec<String> = cat
            .list(&desc(":::"))
            .iter()
            .map(|p| format!("{} {}", p.id, p.full_name()))
            .collect();
        assert_eq!(all[0], "1 dtrace:::BEGIN");
        assert_eq!(all[1], "2 dtrace:::END");
        assert_eq!(all[2], "3 dtrace:::ERROR");
        assert_eq!(all[3], "4 profile:::profile-97");
        assert_eq!(all[15], "16 profile:::tick-5000");
        assert_eq!(
            &all[16..27],
            [
                "17 syscall:vmlinux:read:entry",
                "18 syscall:vmlinux:read:return",
                "19 proc:::exec-success",
                "20 sched:::off-cpu",
                "21 sched:::on-cpu",
                "22 sched:::preempt",
                "23 sched:::sleep",
                "24 io:::start",
                "25 sdt:block::block_rq_issue",
                "26 sdt:sched::sched_process_exec",
                "27 sdt:sched::sched_switch",
            ]
        );
        // Then cpc's, last, so they do not renumber the others.
        assert_eq!(all[27], "28 cpc:::cpu_clock-all-10000000");
        assert_eq!(cat.len(), 27 + cpc_listed());
    }

    #[test]
    fn listing_is_the_same_on_every_build() {
        let (_a, first) = fake();
        // The same tracepoints, listed by the kernel in another order, twice.
        let mut shuffled: Vec<_> = FAKE_EVENTS.iter().rev().copied().collect();
        shuffled.extend_from_slice(&FAKE_EVENTS[..2]);
        let (_b, second) = fake_with(&shuffled);
        assert_eq!(rows(&first), rows(&second));
        let (_c, third) = fake();
        assert_eq!(rows(&first), rows(&third));
    }

    #[test]
    fn live_listing_is_the_same_on_every_build() {
        // With or without tracefs here, two builds must agree row for row.
        let (first, second) = (LiveCatalog::open(), LiveCatalog::open());
        assert!(first.len() >= 16);
        assert_eq!(rows(&first), rows(&second));
    }

    #[test]
    fn stable_providers_have_dtrace_types() {
        let (_dir, cat) = fake();
        // `block_rq_issue`'s format is garbage: stable types need no format file.
        let start = typed(&cat, &desc("io:::start"));
        assert_eq!(start.len(), 1);
        let types: Vec<(&str, &str)> = start[0]
            .args
            .iter()
            .map(|a| (a.d_type.as_str(), a.native_type.as_str()))
            .collect();
        assert_eq!(
            types,
            [
                ("bufinfo_t *", "bufinfo_t *"),
                ("devinfo_t *", "devinfo_t *"),
                ("fileinfo_t *", "fileinfo_t *")
            ]
        );
        assert_eq!(cat.args(20).len(), 2);
        assert_eq!(cat.args(20)[1].d_type, "psinfo_t *");
        assert!(typed(&cat, &desc("proc:::exec-success"))[0].args.is_empty());
        assert!(cat.list(&desc("proc:::exit")).is_empty());
        assert_eq!(cat.list(&desc("sched:::*-cpu")).len(), 2);
    }

    #[test]
    fn stable_providers_need_tracefs() {
        let cat = LiveCatalog::without_kernel();
        for p in ["proc:::", "sched:::", "io:::"] {
            assert!(cat.list(&desc(p)).is_empty(), "{p}");
        }
    }

    #[test]
    fn glob_listing() {
        let (_dir, cat) = fake();
        let names = |d: &str| -> Vec<u32> { cat.list(&desc(d)).iter().map(|p| p.id).collect() };
        assert_eq!(names("syscall::read*:"), [17, 18]);
        assert_eq!(names("BEGIN"), [1]);
        assert_eq!(names("sdt:sched::"), [26, 27]);
        assert_eq!(names("sched:::"), [20, 21, 22, 23]);
        assert_eq!(names("tick-1*"), [11, 12, 13, 15]);
        assert!(names("nosuch:::").is_empty());
        let p = ProbeDesc::parse("profile", DescField::Provider).unwrap();
        assert_eq!(cat.list(&p).len(), 13);
    }

    /// How many `cpc` probes this machine lists (hardware ones vary).
    fn cpc_listed() -> usize {
        use crate::providers::Provider;
        providers::cpc::Cpc.listed(&[]).len()
    }

    #[test]
    fn on_demand_profile_and_cpc_probes() {
        let (_dir, cat) = fake();
        let next = 27 + cpc_listed() as u32 + 1;
        assert_eq!(cat.list(&desc("tick-7ms"))[0].id, next);
        assert_eq!(cat.list(&desc("profile:::tick-7ms"))[0].id, next);
        assert_eq!(cat.list(&desc("profile-1234"))[0].id, next + 1);
        assert!(cat.list(&desc("tick-7parsecs")).is_empty());
        assert!(cat.list(&desc("syscall:::tick-8ms")).is_empty());
        assert_eq!(cat.by_id(next + 1).unwrap().name, "profile-1234");
        assert_eq!(cat.list(&desc("cpc:::page_faults-user-1"))[0].id, next + 2);
        assert_eq!(cat.list(&desc("page_faults-user-1"))[0].id, next + 2);
        assert!(cat.list(&desc("profile:::page_faults-user-1")).is_empty());
        assert_eq!(cat.len(), next as usize + 2);
        assert_eq!(cat.list(&desc("tick-9*")).len(), 0);
    }

    #[test]
    fn lazy_typed_args() {
        let (_dir, cat) = fake();
        let entry = typed(&cat, &desc("syscall::read:entry"));
        let types: Vec<&str> = entry[0]
            .args
            .iter()
            .map(|a| a.native_type.as_str())
            .collect();
        assert_eq!(types, ["unsigned int", "char *", "size_t"]);
        let ret = typed(&cat, &desc("syscall::read:return"));
        assert_eq!(ret[0].args[0].native_type, "long");
        let exec = typed(&cat, &desc("sdt:sched::sched_process_exec"));
        assert_eq!(exec[0].args[0].d_type, "string");
        assert_eq!(exec[0].args.len(), 3);
        // An unparsable format gives no arguments rather than an error.
        assert!(typed(&cat, &desc("sdt:block::"))[0].args.is_empty());
        // Listing does not read formats.
        assert!(cat.list(&desc("syscall::read:entry"))[0].args.is_empty());
    }

    #[test]
    fn own_probes_are_read_only_for_descriptions_that_can_name_them() {
        let pid = std::process::id();
        assert!(!may_name_own_probe(&desc("BEGIN"), pid));
        assert!(!may_name_own_probe(&desc("syscall::read:entry"), pid));
        assert!(may_name_own_probe(&desc("start"), pid));
        assert!(may_name_own_probe(&desc("lumen*:::"), pid));
        assert!(may_name_own_probe(
            &desc(&format!("vmm{pid}:::exit-entry")),
            pid
        ));
        assert!(!may_name_own_probe(&desc("vmm1:::exit-entry"), pid + 1));
    }

    #[test]
    fn without_kernel() {
        let cat = LiveCatalog::without_kernel();
        assert_eq!(cat.len(), 16 + cpc_listed());
        assert!(cat.kernel_error().is_none());
    }
}
