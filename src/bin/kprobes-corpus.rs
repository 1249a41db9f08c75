//! Packs a user's instruction corpus (the text format of `armv7_kprobes::corpus`) into the
//! binary the test kernel reads; `qemu-runner.sh --corpus FILE` calls it.
//!
//! ```text
//! kprobes-corpus check CORPUS.txt          parse only, report errors
//! kprobes-corpus pack CORPUS.txt OUT.bin   parse and write the packed form
//! ```

use armv7_kprobes::corpus::{self, CorpusLine};
use std::process::ExitCode;

fn load(path: &str) -> Result<Vec<CorpusLine>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut lines = Vec::new();
    corpus::parse(&text, |l| lines.push(l)).map_err(|e| format!("{path}: {e}"))?;
    Ok(lines)
}

fn pack(lines: &[CorpusLine]) -> Vec<u8> {
    let mut words: Vec<u32> = corpus::header(lines.len()).to_vec();
    for l in lines {
        words.extend(corpus::encode(l));
    }
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["check", input] => load(input).map(|l| println!("{input}: {} instructions", l.len())),
        ["pack", input, output] => load(input)
            .and_then(|l| std::fs::write(output, pack(&l)).map_err(|e| format!("{output}: {e}"))),
        _ => Err("usage: kprobes-corpus check CORPUS.txt | pack CORPUS.txt OUT.bin".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kprobes-corpus: {e}");
            ExitCode::from(2)
        }
    }
}
