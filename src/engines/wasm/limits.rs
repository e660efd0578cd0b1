//! Submit-time rules of Wasm specs: memory sizes in Bacalhau's units and entry-point names.

use crate::model::Resources;

/// Memory a module may use when `Spec.Resources.Memory` is empty: 1 GiB.
pub const DEFAULT_MEMORY_LIMIT: u64 = 1 << 30;

/// The most memory a Wasm job may ask for: 4 GiB, all a 32-bit module can address.
pub const MAX_MEMORY_LIMIT: u64 = 4 << 30;

/// The memory cap of a job's linear memories, from `Spec.Resources.Memory`.
pub fn memory_limit(resources: &Resources) -> Result<u64, String> {
    let text = resources.memory.trim();
    if text.is_empty() {
        return Ok(DEFAULT_MEMORY_LIMIT);
    }
    let bytes = parse_memory(text).map_err(|e| format!("Resources.Memory {text:?}: {e}"))?;
    if bytes > MAX_MEMORY_LIMIT {
        return Err(format!(
            "Resources.Memory {text:?} is more than Wasm jobs may use (at most 4 GiB)"
        ));
    }
    Ok(bytes)
}

/// Parses a size such as `"512Mb"`, `"1Gb"`, `"256MiB"`, `"1.5G"` or `"1048576"` into bytes.
/// Units are case-insensitive; `k`/`m`/`g`/`t` (with or without `b`) are powers of 1000 and
/// `ki`/`mi`/`gi`/`ti` (with or without `b`) powers of 1024, as Bacalhau reads them.
pub fn parse_memory(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| "expected a number followed by a unit such as Mb, Gb or MiB".to_owned())?;
    let unit = unit.trim().to_ascii_lowercase();
    let unit = unit.strip_suffix('b').unwrap_or(&unit);
    let scale: u64 = match unit {
        "" => 1,
        "k" => 1000,
        "m" => 1000_u64.pow(2),
        "g" => 1000_u64.pow(3),
        "t" => 1000_u64.pow(4),
        "ki" => 1 << 10,
        "mi" => 1 << 20,
        "gi" => 1 << 30,
        "ti" => 1 << 40,
        other => {
            return Err(format!(
                "unknown unit {other:?} (use b, Kb, Mb, Gb, Tb, KiB, MiB, GiB or TiB)"
            ))
        }
    };
    let bytes = (value * scale as f64).round();
    if !bytes.is_finite() || bytes < 1.0 {
        return Err("must be at least one byte".into());
    }
    if bytes >= u64::MAX as f64 {
        return Err("is too large".into());
    }
    Ok(bytes as u64)
}

/// Whether `name` is a plain export name: ASCII letters, digits, `_`, `-`, `.` and `$`, not
/// starting with a digit, at most 128 characters.
pub fn is_plain_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || matches!(c, '_' | '$' | '.'))
        && name.len() <= 128
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '$'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_sizes_parse_in_decimal_and_binary_units() {
        assert_eq!(parse_memory("512Mb"), Ok(512_000_000));
        assert_eq!(parse_memory("1Gb"), Ok(1_000_000_000));
        assert_eq!(parse_memory("256MiB"), Ok(256 << 20));
        assert_eq!(parse_memory("2Gi"), Ok(2 << 30));
        assert_eq!(parse_memory("1.5G"), Ok(1_500_000_000));
        assert_eq!(parse_memory("64 kb"), Ok(64_000));
        assert_eq!(parse_memory("1048576"), Ok(1 << 20));
    }

    #[test]
    fn bad_memory_sizes_are_errors_not_panics() {
        for bad in [
            "",
            "Gb",
            "12 parsecs",
            "0",
            "0.1b",
            "-1Gb",
            "1..2Mb",
            "99999999999999999999Tb",
        ] {
            assert!(parse_memory(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn memory_limit_defaults_to_one_gib_and_caps_at_four() {
        let mut r = Resources::default();
        assert_eq!(memory_limit(&r), Ok(DEFAULT_MEMORY_LIMIT));
        r.memory = "4GiB".into();
        assert_eq!(memory_limit(&r), Ok(MAX_MEMORY_LIMIT));
        r.memory = "8Gb".into();
        assert!(memory_limit(&r).unwrap_err().contains("at most 4 GiB"));
        r.memory = "lots".into();
        assert!(memory_limit(&r)
            .unwrap_err()
            .starts_with("Resources.Memory \"lots\""));
    }

    #[test]
    fn entry_points_must_be_plain_identifiers() {
        for ok in ["_start", "main", "run-job", "$f", "a.b", "f2"] {
            assert!(is_plain_identifier(ok), "{ok}");
        }
        for bad in ["", "2f", "has space", "a/b", "é", &"x".repeat(129)] {
            assert!(!is_plain_identifier(bad), "{bad}");
        }
    }
}
