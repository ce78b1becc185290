//! The wire side of conversational search: a chat workspace's settings (`/chats/{workspace}/
//! settings`: which LLM provider, its credentials, the prompts) with Meilisearch's validation
//! codes and its way of hiding the provider key, and the per-index `chat` settings key
//! (`description`, `documentTemplate`, `documentTemplateMaxBytes`, `searchParameters`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::decode::{
    decode_f64, decode_string, decode_string_list, decode_usize, expect_object, for_each_field,
    invalid_value, unknown_value,
};
use crate::settings::Setting;
use crate::{Code, ResponseError};

/// The LLM providers a workspace can talk to; all speak OpenAI's chat completions protocol.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ChatSource {
    #[default]
    OpenAi,
    AzureOpenAi,
    Mistral,
    Gemini,
    VLlm,
}

impl ChatSource {
    pub const WIRE_NAMES: &'static [&'static str] =
        &["openAi", "azureOpenAi", "mistral", "gemini", "vLlm"];

    fn parse(name: &str) -> Option<ChatSource> {
        Some(match name {
            "openAi" => ChatSource::OpenAi,
            "azureOpenAi" => ChatSource::AzureOpenAi,
            "mistral" => ChatSource::Mistral,
            "gemini" => ChatSource::Gemini,
            "vLlm" => ChatSource::VLlm,
            _ => return None,
        })
    }

    /// Where the provider answers when the workspace sets no `baseUrl`.
    pub fn default_base_url(self) -> Option<&'static str> {
        match self {
            ChatSource::OpenAi => Some("https://api.openai.com/v1"),
            ChatSource::Mistral => Some("https://api.mistral.ai/v1"),
            ChatSource::Gemini => Some("https://generativelanguage.googleapis.com/v1beta/openai"),
            ChatSource::AzureOpenAi | ChatSource::VLlm => None,
        }
    }
}

/// Default instructions given to the model before the conversation.
pub const DEFAULT_SYSTEM_PROMPT: &str = "You are a research assistant that answers from the documents of a search engine. \
Search before answering, with several short queries worded differently when the question is broad, and base your answer \
only on what the searches return. Filters use the `=` operator, not `:`; leave `q` or `filter` empty when they are not \
needed. When a search fails, read its error and try again.";
/// Default description of the search tool.
pub const DEFAULT_SEARCH_DESCRIPTION_PROMPT: &str =
    "Searches the documents of one index and returns the best matches as text. The indexes are:";
/// Default description of the tool's `q` parameter.
pub const DEFAULT_SEARCH_Q_PARAM_PROMPT: &str = "The words to search for: keywords or a short phrase describing what the user wants. An empty string matches every document.";
/// Default description of the tool's `filter` parameter (the filterable fields are appended).
pub const DEFAULT_SEARCH_FILTER_PARAM_PROMPT: &str = "A filter expression narrowing the search, for example `year > 2000 AND genres = Drama`. It supports parentheses, `=`, `!=`, `>`, `>=`, `<`, `<=`, `TO`, `IN`, `NOT IN`, `EXISTS`, `IS NULL`, `IS EMPTY`, `AND`, `OR` and `NOT`. Leave it empty to search every document. The fields that can be filtered, with some of their values:";
/// Default description of the tool's `index_uid` parameter.
pub const DEFAULT_SEARCH_INDEX_UID_PARAM_PROMPT: &str =
    "The index to search: pick the one whose description fits the question.";

/// The prompts of a workspace; each falls back to its default when reset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ChatPrompts {
    pub system: String,
    pub search_description: String,
    pub search_q_param: String,
    pub search_filter_param: String,
    pub search_index_uid_param: String,
}

impl Default for ChatPrompts {
    fn default() -> Self {
        ChatPrompts {
            system: DEFAULT_SYSTEM_PROMPT.into(),
            search_description: DEFAULT_SEARCH_DESCRIPTION_PROMPT.into(),
            search_q_param: DEFAULT_SEARCH_Q_PARAM_PROMPT.into(),
            search_filter_param: DEFAULT_SEARCH_FILTER_PARAM_PROMPT.into(),
            search_index_uid_param: DEFAULT_SEARCH_INDEX_UID_PARAM_PROMPT.into(),
        }
    }
}

