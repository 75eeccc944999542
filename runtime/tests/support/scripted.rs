//! A scripted module for the client tests: it expects the host's bytes
//! step by step and answers each step with chunks written one at a time,
//! with a short pause between chunks (so that they arrive in separate
//! reads). The blocking tests play it on a thread over a `MemoryTransport`,
//! the async ones on a tokio task over a duplex stream.

use std::thread;
use std::time::Duration;

use fcm242d::transport::{MemoryTransport, Transport};

/// One step: the bytes the module expects, then what it answers.
pub struct Step {
    /// What the host must send.
    pub expect: &'static [u8],
    /// The answer, chunk by chunk.
    pub answer: Vec<&'static [u8]>,
}

/// A step.
pub fn step(expect: &'static [u8], answer: &[&'static [u8]]) -> Step {
    Step {
        expect,
        answer: answer.to_vec(),
    }
}

/// Plays `script` on a thread at the module's end of an in-memory link,
/// pausing `pause` between answer chunks; returns the host's end. Panics
/// (in the thread) when the host sends something else than a step expects.
pub fn module(script: Vec<Step>, pause: Duration) -> (MemoryTransport, thread::JoinHandle<()>) {
    let (host, mut module) = MemoryTransport::pair();
    let handle = thread::spawn(move || {
        for s in script {
            let mut got = Vec::new();
            while got.len() < s.expect.len() {
                let mut buf = [0u8; 256];
                match module.read(&mut buf, Duration::from_secs(5)) {
                    Ok(0) => panic!(
                        "module: nothing received, expected {:?}",
                        String::from_utf8_lossy(s.expect)
                    ),
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                    Err(_) => return,
                }
            }
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(s.expect)
            );
            for chunk in s.answer {
                module.write_all(chunk).unwrap();
                thread::sleep(pause);
            }
        }
        // Keep the link open until the host is done.
        let mut buf = [0u8; 64];
        while module
            .read(&mut buf, Duration::from_millis(200))
            .is_ok_and(|n| n > 0)
        {}
    });
    (host, handle)
}
