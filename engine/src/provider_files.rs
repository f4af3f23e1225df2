//! `dtrace -h` and `dtrace -G`: the C header and the object that let a C
//! program fire the probes a provider file declares.
//!
//! Oracle's dtrace on Linux keeps DTrace's interface: `-h -s provider.d`
//! writes `provider.h`, whose `PROVIDER_PROBE(args…)` and
//! `PROVIDER_PROBE_ENABLED()` macros the program calls, and
//! `-G -s provider.d obj.o…` writes an object to link with them. Lumen's
//! USDT provider reads SystemTap SDT notes, so the header's macros expand
//! to `<sys/sdt.h>`'s probes with is-enabled semaphores (each argument
//! cast to its declared type, so the note records its size and sign), and
//! the `-G` object defines those semaphores in the `.probes` section where
//! the kernel raises them while a probe is traced. The objects named after
//! the script are checked rather than rewritten: every SDT probe they fire
//! for a declared provider must be one of its probes, with as many
//! arguments as declared.

use crate::sdt_notes;
use d_lang::ir::{ProviderDef, ProviderProbe};
use d_lang::types::Type;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

/// The most arguments `<sys/sdt.h>` carries (`STAP_PROBE12`).
pub const SDT_MAX_ARGS: usize = 12;

/// Why `-h` or `-G` failed.
#[derive(Debug, thiserror::Error)]
pub enum ProviderFileError {
    /// A probe takes more arguments than an SDT note can describe.
    #[error("probe {provider}:::{probe} has {count} arguments; USDT probes carry at most {SDT_MAX_ARGS}")]
    TooManyArgs {
        /// Provider.
        provider: String,
        /// Probe (D's name).
        probe: String,
        /// Its argument count.
        count: usize,
    },
    /// An object named for `-G` could not be read.
    #[error("failed to process {path}: {reason}")]
    Object {
        /// The object as typed.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// The C compiler could not build the semaphores' object.
    #[error("failed to build {path} with {cc}: {reason}")]
    Compile {
        /// The object being written.
        path: String,
        /// The compiler run.
        cc: String,
        /// Its error output or why it did not run.
        reason: String,
    },
}

/// A probe's C identifier: D's `-` is `__` in C (`query-start` →
/// `query__start`), as in the provider file.
fn c_probe(probe: &ProviderProbe) -> String {
    probe.name.replace('-', "__")
}

/// The macro stem: provider and probe upper-cased, `-` as `_`
/// (`MYAPP_QUERY_START`).
fn macro_name(provider: &ProviderDef, probe: &ProviderProbe) -> String {
    format!("{}_{}", provider.name, probe.name.replace('-', "_")).to_ascii_uppercase()
}

/// The semaphore `<sys/sdt.h>` names for a probe.
fn semaphore(provider: &ProviderDef, probe: &ProviderProbe) -> String {
    format!("{}_{}_semaphore", provider.name, c_probe(probe))
}

/// Typedefs C programs get from `<stdint.h>`/`<sys/types.h>`; any other
/// D typedef is written as what it stands for.
const C_TYPEDEFS: &[&str] = &[
    "int8_t",
    "int16_t",
    "int32_t",
    "int64_t",
    "uint8_t",
    "uint16_t",
    "uint32_t",
    "uint64_t",
    "intptr_t",
    "uintptr_t",
    "size_t",
    "ssize_t",
    "off_t",
    "pid_t",
    "uid_t",
    "gid_t",
    "id_t",
    "mode_t",
    "dev_t",
    "ino_t",
    "time_t",
];

/// A D argument type as C spells it: `string` is `char *`.
fn c_type(ty: &Type) -> String {
    match ty {
        Type::String => "char *".into(),
        Type::Named(name, inner) if !C_TYPEDEFS.contains(&&**name) => c_type(inner),
        other => other.name(),
    }
}

/// Check every probe can be carried by an SDT note.
fn check(providers: &[ProviderDef]) -> Result<(), ProviderFileError> {
    for provider in providers {
        for probe in &provider.probes {
            if probe.args.len() > SDT_MAX_ARGS {
                return Err(ProviderFileError::TooManyArgs {
                    provider: provider.name.clone(),
                    probe: probe.name.clone(),
                    count: probe.args.len(),
                });
            }
        }
    }
    Ok(())
}

/// The header guard for output file `path`: `_` and its file name
/// upper-cased, every other character `_` (`provider.h` → `_PROVIDER_H`).
pub fn guard(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let body: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("_{body}")
}

/// The `-h` header for `providers`, guarded by `guard`.
pub fn header(providers: &[ProviderDef], guard: &str) -> Result<String, ProviderFileError> {
    check(providers)?;
    let mut h = String::new();
    let w = &mut h;
    // Writing to a String cannot fail.
    let _ = writeln!(w, "/*\n * Generated by dtrace(1M).\n */\n");
    let _ = writeln!(w, "#ifndef\t{guard}\n#define\t{guard}\n");
    let _ = writeln!(
        w,
        "#include <unistd.h>\n#include <stdint.h>\n#include <sys/types.h>\n"
    );
    let _ = writeln!(
        w,
        "#ifndef _DTRACE_VERSION\n#define _DTRACE_VERSION 1\n#endif\n"
    );
    let _ = writeln!(
        w,
        "#if _DTRACE_VERSION\n#ifndef _SDT_HAS_SEMAPHORES\n#define _SDT_HAS_SEMAPHORES 1\n#endif\n#include <sys/sdt.h>\n#endif\n"
    );
    let _ = writeln!(w, "#ifdef\t__cplusplus\nextern \"C\" {{\n#endif\n");
    let _ = writeln!(w, "#if _DTRACE_VERSION\n");
    for provider in providers {
        for probe in &provider.probes {
            let stem = macro_name(provider, probe);
            let params = params(probe.args.len());
            let casts: Vec<String> = probe
                .args
                .iter()
                .enumerate()
                .map(|(i, ty)| format!(", ({})(arg{i})", c_type(ty)))
                .collect();
            let _ = writeln!(
                w,
                "#define\t{stem}({params}) \\\n\tDTRACE_PROBE{n}({prov}, {name}{args})",
                n = if probe.args.is_empty() {
                    String::new()
                } else {
                    probe.args.len().to_string()
                },
                prov = provider.name,
                name = c_probe(probe),
                args = casts.concat(),
            );
            let _ = writeln!(
                w,
                "#define\t{stem}_ENABLED() \\\n\t__builtin_expect({}, 0)",
                semaphore(provider, probe)
            );
        }
        let _ = writeln!(w);
        for probe in &provider.probes {
            let _ = writeln!(
                w,
                "__extension__ extern unsigned short {} __attribute__((unused));",
                semaphore(provider, probe)
            );
        }
        let _ = writeln!(w);
    }
    let _ = writeln!(w, "#else\n");
    for provider in providers {
        for probe in &provider.probes {
            let stem = macro_name(provider, probe);
            let _ = writeln!(w, "#define\t{stem}({})", params(probe.args.len()));
            let _ = writeln!(w, "#define\t{stem}_ENABLED() (0)");
        }
        let _ = writeln!(w);
    }
    let _ = writeln!(w, "#endif\n");
    let _ = writeln!(w, "#ifdef\t__cplusplus\n}}\n#endif\n");
    let _ = writeln!(w, "#endif\t/* {guard} */");
    Ok(h)
}

fn params(n: usize) -> String {
    (0..n)
        .map(|i| format!("arg{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The C source of the `-G` object: every probe's semaphore, in the
/// `.probes` section `<sys/sdt.h>`'s notes point into.
pub fn semaphores_source(providers: &[ProviderDef]) -> String {
    let mut c = String::from("/* Generated by dtrace(1M) -G. */\n");
    for provider in providers {
        for probe in &provider.probes {
            let _ = writeln!(
                c,
                "__extension__ unsigned short {} __attribute__((unused)) \
                 __attribute__((section(\".probes\"))) __attribute__((visibility(\"hidden\")));",
                semaphore(provider, probe)
            );
        }
    }
    c
}

/// Check that every SDT probe `object` fires for one of `providers` is
/// declared there, with the declared number of arguments.
pub fn check_object(providers: &[ProviderDef], object: &str) -> Result<(), ProviderFileError> {
    let fail = |reason: String| ProviderFileError::Object {
        path: object.to_string(),
        reason,
    };
    let bytes = std::fs::read(object).map_err(|e| fail(crate::error::reason(&e)))?;
    if !bytes.starts_with(b"\x7fELF") {
        return Err(fail("not an ELF object".into()));
    }
    let probes = sdt_notes::notes(Path::new(object)).map_err(|e| fail(e.to_string()))?;
    for site in probes {
        let Some(provider) = providers.iter().find(|p| p.name == site.provider) else {
            continue;
        };
        let name = site.name.replace("__", "-");
        let Some(probe) = provider.probes.iter().find(|p| p.name == name) else {
            return Err(fail(format!(
                "probe {}:::{name} is not declared by provider {}",
                provider.name, provider.name
            )));
        };
        if probe.args.len() != site.args.len() {
            return Err(fail(format!(
                "probe {}:::{name} fires with {} arguments but is declared with {}",
                provider.name,
                site.args.len(),
                probe.args.len()
            )));
        }
    }
    Ok(())
}

/// Write the `-G` object for `providers` to `out` with the C compiler
/// `cc`, after checking `objects`.
pub fn write_object(
    providers: &[ProviderDef],
    objects: &[String],
    out: &Path,
    cc: &str,
) -> Result<(), ProviderFileError> {
    check(providers)?;
    for object in objects {
        check_object(providers, object)?;
    }
    let fail = |reason: String| ProviderFileError::Compile {
        path: out.display().to_string(),
        cc: cc.to_string(),
        reason,
    };
    // The source goes to the compiler on its standard input: no file of
    // ours to make and clean up.
    let result = Command::new(cc)
        .args(["-c", "-fPIC", "-x", "c", "-o"])
        .arg(out)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            if let Some(mut stdin) = child.stdin.take() {
                stdin.write_all(semaphores_source(providers).as_bytes())?;
            }
            child.wait_with_output()
        });
    let output = result.map_err(|e| fail(crate::error::reason(&e)))?;
    if !output.status.success() {
        return Err(fail(
            String::from_utf8_lossy(&output.stderr).trim().to_string(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use d_lang::types::int;
    use std::rc::Rc;

    fn provider() -> ProviderDef {
        ProviderDef {
            name: "myapp".into(),
            probes: vec![
                ProviderProbe {
                    name: "query-start".into(),
                    args: vec![
                        Type::Pointer(Rc::new(int(1, true))),
                        Type::Named("uint64_t".into(), Rc::new(int(8, false))),
                    ],
                },
                ProviderProbe {
                    name: "tick".into(),
                    args: vec![],
                },
            ],
        }
    }

    #[test]
    fn header_macros() {
        let h = header(&[provider()], "_PROV_H").unwrap();
        assert!(h.contains(
            "#define\tMYAPP_QUERY_START(arg0, arg1) \\\n\tDTRACE_PROBE2(myapp, query__start, (char *)(arg0), (uint64_t)(arg1))"
        ), "{h}");
        assert!(h.contains("#define\tMYAPP_QUERY_START_ENABLED() \\\n\t__builtin_expect(myapp_query__start_semaphore, 0)"));
        assert!(h.contains("#define\tMYAPP_TICK() \\\n\tDTRACE_PROBE(myapp, tick)"));
        assert!(h.contains("#define\tMYAPP_TICK_ENABLED() (0)"));
        assert!(h.starts_with("/*\n * Generated by dtrace(1M).\n */\n\n#ifndef\t_PROV_H\n"));
        assert!(h.trim_end().ends_with("#endif\t/* _PROV_H */"));
    }

    #[test]
    fn guards_and_types() {
        assert_eq!(guard(Path::new("dir/my-prov.h")), "_MY_PROV_H");
        assert_eq!(c_type(&Type::String), "char *");
        let kernel = Type::Named(
            "caddr_t".into(),
            Rc::new(Type::Pointer(Rc::new(int(1, true)))),
        );
        assert_eq!(c_type(&kernel), "char *");
        let src = semaphores_source(&[provider()]);
        assert!(src.contains("unsigned short myapp_tick_semaphore"));
        assert!(src.contains("section(\".probes\")"));
    }

    #[test]
    fn too_many_arguments() {
        let mut p = provider();
        p.probes[1].args = vec![int(4, true); 13];
        let err = header(&[p], "_X").unwrap_err();
        assert!(err.to_string().contains("at most 12"), "{err}");
    }
}
