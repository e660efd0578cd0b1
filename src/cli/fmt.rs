//! Small formatting and parsing helpers of the client commands: durations (`90s`,
//! `1h30m`), `--since` values, short ids, times and plain-text tables.

use std::io::Write as _;
use std::time::Duration;

use chrono::{DateTime, Local, Utc};

use crate::model::JobState;
use crate::time::Time;

/// Writes `text` to stdout. When the reader went away (`hake list | head`), exits
/// quietly with 141, the status a shell reports for a process ended by SIGPIPE.
pub fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        exit_on_broken_pipe(&e);
    }
}

/// Exits with 141 when `e` is a broken pipe; otherwise returns.
pub fn exit_on_broken_pipe(e: &std::io::Error) {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(141);
    }
}

/// Parses a duration: a number of seconds (`90`, `1.5`) or units `ms`, `s`, `m`, `h`,
/// `d`, which may be combined (`1h30m`, `2m30s`, `500ms`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("an empty duration".to_owned());
    }
    if let Ok(secs) = t.parse::<f64>() {
        return Duration::try_from_secs_f64(secs)
            .map_err(|_| format!("{s:?} is not a non-negative duration"));
    }
    let bad = || format!("{s:?} is not a duration (examples: 30s, 5m, 1h30m, 500ms)");
    let mut total = 0f64;
    let mut rest = t;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        if num_len == 0 {
            return Err(bad());
        }
        let n: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            _ => return Err(bad()),
        };
        total += n * factor;
        rest = &rest[unit_len..];
    }
    Duration::try_from_secs_f64(total).map_err(|_| bad())
}

/// `--since`: a duration before now (`10m`) or an RFC 3339 time; unix milliseconds.
pub fn parse_since(s: &str, now: Time) -> Result<i64, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s.trim()) {
        return Ok(t.with_timezone(&Utc).timestamp_millis());
    }
    let d = parse_duration(s).map_err(|_| {
        format!("--since {s:?} is neither a duration (10m, 1h30m) nor an RFC 3339 time")
    })?;
    let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    Ok(now.timestamp_millis().saturating_sub(ms))
}

/// A duration in milliseconds for people: `850ms`, `12.3s`, `4m05s`, `2h03m`.
pub fn human_ms(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else if ms < 3_600_000 {
        format!("{}m{:02}s", ms / 60_000, (ms / 1000) % 60)
    } else {
        format!("{}h{:02}m", ms / 3_600_000, (ms / 60_000) % 60)
    }
}

/// The first 8 characters of an id (the shortest prefix the server accepts).
pub fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// A time in the local zone, to the second; `-` for Go's zero time.
pub fn local_time(t: &Time) -> String {
    if *t == crate::time::zero() {
        return "-".to_owned();
    }
    t.with_timezone(&Local)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// A time in the local zone with milliseconds (for history and executions).
pub fn local_time_ms(t: &Time) -> String {
    if *t == crate::time::zero() {
        return "-".to_owned();
    }
    t.with_timezone(&Local)
        .format("%Y-%m-%d %H:%M:%S%.3f")
        .to_string()
}

/// How long a job ran: from its first execution's start to its last execution's end,
/// or until now while one still runs; None before any execution started.
pub fn job_duration_ms(state: &JobState, now: Time) -> Option<i64> {
    let start = state.executions.iter().filter_map(|e| e.start_time).min()?;
    let running = state
        .executions
        .iter()
        .any(|e| e.start_time.is_some() && e.end_time.is_none() && !e.state.is_terminal());
    let end = if running {
        now
    } else {
        state
            .executions
            .iter()
            .filter_map(|e| e.end_time)
            .max()
            .unwrap_or(now)
    };
    Some((end - start).num_milliseconds())
}

/// Renders rows under headers as left-aligned columns separated by two spaces.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                l.push_str(c);
            } else {
                l.push_str(c);
                let pad = widths[i].saturating_sub(c.chars().count()) + 2;
                l.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(headers.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_seconds_and_combined_units() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("1.5").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("2m30s").unwrap(), Duration::from_secs(150));
        for bad in ["", "abc", "5x", "m5", "-3"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn since_takes_a_duration_before_now_or_an_rfc3339_time() {
        let now = DateTime::parse_from_rfc3339("2026-01-01T01:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_since("10m", now).unwrap(),
            now.timestamp_millis() - 600_000
        );
        assert_eq!(
            parse_since("2026-01-01T00:00:00.5Z", now).unwrap(),
            now.timestamp_millis() - 3_599_500
        );
        assert!(parse_since("yesterday", now).is_err());
    }

    #[test]
    fn human_durations_pick_a_readable_unit() {
        assert_eq!(human_ms(850), "850ms");
        assert_eq!(human_ms(12_340), "12.3s");
        assert_eq!(human_ms(245_000), "4m05s");
        assert_eq!(human_ms(7_380_000), "2h03m");
    }

    #[test]
    fn tables_align_columns() {
        let t = table(&["ID", "STATE"], &[vec!["abc".into(), "Completed".into()]]);
        assert_eq!(t, "ID   STATE\nabc  Completed\n");
    }
}