/// A workspace's settings as stored (the API key in full) and, through [`Self::view`], as
/// shown (the API key hidden).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ChatWorkspaceSettings {
    pub source: ChatSource,
    pub org_id: Option<String>,
    pub project_id: Option<String>,
    pub api_version: Option<String>,
    pub deployment_id: Option<String>,
    pub base_url: Option<String>,
    pub api_key: Option<String>,
    pub prompts: ChatPrompts,
}

/// The fields of a workspace settings body, in the order Meilisearch lists them.
const WORKSPACE_FIELDS: &[&str] = &[
    "source",
    "orgId",
    "projectId",
    "apiVersion",
    "deploymentId",
    "baseUrl",
    "apiKey",
    "prompts",
];

const PROMPT_FIELDS: &[&str] = &[
    "system",
    "searchDescription",
    "searchQParam",
    "searchFilterParam",
    "searchIndexUidParam",
];

/// Applies a string-or-null field of a `PATCH`: `null` resets to `reset`.
fn patch_string<T>(
    slot: &mut T,
    value: &Value,
    code: Code,
    path: &str,
    set: impl FnOnce(String) -> T,
    reset: impl FnOnce() -> T,
) -> Result<(), ResponseError> {
    *slot = match value {
        Value::Null => reset(),
        other => set(decode_string(other, code, path)?),
    };
    Ok(())
}

impl ChatWorkspaceSettings {
    /// Applies a `PATCH /chats/{workspace}/settings` body: given fields replace, `null` resets
    /// a field (a prompt to its default), missing fields are kept. The result is checked as
    /// Meilisearch checks it (Azure needs `baseUrl`, `deploymentId` and `apiVersion`, vLLM a
    /// `baseUrl`).
    pub fn patch(&self, body: &Value) -> Result<ChatWorkspaceSettings, ResponseError> {
        let object = expect_object(body, Code::BadRequest, "")?;
        let mut next = self.clone();
        for_each_field(
            Code::BadRequest,
            object,
            "",
            WORKSPACE_FIELDS,
            |name, value, path| {
                let optional = |slot: &mut Option<String>, code| {
                    patch_string(slot, value, code, path, Some, || None)
                };
                match name {
                    "source" => {
                        next.source = match value {
                            Value::Null => ChatSource::default(),
                            other => {
                                let name =
                                    decode_string(other, Code::InvalidChatCompletionSource, path)?;
                                ChatSource::parse(&name).ok_or_else(|| {
                                    unknown_value(
                                        Code::InvalidChatCompletionSource,
                                        path,
                                        &name,
                                        ChatSource::WIRE_NAMES,
                                    )
                                })?
                            }
                        }
                    }
                    "orgId" => optional(&mut next.org_id, Code::InvalidChatCompletionOrgId)?,
                    "projectId" => {
                        optional(&mut next.project_id, Code::InvalidChatCompletionProjectId)?
                    }
                    "apiVersion" => {
                        optional(&mut next.api_version, Code::InvalidChatCompletionApiVersion)?
                    }
                    "deploymentId" => optional(
                        &mut next.deployment_id,
                        Code::InvalidChatCompletionDeploymentId,
                    )?,
                    "baseUrl" => optional(&mut next.base_url, Code::InvalidChatCompletionBaseApi)?,
                    "apiKey" => optional(&mut next.api_key, Code::InvalidChatCompletionApiKey)?,
                    "prompts" => next.prompts = patch_prompts(&next.prompts, value, path)?,
                    _ => unreachable!("for_each_field only hands known names"),
                }
                Ok(())
            },
        )?;
        next.validate()?;
        Ok(next)
    }

