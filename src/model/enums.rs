//! The string enums of the wire format. Bacalhau sends enums as strings and parses them
//! case-insensitively after trimming; an unknown value is an error naming the accepted ones.

use std::fmt;
use std::str::FromStr;

/// The error for an enum string that names no variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?} (expected one of: {expected})")]
pub struct UnknownVariant {
    /// The enum's wire name, e.g. `Engine`.
    pub kind: &'static str,
    /// What was sent.
    pub value: String,
    /// The accepted spellings, comma separated.
    pub expected: String,
}

macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident as $kind:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal $(| $alias:literal)* ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, utoipa::ToSchema)]
        pub enum $name {
            $( $(#[$vmeta])* #[schema(rename = $text)] $variant ),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The canonical wire spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::ALL[0]
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownVariant;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let t = s.trim();
                $(
                    if t.eq_ignore_ascii_case($text) $(|| t.eq_ignore_ascii_case($alias))* {
                        return Ok($name::$variant);
                    }
                )+
                Err(UnknownVariant {
                    kind: $kind,
                    value: s.to_owned(),
                    expected: [$($text),+].join(", "),
                })
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

wire_enum! {
    /// Which engine runs a job.
    Engine as "Engine" {
        Noop = "Noop",
        Docker = "Docker",
        Wasm = "Wasm",
        Language = "Language",
        PythonWasm = "PythonWasm",
        /// Extension: a host process (only with `--allow-exec`).
        Exec = "Exec",
    }
}

wire_enum! {
    /// How results are verified (hake runs every verifier as Noop).
    Verifier as "Verifier" {
        Noop = "Noop",
        Deterministic = "Deterministic",
        External = "External",
    }
}

wire_enum! {
    /// Where outputs are published.
    Publisher as "Publisher" {
        Noop = "Noop",
        Ipfs = "Ipfs",
        Filecoin = "Filecoin",
        Estuary = "Estuary",
        S3 = "S3",
        /// Extension: a tar.gz served by this node.
        Local = "Local",
    }
}

wire_enum! {
    /// Where a StorageSpec's data comes from.
    StorageSource as "StorageSource" {
        Ipfs = "IPFS",
        RepoClone = "RepoClone",
        RepoCloneLfs = "RepoCloneLFS",
        UrlDownload = "URLDownload",
        FilecoinUnsealed = "FilecoinUnsealed",
        Filecoin = "Filecoin",
        Estuary = "Estuary",
        Inline = "Inline",
        LocalDirectory = "LocalDirectory",
        S3 = "S3",
    }
}

wire_enum! {
    /// Network access of a job.
    Network as "Network" {
        None = "None",
        Full = "Full",
        Http = "HTTP",
    }
}

wire_enum! {
    /// The state of a job.
    JobStateType as "JobState" {
        New = "New",
        InProgress = "InProgress",
        Cancelled = "Cancelled" | "Canceled",
        Error = "Error",
        Completed = "Completed",
        CompletedPartially = "CompletedPartially",
        Queued = "Queued",
    }
}

impl JobStateType {
    /// Whether no further change can happen.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::CompletedPartially | Self::Error | Self::Cancelled
        )
    }
}

wire_enum! {
    /// The state of one execution of a job.
    ExecutionStateType as "ExecutionState" {
        New = "New",
        AskForBid = "AskForBid",
        AskForBidAccepted = "AskForBidAccepted",
        AskForBidRejected = "AskForBidRejected",
        /// Running.
        BidAccepted = "BidAccepted",
        BidRejected = "BidRejected",
        WaitingVerification = "WaitingVerification",
        /// Publishing.
        ResultAccepted = "ResultAccepted",
        ResultRejected = "ResultRejected",
        Completed = "Completed",
        Failed = "Failed",
        Cancelled = "Cancelled" | "Canceled",
    }
}

impl ExecutionStateType {
    /// Whether no further change can happen.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::AskForBidRejected
                | Self::BidRejected
                | Self::ResultRejected
                | Self::Cancelled
                | Self::Failed
                | Self::Completed
        )
    }
}

wire_enum! {
    /// Whether a history record is about the job or one execution.
    HistoryType as "JobHistoryType" {
        JobLevel = "JobLevel",
        ExecutionLevel = "ExecutionLevel",
    }
}

wire_enum! {
    /// Which output stream a log record came from.
    LogStream as "Stream" {
        Stdout = "stdout",
        Stderr = "stderr",
    }
}

impl LogStream {
    /// Bacalhau's frame tag: 1 for stdout, 2 for stderr.
    pub fn tag(self) -> u8 {
        match self {
            Self::Stdout => 1,
            Self::Stderr => 2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_parse_case_insensitively_and_trimmed() {
        assert_eq!(" docker ".parse::<Engine>().unwrap(), Engine::Docker);
        assert_eq!("ipfs".parse::<Publisher>().unwrap(), Publisher::Ipfs);
        assert_eq!(
            "urldownload".parse::<StorageSource>().unwrap(),
            StorageSource::UrlDownload
        );
        assert_eq!(
            "canceled".parse::<JobStateType>().unwrap(),
            JobStateType::Cancelled
        );
    }

    #[test]
    fn unknown_enum_names_the_accepted_values() {
        let err = "Kubernetes".parse::<Engine>().unwrap_err();
        assert!(err.to_string().contains("Noop, Docker, Wasm"), "{err}");
    }

    #[test]
    fn enums_serialize_in_canonical_spelling() {
        assert_eq!(
            serde_json::to_string(&StorageSource::Ipfs).unwrap(),
            "\"IPFS\""
        );
        let e: Engine = serde_json::from_str("\"WASM\"").unwrap();
        assert_eq!(serde_json::to_string(&e).unwrap(), "\"Wasm\"");
    }
}
