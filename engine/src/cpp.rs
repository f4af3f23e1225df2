//! `-C`: running the system C preprocessor over a script before it is compiled.
//!
//! The script goes to cpp on standard input behind a `# 1 "FILE"` line
//! marker, so the output's line markers name the script and d-lang can
//! report `"FILE", line N:`. A first line starting `#!` (an interpreter
//! line) is blanked, keeping line numbers. As Oracle's dtrace does with
//! GNU cpp, it runs with the compiler's own macros but `-U__GNUC__` (so
//! system headers such as `<sys/types.h>` still work and take their
//! non-GCC paths), plus D's predefined macros; `-D`, `-U`, `-I` and `-H`
//! follow.

use std::io::{Read, Write};
use std::process::{Command, Stdio};

/// The preprocessor run when `-x cpppath` is not given.
pub const DEFAULT_CPP: &str = "cpp";

/// Macros DTrace defines for D programs.
pub const PREDEFINED: &[&str] = &[
    "-D__linux",
    "-D__unix",
    "-D__SUNW_D=1",
    "-D__SUNW_D_VERSION=0x02000000",
    "-D__SUNW_D_64",
    #[cfg(target_arch = "x86_64")]
    "-D__x86_64",
    #[cfg(target_arch = "aarch64")]
    "-D__aarch64",
];

/// Why preprocessing failed.
#[derive(Debug, thiserror::Error)]
pub enum CppError {
    /// The preprocessor could not be started.
    #[error("failed to run {path}: {reason}")]
    Spawn {
        /// The command.
        path: String,
        /// strerror(3) text.
        reason: String,
    },
    /// It ran and failed (its own messages went to stderr).
    #[error("Preprocessor failed to process input program")]
    Failed,
    /// Its output is not UTF-8 text.
    #[error("Preprocessor output is not valid text")]
    NotText,
}

/// Preprocess `source` (read from `file`) with `cpp` and the user's `args`.
pub fn preprocess(
    cpp: &str,
    args: &[String],
    file: &str,
    source: &str,
) -> Result<String, CppError> {
    let input = cpp_input(file, source);
    let mut child = Command::new(cpp)
        .arg("-U__GNUC__")
        .args(PREDEFINED)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| CppError::Spawn {
            path: cpp.to_string(),
            reason: crate::error::reason(&e),
        })?;
    // Feed stdin from a thread so a large output cannot deadlock us.
    let mut stdin = child.stdin.take();
    let writer = std::thread::spawn(move || {
        if let Some(stdin) = stdin.as_mut() {
            // A cpp that exits early closes the pipe; its status reports why.
            let _ = stdin.write_all(input.as_bytes());
        }
    });
    let mut output = Vec::new();
    if let Some(mut stdout) = child.stdout.take() {
        stdout
            .read_to_end(&mut output)
            .map_err(|_| CppError::Failed)?;
    }
    let _ = writer.join();
    let status = child.wait().map_err(|_| CppError::Failed)?;
    if !status.success() {
        return Err(CppError::Failed);
    }
    String::from_utf8(output).map_err(|_| CppError::NotText)
}

/// The text given to cpp: a line marker naming the file, then the source
/// with an interpreter line blanked.
fn cpp_input(file: &str, source: &str) -> String {
    let escaped = file.replace('\\', "\\\\").replace('"', "\\\"");
    let body = match source.strip_prefix("#!") {
        Some(rest) => match rest.find('\n') {
            Some(nl) => &rest[nl..],
            None => "",
        },
        None => source,
    };
    format!("# 1 \"{escaped}\"\n{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_blanks_interpreter_line() {
        assert_eq!(
            cpp_input("a.d", "#!/usr/sbin/dtrace -s\nBEGIN {}\n"),
            "# 1 \"a.d\"\n\nBEGIN {}\n"
        );
        assert_eq!(cpp_input("q\"x.d", "BEGIN"), "# 1 \"q\\\"x.d\"\nBEGIN");
    }

    #[test]
    fn runs_cpp_with_defines() {
        if Command::new(DEFAULT_CPP).arg("--version").output().is_err() {
            // test.sh installs cpp: under CI a missing one is a failure.
            assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "no cpp");
            eprintln!("skipped: no cpp on this machine");
            return;
        }
        let out = preprocess(
            DEFAULT_CPP,
            &["-DVALUE=42".to_string()],
            "t.d",
            "#!/usr/sbin/dtrace -s\nBEGIN { x = VALUE; }\n#if __SUNW_D_64\nEND\n#endif\n",
        )
        .unwrap();
        assert!(out.contains("BEGIN { x = 42; }"), "{out}");
        assert!(out.contains("END"), "{out}");
        assert!(out.contains("\"t.d\""), "{out}");
        assert!(matches!(
            preprocess(DEFAULT_CPP, &[], "t.d", "#error boom\n"),
            Err(CppError::Failed)
        ));
        assert!(matches!(
            preprocess("/nonexistent/cpp", &[], "t.d", ""),
            Err(CppError::Spawn { .. })
        ));
    }
}