    fn validate(&self) -> Result<(), ResponseError> {
        match self.source {
            ChatSource::AzureOpenAi
                if self.base_url.is_none()
                    || self.deployment_id.is_none()
                    || self.api_version.is_none() =>
            {
                Err(ResponseError::new(
                    Code::BadRequest,
                    "azureOpenAi requires setting a valid `baseUrl`, `deploymentId`, and `apiVersion`",
                ))
            }
            ChatSource::VLlm if self.base_url.is_none() => Err(ResponseError::new(
                Code::BadRequest,
                "vLlm requires setting a valid `baseUrl`",
            )),
            _ => Ok(()),
        }
    }

    /// The settings as the API shows them: the API key cut to a few characters.
    pub fn view(&self) -> Value {
        let mut shown = self.clone();
        shown.api_key = shown.api_key.as_deref().map(hide_secret);
        serde_json::to_value(shown).unwrap_or(Value::Null)
    }
}

fn patch_prompts(
    current: &ChatPrompts,
    value: &Value,
    path: &str,
) -> Result<ChatPrompts, ResponseError> {
    let object = match value {
        Value::Null => return Ok(ChatPrompts::default()),
        other => expect_object(other, Code::InvalidChatCompletionPrompts, path)?,
    };
    let mut next = current.clone();
    let defaults = ChatPrompts::default();
    for_each_field(
        Code::InvalidChatCompletionPrompts,
        object,
        path,
        PROMPT_FIELDS,
        |name, value, path| {
            let (slot, default, code) = match name {
                "system" => (
                    &mut next.system,
                    &defaults.system,
                    Code::InvalidChatCompletionSystemPrompt,
                ),
                "searchDescription" => (
                    &mut next.search_description,
                    &defaults.search_description,
                    Code::InvalidChatCompletionSearchDescriptionPrompt,
                ),
                "searchQParam" => (
                    &mut next.search_q_param,
                    &defaults.search_q_param,
                    Code::InvalidChatCompletionSearchQueryParamPrompt,
                ),
                "searchFilterParam" => (
                    &mut next.search_filter_param,
                    &defaults.search_filter_param,
                    Code::InvalidChatCompletionSearchFilterParamPrompt,
                ),
                "searchIndexUidParam" => (
                    &mut next.search_index_uid_param,
                    &defaults.search_index_uid_param,
                    Code::InvalidChatCompletionSearchIndexUidParamPrompt,
                ),
                _ => unreachable!("for_each_field only hands known names"),
            };
            patch_string(slot, value, code, path, |s| s, || default.clone())
        },
    )?;
    Ok(next)
}

/// A secret shown as Meilisearch shows provider keys: nothing of a short one, then 2, 3 or 5
/// leading characters as it grows.
pub fn hide_secret(secret: &str) -> String {
    let length = secret.chars().count();
    let (kept, mask) = match length {
        0..=9 => (0, "XXX..."),
        10..=19 => (2, "XXXX..."),
        20..=29 => (3, "XXXXX..."),
        _ => (5, "XXXXXX..."),
    };
    let start: String = secret.chars().take(kept).collect();
    format!("{start}{mask}")
}

/// A change to an index's `chat` settings key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChatIndexSettings {
    pub description: Setting<String>,
    pub document_template: Setting<String>,
    pub document_template_max_bytes: Setting<usize>,
    /// Each search parameter Set, or Reset (removed) with `null`.
    pub search_parameters: Setting<Map<String, Value>>,
}

const CHAT_FIELDS: &[&str] = &[
    "description",
    "documentTemplate",
    "documentTemplateMaxBytes",
    "searchParameters",
];

/// The search parameters an index's chat searches may preset.
pub const CHAT_SEARCH_PARAMETERS: &[&str] = &[
    "hybrid",
    "limit",
    "sort",
    "distinct",
    "matchingStrategy",
    "attributesToSearchOn",
    "rankingScoreThreshold",
];

