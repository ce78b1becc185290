//! The actions an API key can be granted, named exactly as in Meilisearch's `/keys` API, and the
//! rule deciding whether a granted action (possibly a wildcard such as `*`, `*.get` or
//! `documents.*`) covers the action a route needs. Routes ask for one concrete action; keys hold
//! lists that may contain wildcards.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Defines the `Action` enum together with its wire names, in one table so they cannot drift.
macro_rules! actions {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// One entry of an API key's `actions` list.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action {
            $($(#[$doc])* $variant,)*
        }

        impl Action {
            /// Every action, wildcards included, in documentation order.
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            /// The name used in the HTTP API (`"documents.add"`, `"*"`, ...).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)*
                }
            }

            /// Parses an action name; names are case-sensitive, as in Meilisearch.
            pub fn parse(name: &str) -> Option<Action> {
                match name {
                    $($name => Some(Action::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

actions! {
    /// Every action, including key management.
    All => "*",
    /// Every read-only (`*.get`-style) action except reading keys.
    AllGet => "*.get",
    Search => "search",
    DocumentsAll => "documents.*",
    DocumentsAdd => "documents.add",
    DocumentsGet => "documents.get",
    DocumentsDelete => "documents.delete",
    IndexesAll => "indexes.*",
    IndexesCreate => "indexes.create",
    IndexesGet => "indexes.get",
    IndexesUpdate => "indexes.update",
    IndexesDelete => "indexes.delete",
    IndexesSwap => "indexes.swap",
    IndexesCompact => "indexes.compact",
    TasksAll => "tasks.*",
    TasksCancel => "tasks.cancel",
    TasksDelete => "tasks.delete",
    TasksGet => "tasks.get",
    TasksCompact => "tasks.compact",
    SettingsAll => "settings.*",
    SettingsGet => "settings.get",
    SettingsUpdate => "settings.update",
    StatsAll => "stats.*",
    StatsGet => "stats.get",
    MetricsAll => "metrics.*",
    MetricsGet => "metrics.get",
    DumpsAll => "dumps.*",
    DumpsCreate => "dumps.create",
    SnapshotsAll => "snapshots.*",
    SnapshotsCreate => "snapshots.create",
    Version => "version",
    KeysCreate => "keys.create",
    KeysGet => "keys.get",
    KeysUpdate => "keys.update",
    KeysDelete => "keys.delete",
    ExperimentalGet => "experimental.get",
    ExperimentalUpdate => "experimental.update",
    Export => "export",
    NetworkGet => "network.get",
    NetworkUpdate => "network.update",
    ChatCompletions => "chatCompletions",
    ChatsAll => "chats.*",
    ChatsGet => "chats.get",
    ChatsDelete => "chats.delete",
    ChatsSettingsAll => "chatsSettings.*",
    ChatsSettingsGet => "chatsSettings.get",
    ChatsSettingsUpdate => "chatsSettings.update",
    WebhooksAll => "webhooks.*",
    WebhooksGet => "webhooks.get",
    WebhooksCreate => "webhooks.create",
    WebhooksUpdate => "webhooks.update",
    WebhooksDelete => "webhooks.delete",
    FieldsPost => "fields.post",
    DynamicSearchRulesAll => "dynamicSearchRules.*",
    DynamicSearchRulesGet => "dynamicSearchRules.get",
    DynamicSearchRulesCreate => "dynamicSearchRules.create",
    DynamicSearchRulesUpdate => "dynamicSearchRules.update",
    DynamicSearchRulesDelete => "dynamicSearchRules.delete",
}

impl Action {
    /// True for `*`, `*.get` and every `group.*`: actions that only ever appear in a key's list,
    /// never as what a route needs.
    pub fn is_wildcard(self) -> bool {
        self.as_str().contains('*')
    }

    /// The concrete actions a wildcard stands for (a concrete action stands for itself).
    pub fn expand(self) -> Vec<Action> {
        Action::ALL
            .iter()
            .copied()
            .filter(|a| !a.is_wildcard() && grants(self, *a))
            .collect()
    }

    /// The `group.*` wildcard covering this action, if its group has one.
    fn group_wildcard(self) -> Option<Action> {
        use Action::*;
        Some(match self {
            DocumentsAdd | DocumentsGet | DocumentsDelete => DocumentsAll,
            IndexesCreate | IndexesGet | IndexesUpdate | IndexesDelete | IndexesSwap
            | IndexesCompact => IndexesAll,
            TasksCancel | TasksDelete | TasksGet | TasksCompact => TasksAll,
            SettingsGet | SettingsUpdate => SettingsAll,
            StatsGet => StatsAll,
            MetricsGet => MetricsAll,
            DumpsCreate => DumpsAll,
            SnapshotsCreate => SnapshotsAll,
            ChatsGet | ChatsDelete => ChatsAll,
            ChatsSettingsGet | ChatsSettingsUpdate => ChatsSettingsAll,
            WebhooksGet | WebhooksCreate | WebhooksUpdate | WebhooksDelete => WebhooksAll,
            DynamicSearchRulesGet
            | DynamicSearchRulesCreate
            | DynamicSearchRulesUpdate
            | DynamicSearchRulesDelete => DynamicSearchRulesAll,
            _ => return None,
        })
    }

    /// Read-only actions covered by `*.get`. Reading API keys is deliberately left out (the
    /// Default Read-Only Admin API Key lists `keys.get` next to `*.get`).
    fn is_read(self) -> bool {
        use Action::*;
        matches!(
            self,
            DocumentsGet
                | IndexesGet
                | TasksGet
                | SettingsGet
                | StatsGet
                | MetricsGet
                | Version
                | ExperimentalGet
                | NetworkGet
                | ChatsGet
                | ChatsSettingsGet
                | WebhooksGet
                | DynamicSearchRulesGet
        )
    }
}

/// Whether a key holding `granted` may perform `needed`.
///
/// `*` grants everything (key management included, as in Meilisearch), `*.get` grants the
/// read-only actions, `group.*` grants the members of its group, and any action grants itself.
pub fn grants(granted: Action, needed: Action) -> bool {
    granted == needed
        || granted == Action::All
        || (granted == Action::AllGet && needed.is_read())
        || needed.group_wildcard() == Some(granted)
}

/// Whether any action of `granted` grants `needed`.
pub fn any_grants(granted: &[Action], needed: Action) -> bool {
    granted.iter().any(|g| grants(*g, needed))
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for an action name Meilisearch does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown action `{0}`")]
pub struct UnknownAction(pub String);

impl std::str::FromStr for Action {
    type Err = UnknownAction;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Action::parse(s).ok_or_else(|| UnknownAction(s.to_owned()))
    }
}

impl Serialize for Action {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Action::parse(&name).ok_or_else(|| serde::de::Error::custom(UnknownAction(name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for action in Action::ALL {
            assert!(seen.insert(action.as_str()), "duplicate name {action}");
            assert_eq!(Action::parse(action.as_str()), Some(*action));
            let json = serde_json::to_string(action).unwrap();
            assert_eq!(serde_json::from_str::<Action>(&json).unwrap(), *action);
        }
    }

    #[test]
    fn parse_table() {
        let cases: &[(&str, Option<Action>)] = &[
            ("*", Some(All)),
            ("*.get", Some(AllGet)),
            ("search", Some(Search)),
            ("documents.*", Some(DocumentsAll)),
            ("indexes.swap", Some(IndexesSwap)),
            ("indexes.compact", Some(IndexesCompact)),
            ("tasks.compact", Some(TasksCompact)),
            ("keys.get", Some(KeysGet)),
            ("chatCompletions", Some(ChatCompletions)),
            ("webhooks.*", Some(WebhooksAll)),
            ("fields.post", Some(FieldsPost)),
            ("export", Some(Export)),
            ("version", Some(Version)),
            ("Search", None),
            ("keys.*", None),
            ("documents", None),
            ("", None),
            (" search", None),
            ("chatcompletions", None),
        ];
        for (name, expected) in cases {
            assert_eq!(Action::parse(name), *expected, "parsing {name:?}");
        }
        assert!("nope".parse::<Action>().is_err());
        assert!(serde_json::from_str::<Action>("\"nope\"").is_err());
    }

    #[test]
    fn grants_table() {
        let cases: &[(Action, Action, bool)] = &[
            (All, Search, true),
            (All, KeysCreate, true),
            (All, KeysDelete, true),
            (All, FieldsPost, true),
            (Search, Search, true),
            (Search, DocumentsGet, false),
            (DocumentsAll, DocumentsAdd, true),
            (DocumentsAll, DocumentsGet, true),
            (DocumentsAll, DocumentsDelete, true),
            (DocumentsAll, Search, false),
            (DocumentsAll, IndexesGet, false),
            (DocumentsAdd, DocumentsGet, false),
            (IndexesAll, IndexesSwap, true),
            (IndexesAll, IndexesCompact, true),
            (IndexesAll, DocumentsAdd, false),
            (TasksAll, TasksCancel, true),
            (TasksAll, TasksCompact, true),
            (SettingsAll, SettingsUpdate, true),
            (StatsAll, StatsGet, true),
            (MetricsAll, MetricsGet, true),
            (DumpsAll, DumpsCreate, true),
            (SnapshotsAll, SnapshotsCreate, true),
            (WebhooksAll, WebhooksCreate, true),
            (WebhooksAll, WebhooksDelete, true),
            (WebhooksAll, NetworkUpdate, false),
            (ChatsAll, ChatCompletions, false),
            (ChatsSettingsAll, ChatsSettingsUpdate, true),
            (DynamicSearchRulesAll, DynamicSearchRulesCreate, true),
            (AllGet, DocumentsGet, true),
            (AllGet, SettingsGet, true),
            (AllGet, Version, true),
            (AllGet, KeysGet, false),
            (AllGet, Search, false),
            (AllGet, DocumentsAdd, false),
            (AllGet, SettingsUpdate, false),
            (KeysGet, KeysCreate, false),
            (Version, Version, true),
            (Export, Export, true),
            (ChatCompletions, Search, false),
        ];
        for (granted, needed, expected) in cases {
            assert_eq!(
                grants(*granted, *needed),
                *expected,
                "{granted} grants {needed}?"
            );
        }
    }

    #[test]
    fn only_star_grants_key_management() {
        for granted in Action::ALL {
            for needed in [KeysGet, KeysCreate, KeysUpdate, KeysDelete] {
                if grants(*granted, needed) {
                    assert!(
                        *granted == All || *granted == needed,
                        "{granted} -> {needed}"
                    );
                }
            }
        }
    }

    #[test]
    fn wildcards_expand_to_their_members() {
        assert_eq!(
            DocumentsAll.expand(),
            vec![DocumentsAdd, DocumentsGet, DocumentsDelete]
        );
        assert_eq!(Search.expand(), vec![Search]);
        let all = All.expand();
        assert!(all.iter().all(|a| !a.is_wildcard()));
        assert_eq!(
            all.len(),
            Action::ALL.iter().filter(|a| !a.is_wildcard()).count()
        );
        assert!(!AllGet.expand().contains(&KeysGet));
        assert!(any_grants(&[Search, DocumentsAll], DocumentsDelete));
        assert!(!any_grants(&[], Search));
    }
}
