//! Deep input: every recursive stage (parser, resolver, code generation)
//! takes its recursive steps through [`grow`], so that nesting is bounded by
//! each stage's own depth limit, never by the thread's stack.

/// Run a recursive step with at least 64 KiB of stack, growing it if needed.
pub(crate) fn grow<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(64 * 1024, 1024 * 1024, f)
}