impl ChatIndexSettings {
    /// Decodes the value of the `chat` key (an object; `null` is handled by the caller).
    pub fn decode(value: &Value, path: &str) -> Result<ChatIndexSettings, ResponseError> {
        let code = Code::InvalidSettingsChat;
        let object = expect_object(value, code, path)?;
        let mut out = ChatIndexSettings::default();
        let string = |v: &Value, path: &str| match v {
            Value::Null => Ok(Setting::Reset),
            other => decode_string(other, code, path).map(Setting::Set),
        };
        for_each_field(code, object, path, CHAT_FIELDS, |name, v, path| {
            match name {
                "description" => out.description = string(v, path)?,
                "documentTemplate" => out.document_template = string(v, path)?,
                "documentTemplateMaxBytes" => {
                    out.document_template_max_bytes = match v {
                        Value::Null => Setting::Reset,
                        other => match decode_usize(other, code, path)? {
                            0 => {
                                return Err(invalid_value(
                                    code,
                                    path,
                                    "expected a non-zero integer",
                                ))
                            }
                            n => Setting::Set(n),
                        },
                    }
                }
                "searchParameters" => {
                    out.search_parameters = match v {
                        Value::Null => Setting::Reset,
                        other => Setting::Set(decode_search_parameters(other, path)?),
                    }
                }
                _ => unreachable!("for_each_field only hands known names"),
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The change as task details show it.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(value) = value {
                out.insert(key.to_string(), value);
            }
        };
        let of = |s: &Setting<String>| match s {
            Setting::Set(v) => Some(Value::String(v.clone())),
            Setting::Reset => Some(Value::Null),
            Setting::NotSet => None,
        };
        put("description", of(&self.description));
        put("documentTemplate", of(&self.document_template));
        put(
            "documentTemplateMaxBytes",
            match self.document_template_max_bytes {
                Setting::Set(n) => Some(n.into()),
                Setting::Reset => Some(Value::Null),
                Setting::NotSet => None,
            },
        );
        put(
            "searchParameters",
            match &self.search_parameters {
                Setting::Set(map) => Some(Value::Object(map.clone())),
                Setting::Reset => Some(Value::Null),
                Setting::NotSet => None,
            },
        );
        Value::Object(out)
    }
}

/// Checks each preset search parameter's type; `null` (remove the parameter) is kept as is.
fn decode_search_parameters(
    value: &Value,
    path: &str,
) -> Result<Map<String, Value>, ResponseError> {
    let code = Code::InvalidSettingsChat;
    let object = expect_object(value, code, path)?;
    for_each_field(
        code,
        object,
        path,
        CHAT_SEARCH_PARAMETERS,
        |name, v, path| {
            if v.is_null() {
                return Ok(());
            }
            match name {
                "limit" => drop(decode_usize(v, code, path)?),
                "sort" | "attributesToSearchOn" => drop(decode_string_list(v, code, path)?),
                "distinct" => drop(decode_string(v, code, path)?),
                "matchingStrategy" => {
                    let strategy = decode_string(v, code, path)?;
                    if !["last", "all", "frequency"].contains(&strategy.as_str()) {
                        return Err(unknown_value(
                            code,
                            path,
                            &strategy,
                            &["last", "all", "frequency"],
                        ));
                    }
                }
                "rankingScoreThreshold" => {
                    let threshold = decode_f64(v, code, path)?;
                    if !(0.0..=1.0).contains(&threshold) {
                        return Err(invalid_value(code, path, "the value of `rankingScoreThreshold` is invalid, expected a float between `0.0` and `1.0`."));
                    }
                }
                "hybrid" => {
                    let hybrid = expect_object(v, code, path)?;
                    for_each_field(
                        code,
                        hybrid,
                        path,
                        &["embedder", "semanticRatio"],
                        |name, v, path| {
                            match name {
                                "embedder" => drop(decode_string(v, code, path)?),
                                _ => {
                                    let ratio = decode_f64(v, code, path)?;
                                    if !(0.0..=1.0).contains(&ratio) {
                                        return Err(invalid_value(code, path, "the value of `semanticRatio` is invalid, expected a float between `0.0` and `1.0`."));
                                    }
                                }
                            }
                            Ok(())
                        },
                    )?;
                }
                _ => unreachable!("for_each_field only hands known names"),
            }
            Ok(())
        },
    )?;
    Ok(object.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn workspace_patch_merges_resets_and_validates() {
        let base = ChatWorkspaceSettings::default();
        let next = base
            .patch(&json!({"source": "mistral", "apiKey": "sk-0123456789abcdefghijklmnop", "prompts": {"system": "Be brief."}}))
            .unwrap();
        assert_eq!(next.source, ChatSource::Mistral);
        assert_eq!(next.prompts.system, "Be brief.");
        assert_eq!(next.prompts.search_q_param, DEFAULT_SEARCH_Q_PARAM_PROMPT);
        let view = next.view();
        assert_eq!(view["apiKey"], "sk-XXXXX...");
        assert_eq!(view["orgId"], Value::Null);
        let reset = next
            .patch(&json!({"prompts": {"system": null}, "apiKey": null}))
            .unwrap();
        assert_eq!(reset.prompts.system, DEFAULT_SYSTEM_PROMPT);
        assert_eq!(reset.api_key, None);

        let cases: &[(Value, Code, &str)] = &[
            (json!({"source": "claude"}), Code::InvalidChatCompletionSource, "Unknown value `claude` at `.source`: expected one of `openAi`, `azureOpenAi`, `mistral`, `gemini`, `vLlm`"),
            (json!({"orgId": 1}), Code::InvalidChatCompletionOrgId, ""),
            (json!({"apiKey": []}), Code::InvalidChatCompletionApiKey, ""),
            (json!({"baseUrl": true}), Code::InvalidChatCompletionBaseApi, ""),
            (json!({"prompts": {"system": 3}}), Code::InvalidChatCompletionSystemPrompt, ""),
            (json!({"prompts": {"searchQParam": 3}}), Code::InvalidChatCompletionSearchQueryParamPrompt, ""),
            (json!({"prompts": {"other": "x"}}), Code::InvalidChatCompletionPrompts, ""),
            (json!({"prompts": "x"}), Code::InvalidChatCompletionPrompts, ""),
            (json!({"model": "x"}), Code::BadRequest, ""),
            (json!({"source": "vLlm"}), Code::BadRequest, "vLlm requires setting a valid `baseUrl`"),
            (json!({"source": "azureOpenAi", "baseUrl": "http://x"}), Code::BadRequest, "azureOpenAi requires setting a valid `baseUrl`, `deploymentId`, and `apiVersion`"),
        ];
        for (body, code, message) in cases {
            let err = base.patch(body).unwrap_err();
            assert_eq!(err.code, *code, "{body}: {}", err.message);
            if !message.is_empty() {
                assert_eq!(err.message, *message);
            }
        }
    }

    #[test]
    fn secrets_are_hidden_by_length() {
        assert_eq!(hide_secret("short"), "XXX...");
        assert_eq!(hide_secret("0123456789"), "01XXXX...");
        assert_eq!(hide_secret("01234567890123456789"), "012XXXXX...");
        assert_eq!(
            hide_secret("012345678901234567890123456789"),
            "01234XXXXXX..."
        );
    }

    #[test]
    fn index_chat_settings_decode() {
        let ok = ChatIndexSettings::decode(
            &json!({"description": "Movies", "documentTemplateMaxBytes": 100, "searchParameters": {"limit": 5, "sort": null}}),
            ".chat",
        )
        .unwrap();
        assert_eq!(ok.description, Setting::Set("Movies".into()));
        assert_eq!(ok.document_template_max_bytes, Setting::Set(100));
        assert_eq!(
            ok.to_json()["searchParameters"],
            json!({"limit": 5, "sort": null})
        );
        for body in [
            json!({"foo": 1}),
            json!({"description": 1}),
            json!({"documentTemplateMaxBytes": 0}),
            json!({"searchParameters": {"limit": -1}}),
            json!({"searchParameters": {"matchingStrategy": "some"}}),
            json!({"searchParameters": {"rankingScoreThreshold": 2}}),
            json!({"searchParameters": {"q": "x"}}),
            json!({"searchParameters": {"hybrid": {"semanticRatio": 3}}}),
        ] {
            let err = ChatIndexSettings::decode(&body, ".chat").unwrap_err();
            assert_eq!(err.code, Code::InvalidSettingsChat, "{body}");
        }
    }
}
