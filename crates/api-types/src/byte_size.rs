//! Human-readable sizes (`100MB`, `24 MiB`, `2Gb`, a plain number of bytes), read by the
//! command line (`--http-payload-size-limit`...) and by `POST /export` (`payloadSize`), and
//! written back the way Meilisearch shows them in task details (`24 MiB`, `50 MB`).

/// Decimal and binary units, largest first, with their size in bytes.
const UNITS: &[(&str, u64)] = &[
    ("TiB", 1 << 40),
    ("TB", 1_000_000_000_000),
    ("GiB", 1 << 30),
    ("GB", 1_000_000_000),
    ("MiB", 1 << 20),
    ("MB", 1_000_000),
    ("KiB", 1 << 10),
    ("KB", 1_000),
];

/// Reads a size: digits (a fraction is allowed), optional spaces, then a unit among `B`, `KB`,
/// `KiB`, `MB`, `MiB`, `GB`, `GiB`, `TB`, `TiB` (any case) or none for bytes.
pub fn parse_byte_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size (for example `100MB` or `24 MiB`)"))?;
    let unit = unit.trim();
    let multiplier = if unit.is_empty() || unit.eq_ignore_ascii_case("b") {
        1
    } else {
        UNITS
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(unit))
            .map(|(_, bytes)| *bytes)
            .ok_or_else(|| format!("unknown size unit `{unit}` in `{text}`"))?
    };
    Ok((number * multiplier as f64) as u64)
}

/// Writes a size with the largest unit that divides it exactly (`24 MiB`, `50 MB`, `1 KiB`);
/// a size no unit divides is written in the largest binary unit below it, two decimals at most.
pub fn format_byte_size(bytes: u64) -> String {
    if let Some((name, size)) = UNITS
        .iter()
        .find(|(_, size)| bytes >= *size && bytes.is_multiple_of(*size))
    {
        return format!("{} {name}", bytes / size);
    }
    match UNITS
        .iter()
        .filter(|(name, _)| name.ends_with("iB"))
        .find(|(_, size)| bytes >= *size)
    {
        Some((name, size)) => {
            let text = format!("{:.2}", bytes as f64 / *size as f64);
            format!(
                "{} {name}",
                text.trim_end_matches('0').trim_end_matches('.')
            )
        }
        None => format!("{bytes} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_print() {
        let cases = [
            ("100MB", 100_000_000),
            ("24 MiB", 24 << 20),
            ("2gb", 2_000_000_000),
            ("1024", 1024),
            ("1.5KiB", 1536),
            ("7 b", 7),
        ];
        for (text, bytes) in cases {
            assert_eq!(parse_byte_size(text), Ok(bytes), "{text}");
        }
        assert!(parse_byte_size("lots").is_err());
        assert!(parse_byte_size("3 parsecs").is_err());
        let printed = [
            (24 << 20, "24 MiB"),
            (50_000_000, "50 MB"),
            (1024, "1 KiB"),
            (1536, "1.5 KiB"),
            (700, "700 B"),
        ];
        for (bytes, text) in printed {
            assert_eq!(format_byte_size(bytes), text, "{bytes}");
        }
    }
}
