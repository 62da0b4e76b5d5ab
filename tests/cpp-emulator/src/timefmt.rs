//! The timestamp shapes CPP puts on the wire (7 fractional digits, weak datetime ETags, .NET ticks).

use time::OffsetDateTime;
use time::macros::format_description;

/// `2017-05-23T23:33:47.8802283Z`, the form of `changedTime` and message timestamps.
pub(crate) fn wire_time(t: OffsetDateTime) -> String {
    let utc = t.to_offset(time::UtcOffset::UTC);
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]Z");
    // Formatting a UTC datetime with a fixed description only fails for years beyond 9999.
    utc.format(format)
        .unwrap_or_else(|_| utc.unix_timestamp().to_string())
}

/// `W/"datetime'2017-06-07T06%3A15%3A40.4771399Z'"`, the weak, URL-encoded ETag CPP returns.
pub(crate) fn etag_for(t: OffsetDateTime) -> String {
    format!("W/\"datetime'{}'\"", wire_time(t).replace(':', "%3A"))
}

/// .NET ticks (100 ns since 0001-01-01), the shape of the `version` field of submissions.
pub(crate) fn dotnet_ticks(t: OffsetDateTime) -> i128 {
    const UNIX_EPOCH_TICKS: i128 = 621_355_968_000_000_000;
    UNIX_EPOCH_TICKS + t.unix_timestamp_nanos() / 100
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats_like_cpp() {
        let t = datetime!(2017-06-07 06:15:40.4771399 UTC);
        assert_eq!(wire_time(t), "2017-06-07T06:15:40.4771399Z");
        assert_eq!(
            etag_for(t),
            "W/\"datetime'2017-06-07T06%3A15%3A40.4771399Z'\""
        );
    }

    #[test]
    fn ticks_match_dotnet() {
        let t = datetime!(2018-03-26 21:46:01.1768314 UTC);
        assert_eq!(dotnet_ticks(t), 636_576_975_611_768_314);
    }
}
