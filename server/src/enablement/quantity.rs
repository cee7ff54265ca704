//! Kubernetes resource quantities (`500m`, `1.5`, `2Gi`, `16318384Ki`) as
//! millicores of CPU and MiB of memory.

/// Binary and decimal suffixes with their factor in bytes (or units).
const SUFFIXES: &[(&str, f64)] = &[
    ("Ki", 1024.0),
    ("Mi", 1024.0 * 1024.0),
    ("Gi", 1024.0 * 1024.0 * 1024.0),
    ("Ti", 1024.0 * 1024.0 * 1024.0 * 1024.0),
    ("Pi", 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0),
    ("Ei", 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0),
    ("m", 1e-3),
    ("k", 1e3),
    ("M", 1e6),
    ("G", 1e9),
    ("T", 1e12),
    ("P", 1e15),
    ("E", 1e18),
];

/// The quantity's value in base units (cores or bytes); `None` if it is
/// not a non-negative Kubernetes quantity.
pub fn parse(text: &str) -> Option<f64> {
    let text = text.trim();
    let (number, factor) = SUFFIXES
        .iter()
        .find_map(|(suffix, factor)| text.strip_suffix(suffix).map(|n| (n, *factor)))
        .unwrap_or((text, 1.0));
    let well_formed = !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit() || c == '.')
        && number.chars().filter(|c| *c == '.').count() <= 1
        && number.chars().any(|c| c.is_ascii_digit());
    if !well_formed {
        return None;
    }
    let value = number.parse::<f64>().ok()? * factor;
    value.is_finite().then_some(value)
}

/// CPU in millicores (rounded up), e.g. `500m` → 500, `1.5` → 1500.
pub fn cpu_millis(text: &str) -> Option<u64> {
    let cores = parse(text)?;
    Some((cores * 1000.0 - 1e-9).ceil().max(0.0) as u64)
}

/// Memory in MiB (rounded up), e.g. `2Gi` → 2048, `1G` → 954.
pub fn memory_mib(text: &str) -> Option<u64> {
    let bytes = parse(text)?;
    Some((bytes / (1024.0 * 1024.0) - 1e-9).ceil().max(0.0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_quantities() {
        assert_eq!(cpu_millis("500m"), Some(500));
        assert_eq!(cpu_millis("1"), Some(1000));
        assert_eq!(cpu_millis("1.5"), Some(1500));
        assert_eq!(cpu_millis("0.1"), Some(100));
        assert_eq!(cpu_millis("4000m"), Some(4000));
        for bad in ["", "m", "-1", "1.2.3", "abc", "5 m", "1x"] {
            assert_eq!(cpu_millis(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn memory_quantities() {
        assert_eq!(memory_mib("2048Mi"), Some(2048));
        assert_eq!(memory_mib("2Gi"), Some(2048));
        assert_eq!(memory_mib("16318384Ki"), Some(15936));
        assert_eq!(memory_mib("1G"), Some(954));
        assert_eq!(memory_mib("1048576"), Some(1));
        assert_eq!(memory_mib("lots"), None);
    }
}
