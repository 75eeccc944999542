//! `cargo xtask size`: builds the size probe (`firmware/size-probe`, a
//! Cortex-M4F firmware that drives the engine for AT+QVERSION, AT+QIOPEN and
//! AT+QISEND) for `thumbv7em-none-eabihf` with opt-level "s" and LTO, once
//! with every function group and once with only `general` + `tcpip`, and
//! reports the `.text` of each (read from the ELF's section headers, so no
//! binutils are needed).

use std::path::Path;
use std::process::Command;

/// The builds reported: a label and the probe's cargo feature.
const BUILDS: [(&str, &str); 2] = [
    ("all groups", "all-groups"),
    ("general + tcpip", "general-tcpip"),
];

/// The target the probe is built for.
const TARGET: &str = "thumbv7em-none-eabihf";

/// Builds each variant and prints a table; `Err` says what went wrong.
pub fn run(root: &Path) -> Result<(), String> {
    let probe = root.join("firmware/size-probe");
    let mut rows = Vec::new();
    for (label, feature) in BUILDS {
        let target_dir = probe.join("target").join(feature);
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(&probe)
            .args(["build", "--release", "--locked", "--target", TARGET])
            .args(["--no-default-features", "--features", feature])
            .arg("--target-dir")
            .arg(&target_dir)
            .status()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !status.success() {
            return Err(format!(
                "building the size probe ({label}) failed; is the target installed? \
                 (`rustup target add {TARGET}`)"
            ));
        }
        let elf = target_dir
            .join(TARGET)
            .join("release")
            .join("fcm242d-size-probe");
        let bytes = std::fs::read(&elf).map_err(|e| format!("{}: {e}", elf.display()))?;
        let text = section_size(&bytes, ".text")
            .ok_or_else(|| format!("{}: no .text section found", elf.display()))?;
        rows.push((label, text));
    }
    println!();
    println!(
        "Size probe (engine + AT+QVERSION, AT+QIOPEN, AT+QISEND), {TARGET}, opt-level \"s\", LTO:"
    );
    println!();
    println!("| groups          | .text (bytes) | .text (KiB) |");
    println!("|-----------------|---------------|-------------|");
    for (label, text) in rows {
        println!(
            "| {label:<15} | {text:>13} | {:>11.1} |",
            text as f64 / 1024.0
        );
    }
    Ok(())
}

/// The size of section `name` of a 32-bit little-endian ELF file.
fn section_size(elf: &[u8], name: &str) -> Option<u64> {
    let u16_at = |o: usize| Some(u16::from_le_bytes(elf.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(elf.get(o..o + 4)?.try_into().ok()?));
    if elf.get(..4)? != b"\x7fELF" || *elf.get(4)? != 1 || *elf.get(5)? != 1 {
        return None; // not ELF32 little-endian
    }
    let shoff = u32_at(0x20)? as usize;
    let shentsize = u16_at(0x2E)? as usize;
    let shnum = u16_at(0x30)? as usize;
    let shstrndx = u16_at(0x32)? as usize;
    let header = |i: usize| shoff.checked_add(i.checked_mul(shentsize)?);
    let strtab = u32_at(header(shstrndx)? + 0x10)? as usize;
    for i in 0..shnum {
        let h = header(i)?;
        let name_off = strtab.checked_add(u32_at(h)? as usize)?;
        let rest = elf.get(name_off..)?;
        let end = rest.iter().position(|b| *b == 0)?;
        if &rest[..end] == name.as_bytes() {
            return Some(u64::from(u32_at(h + 0x14)?));
        }
    }
    None
}
