//! Why a policy is refused.

/// Why a policy text (or a set of them) is refused. The code is what the API answers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The id is empty, too long, or holds whitespace or control characters.
    #[error(
        "策略编号无效：{id:?} (a policy id is 1 to 128 characters without whitespace or control \
         characters)"
    )]
    InvalidId {
        /// The id given.
        id: String,
    },
    /// The text is not Cedar.
    #[error("策略 {id} 无法解析 (policy {id} does not parse): {}", .problems.join("; "))]
    Parse {
        /// The id given.
        id: String,
        /// Each parse error, with its hint when Cedar has one.
        problems: Vec<String>,
    },
    /// The text holds no policy.
    #[error("策略 {id} 不含任何策略 (the text of policy {id} holds no policy)")]
    Empty {
        /// The id given.
        id: String,
    },
    /// The text holds a template (`?principal`, `?resource`); only static policies are
    /// supported.
    #[error(
        "策略 {id} 是模板，不支持 (policy {id} is a template with ?principal or ?resource slots; \
         only static policies are supported)"
    )]
    Template {
        /// The id given.
        id: String,
    },
    /// A shipped policy without its `@id` annotation (a bug in the shipped files).
    #[error("默认策略文件 {file} 中有策略缺少 @id 注解 (a default policy in {file} has no @id)")]
    MissingId {
        /// The file stem.
        file: String,
    },
    /// The policies do not validate against the schema (strict mode).
    #[error(
        "策略不符合模式 (the policies do not validate against the schema): {}",
        .problems.join("; ")
    )]
    Invalid {
        /// Each problem, naming its policy id.
        problems: Vec<String>,
    },
    /// Two policies with one id.
    #[error("策略编号已存在：{id} (a policy with this id exists)")]
    Duplicate {
        /// The id.
        id: String,
    },
}

impl PolicyError {
    /// The API error code: `duplicate_policy` for a taken id, else `invalid_policy`.
    pub fn code(&self) -> &'static str {
        match self {
            PolicyError::Duplicate { .. } => "duplicate_policy",
            PolicyError::InvalidId { .. }
            | PolicyError::Parse { .. }
            | PolicyError::Empty { .. }
            | PolicyError::Template { .. }
            | PolicyError::MissingId { .. }
            | PolicyError::Invalid { .. } => "invalid_policy",
        }
    }
}
