//! Live programs (`engine::live`): compiled, attached and stepped in this
//! process, their aggregations read as data; bad programs give the
//! compiler's diagnostic.

use engine::live::{LiveError, LiveProgram};
use engine::model::AggValue;
use engine::LiveCatalog;

fn root() -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "live tests need root under CI=true"
    );
    eprintln!("skipping: live tests need root");
    false
}

#[test]
fn aggregations_are_read_while_the_program_runs() {
    if !root() {
        return;
    }
    let catalog = LiveCatalog::open();
    // This thread's calls only: the other tests run beside it.
    // SAFETY: gettid has no preconditions.
    let tid = unsafe { libc::gettid() };
    let source = format!(
        "syscall::getppid:entry /pid == $pid && tid == {tid}/ {{ @calls[probefunc] = count(); @q = quantize(7); }}"
    );
    let mut p = LiveProgram::start("calls.d", &source, &catalog).expect("start");
    for _ in 0..100 {
        // SAFETY: getppid has no preconditions.
        unsafe { libc::getppid() };
    }
    p.step(50).unwrap();
    let aggs = p.aggregations().unwrap();
    let calls = aggs.iter().find(|a| a.name == "calls").expect("@calls");
    assert_eq!(calls.entries.len(), 1);
    assert_eq!(calls.entries[0].value, AggValue::Scalar(100));
    let q = aggs.iter().find(|a| a.name == "q").expect("@q");
    match &q.entries[0].value {
        AggValue::Buckets(b) => assert_eq!(b.iter().sum::<i64>(), 100),
        other => panic!("quantize gave {other:?}"),
    }
    // More calls show up at the next read.
    for _ in 0..5 {
        // SAFETY: as above.
        unsafe { libc::getppid() };
    }
    p.step(0).unwrap();
    let aggs = p.aggregations().unwrap();
    let calls = aggs.iter().find(|a| a.name == "calls").unwrap();
    assert_eq!(calls.entries[0].value, AggValue::Scalar(105));
    assert!(!p.ended());
}

#[test]
fn printed_output_and_exit_are_captured() {
    if !root() {
        return;
    }
    let catalog = LiveCatalog::open();
    let mut p = LiveProgram::start(
        "hello.d",
        "BEGIN { printf(\"hi %d\\n\", 42); exit(0); } END { printf(\"bye\\n\"); }",
        &catalog,
    )
    .expect("start");
    p.step(0).unwrap();
    assert!(p.ended());
    assert_eq!(p.take_output(), "hi 42\nbye\n\n");
    assert_eq!(p.take_output(), "");
}

#[test]
fn a_bad_program_is_the_compilers_diagnostic() {
    let catalog = LiveCatalog::open();
    match LiveProgram::start("panel.d", "BEGIN { x = ; }", &catalog) {
        Err(LiveError::Compile(text)) => {
            assert!(text.starts_with("panel.d: line 1: syntax error"), "{text}")
        }
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("compiled"),
    }
    match LiveProgram::start("none.d", "nosuch:::probe { }", &catalog) {
        Err(e) => assert!(e.to_string().contains("does not match any probes"), "{e}"),
        Ok(_) => panic!("matched"),
    }
}
