//! The `patron-sandbox` binary itself: frames on stdin/stdout, nothing else on stdout, an
//! oversized frame answered rather than fatal, a clean exit when stdin closes.

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

fn send(stdin: &mut impl Write, body: &[u8]) {
    stdin.write_all(&(body.len() as u32).to_be_bytes()).unwrap();
    stdin.write_all(body).unwrap();
    stdin.flush().unwrap();
}

fn receive(stdout: &mut impl Read) -> Value {
    let mut len = [0u8; 4];
    stdout.read_exact(&mut len).unwrap();
    let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
    stdout.read_exact(&mut body).unwrap();
    serde_json::from_slice(&body).expect("stdout carries only JSON frames")
}

#[test]
fn the_binary_answers_frames_survives_an_oversized_one_and_exits_when_stdin_closes() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_patron-sandbox"))
        .args(["--max-operations", "5000", "--max-memory-mb", "256"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let key = json!({"tenant": 3, "version": 1, "hash": "h"});

    let script = r#"print("to stdout?"); debug("no"); award(2, "a"); 1"#;
    let request =
        json!({"id": 1, "op": "eval", "key": key, "script": script, "event": {}, "member": {}});
    send(&mut stdin, request.to_string().as_bytes());
    let answer = receive(&mut stdout);
    assert_eq!(answer["result"]["points"], 3, "{answer}");

    send(&mut stdin, &vec![b' '; 5 * 1024 * 1024]);
    assert_eq!(receive(&mut stdout)["error"]["kind"], "bad_input");

    let request = json!({"id": 2, "op": "eval", "key": key, "event": {}, "member": {}});
    send(&mut stdin, request.to_string().as_bytes());
    assert_eq!(
        receive(&mut stdout),
        json!({"id": 2, "ok": true, "result": {"points": 3, "reasons": [
            {"points": 2, "reason": "a"}, {"points": 1, "reason": "rule"}
        ]}})
    );

    let request =
        json!({"id": 3, "op": "eval", "key": key, "script": "loop {}", "event": {}, "member": {}});
    send(
        &mut stdin,
        request.to_string().replace("\"h\"", "\"loop\"").as_bytes(),
    );
    assert_eq!(receive(&mut stdout)["error"]["limit"], "operations");

    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn unknown_arguments_are_refused() {
    let status = Command::new(env!("CARGO_BIN_EXE_patron-sandbox"))
        .arg("--fast")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(2));
}
