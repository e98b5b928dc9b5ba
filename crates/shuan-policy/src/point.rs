//! The policy point: the schema, the default and custom policies, and `decide`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use cedar_policy::{
    ActionConstraint, AuthorizationError, Authorizer, Context, Decision as CedarDecision, Effect,
    Entities, Entity, EntityId, EntityTypeName, EntityUid, Policy, PolicyId, PolicySet, Request,
    RestrictedExpression, Schema, ValidationMode, Validator,
};
use miette::Diagnostic;
use shuan_access::Role;

use crate::cache::{UserCache, UserKey};
use crate::{Action, EffectiveGrant, PolicyError};

const SCHEMA: &str = include_str!("../policies/shuan.cedarschema");

/// The shipped policies, one file per role plus the rules for everyone.
const DEFAULTS: &[(&str, &str)] = &[
    (
        "system_admin",
        include_str!("../policies/system_admin.cedar"),
    ),
    (
        "security_admin",
        include_str!("../policies/security_admin.cedar"),
    ),
    ("auditor", include_str!("../policies/auditor.cedar")),
    (
        "chief_data_officer",
        include_str!("../policies/chief_data_officer.cedar"),
    ),
    (
        "data_steward",
        include_str!("../policies/data_steward.cedar"),
    ),
    ("data_user", include_str!("../policies/data_user.cedar")),
    (
        "vendor_operator",
        include_str!("../policies/vendor_operator.cedar"),
    ),
    ("supervisor", include_str!("../policies/supervisor.cedar")),
    ("rules", include_str!("../policies/rules.cedar")),
];

/// The longest policy id accepted.
const MAX_ID_CHARS: usize = 128;

/// The schema's validator, parsed once per process.
fn validator() -> &'static Validator {
    static VALIDATOR: OnceLock<Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        #[allow(clippy::expect_used)]
        let (schema, _warnings) = Schema::from_cedarschema_str(SCHEMA)
            .expect("the shipped schema parses (checked by the crate's tests)");
        Validator::new(schema)
    })
}

/// The attribute of `User` holding the departments a role's grants reach.
pub(crate) fn scope_attribute(role: Role) -> &'static str {
    match role {
        Role::SystemAdmin => "scope_system_admin",
        Role::SecurityAdmin => "scope_security_admin",
        Role::Auditor => "scope_auditor",
        Role::ChiefDataOfficer => "scope_chief_data_officer",
        Role::DataSteward => "scope_data_steward",
        Role::DataUser => "scope_data_user",
        Role::VendorOperator => "scope_vendor_operator",
        Role::Supervisor => "scope_supervisor",
    }
}

/// Who asks: the account and its grants (standing and elevated), already expanded.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The user name (the Cedar `User` id).
    pub username: String,
    /// The account's own department.
    pub department: String,
    /// A vendor's account.
    pub vendor: bool,
    /// Standing grants and those of approved elevations (`elevated`).
    pub grants: Vec<EffectiveGrant>,
}

impl Principal {
    /// Whether a decision for this principal reads the resource's ancestors: only a
    /// 本部门及以下 scope does, so the caller can skip looking them up otherwise.
    pub fn needs_ancestors(&self) -> bool {
        self.grants.iter().any(EffectiveGrant::needs_ancestors)
    }
}

/// The id of the marker that a 本部门及以下 scope anchored at `code` puts in a scope set.
fn subtree_marker(code: &str) -> String {
    format!("{code}{SUBTREE_SUFFIX}")
}

/// Appended to a department code for its subtree marker. Department codes never hold
/// `/` (the server accepts letters, digits, `_ . -`).
const SUBTREE_SUFFIX: &str = "/*";

/// The id of the marker of the 全部 scope.
const ALL_MARKER: &str = "*";

/// What the action is done to.
#[derive(Debug, Clone, Default)]
pub struct Resource {
    /// `department`, `user`, `grant`, `api_key`, `policy`, `settings`, `audit`,
    /// `elevation`, `inventory`, `catalogue`, `job`, `key`, `backup`, `session`.
    pub kind: String,
    /// Its id within the kind.
    pub id: String,
    /// The department it belongs to; `None` for platform-wide resources, which need only
    /// the role.
    pub department: Option<String>,
    /// The account it belongs to (the requester of an elevation, a session's user …).
    pub owner: Option<String>,
    /// The departments above `department`, nearest first. Needed only when the
    /// principal holds a 本部门及以下 scope ([`Principal::needs_ancestors`]); without
    /// them such a scope reaches only its own department, never more.
    pub ancestors: Vec<String>,
}

/// One question to the policy point.
#[derive(Debug, Clone, Copy)]
pub struct AccessRequest<'a> {
    /// Who asks.
    pub principal: &'a Principal,
    /// What for.
    pub action: Action,
    /// On what.
    pub resource: &'a Resource,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Allowed.
    pub allowed: bool,
    /// Ids of the policies that decided: the permits that allowed, or the forbids that
    /// denied (empty when nothing permitted).
    pub policies: Vec<String>,
    /// Allowed only thanks to the principal's elevated grants.
    pub via_elevation: bool,
    /// Why, in Chinese and English. A denial starts with `没有权限：` and says which role
    /// and data scope would allow it.
    pub explanation: String,
    /// Evaluation errors, each naming its policy. An error never allows.
    pub errors: Vec<String>,
}

/// What the roles of the policy set allow for one action, found at construction by asking
/// Cedar (so the explanations follow the policies, custom ones included).
#[derive(Debug, Clone, Default)]
struct Hint {
    /// Roles one of whose grants (reaching the resource's department) allows it.
    roles: Vec<Role>,
    /// Allowed to anyone on a resource they own.
    own: bool,
}

struct Inner {
    /// Every policy in force.
    policies: PolicySet,
    /// Per [`Action::index`]: the policies whose action scope can match that action, with
    /// that scope widened to any action. The others are false for it before their
    /// conditions are read (Cedar checks the scope first and `&&` short-circuits), so
    /// leaving them out changes no decision, reason or error; Cedar evaluates every policy
    /// it is given, and builds a listed scope's set each time, so this keeps `decide` fast.
    slices: Vec<PolicySet>,
    /// Per [`Action::index`], per role (in [`Role::ALL`] order): whether any policy of the
    /// slice names that role's `scope_<role>` attribute. An attribute no policy names
    /// cannot change a decision, so it is not built (each is a set Cedar evaluates).
    scopes_read: Vec<[bool; 8]>,
    /// Per [`Action::index`]: whether a condition of the slice reads `action` (e.g.
    /// `action in Action::"read_only"`); only then does the request carry the action's
    /// entity with its groups (each entity handed to Cedar costs a closure computation).
    reads_action: Vec<bool>,
    authorizer: Authorizer,
    user_type: EntityTypeName,
    department_type: EntityTypeName,
    resource_type: EntityTypeName,
    /// Per [`Action::index`]: the Cedar action and its entity (with its groups).
    actions: Vec<(EntityUid, Entity)>,
    /// The context for a standing (`[0]`) and an elevated (`[1]`) decision.
    contexts: [Context; 2],
    /// Per [`Action::index`].
    hints: Vec<Hint>,
    /// Principals' entities from earlier requests.
    users: UserCache,
}

/// The policy point: default policies (files) + custom ones. Clone is cheap (Arc); Send +
/// Sync.
#[derive(Clone)]
pub struct PolicyPoint {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for PolicyPoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyPoint")
            .field("policies", &self.inner.policies.num_of_policies())
            .finish()
    }
}

/// One Cedar evaluation.
struct Outcome {
    allowed: bool,
    policies: Vec<String>,
    errors: Vec<String>,
    /// A forbid whose evaluation failed turned an allow into a denial.
    forbid_errored: Vec<String>,
}

impl PolicyPoint {
    /// The default policies plus `custom` (id, Cedar text), all validated against the
    /// schema in strict mode. A text holding several policies gets ids `id#1`, `id#2` …
    /// (an `@id` annotation inside a custom text is kept but does not name the policy).
    /// Ids are unique across the defaults and the custom texts.
    pub fn new(custom: &[(String, String)]) -> Result<PolicyPoint, PolicyError> {
        let mut set = PolicySet::new();
        for (file, text) in DEFAULTS {
            for policy in parse_defaults(file, text)? {
                add(&mut set, policy)?;
            }
        }
        for (id, text) in custom {
            for policy in parse_custom(id, text)? {
                add(&mut set, policy)?;
            }
        }
        check(&set)?;

        let schema = validator().schema();
        let name = |n: &str| {
            #[allow(clippy::expect_used)]
            EntityTypeName::from_str(n).expect("a plain entity type name parses")
        };
        #[allow(clippy::expect_used)]
        let action_entities = schema
            .action_entities()
            .expect("the shipped schema's actions form entities (tested)");
        let action_type = name("Action");
        let actions: Vec<(EntityUid, Entity)> = Action::ALL
            .iter()
            .map(|a| {
                let uid =
                    EntityUid::from_type_name_and_id(action_type.clone(), EntityId::new(a.id()));
                let entity = action_entities
                    .get(&uid)
                    .cloned()
                    .unwrap_or_else(|| Entity::with_uid(uid.clone()));
                (uid, entity)
            })
            .collect();
        let context = |elevated| {
            #[allow(clippy::expect_used)]
            Context::from_pairs([(
                "elevated".to_string(),
                RestrictedExpression::new_bool(elevated),
            )])
            .expect("a one-boolean context")
        };
        let mut slices = Vec::with_capacity(Action::ALL.len());
        let mut scopes_read = Vec::with_capacity(Action::ALL.len());
        let mut reads_action = Vec::with_capacity(Action::ALL.len());
        for (uid, _) in &actions {
            let groups: Vec<&EntityUid> = action_entities
                .ancestors(uid)
                .map(|a| a.collect())
                .unwrap_or_default();
            let mut slice = PolicySet::new();
            let mut read = [false; 8];
            let mut action_read = false;
            for policy in set.policies() {
                let applies = match policy.action_constraint() {
                    ActionConstraint::Any => true,
                    ActionConstraint::Eq(a) => &a == uid,
                    ActionConstraint::In(list) => {
                        list.iter().any(|a| a == uid || groups.contains(&a))
                    }
                };
                if applies {
                    let text = policy.to_string();
                    for (i, role) in Role::ALL.into_iter().enumerate() {
                        read[i] |= text.contains(scope_attribute(role));
                    }
                    action_read |= conditions_read_action(policy);
                    // The ids are unique in `set`, so adding cannot fail.
                    let _ = slice.add(any_action(policy));
                }
            }
            slices.push(slice);
            scopes_read.push(read);
            reads_action.push(action_read);
        }
        let mut point = PolicyPoint {
            inner: Arc::new(Inner {
                policies: set,
                slices,
                scopes_read,
                reads_action,
                authorizer: Authorizer::new(),
                user_type: name("User"),
                department_type: name("Department"),
                resource_type: name("Resource"),
                actions,
                contexts: [context(false), context(true)],
                hints: Vec::new(),
                users: UserCache::default(),
            }),
        };
        let hints = point.probe();
        if let Some(inner) = Arc::get_mut(&mut point.inner) {
            inner.hints = hints;
        }
        Ok(point)
    }

    /// Parses `text` as one or more policies and validates them against the schema
    /// (strict mode), without adding them. Returns how many policies the text holds.
    /// Errors name each problem and the policy it is in.
    pub fn validate(id: &str, text: &str) -> Result<usize, PolicyError> {
        let policies = parse_custom(id, text)?;
        let count = policies.len();
        let mut set = PolicySet::new();
        for policy in policies {
            add(&mut set, policy)?;
        }
        check(&set)?;
        Ok(count)
    }

    /// The Cedar schema policies are validated against.
    pub fn schema_text() -> &'static str {
        SCHEMA
    }

    /// The shipped policies: (file stem, Cedar text).
    pub fn default_policies() -> Vec<(&'static str, &'static str)> {
        DEFAULTS.to_vec()
    }

    /// Ids of every policy in force, sorted.
    pub fn policy_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .inner
            .policies
            .policies()
            .map(|p| p.id().to_string())
            .collect();
        ids.sort();
        ids
    }

    /// Decides one request: first with the principal's standing grants; if that denies
    /// and the principal has elevated grants, again with all of them (`via_elevation`).
    pub fn decide(&self, request: &AccessRequest<'_>) -> Decision {
        let principal = request.principal;
        let standing = self.evaluate(request, false, true);
        if standing.allowed || !principal.grants.iter().any(|g| g.elevated) {
            return self.finish(request, standing, false);
        }
        let mut elevated = self.evaluate(request, true, true);
        for e in standing.errors {
            if !elevated.errors.contains(&e) {
                elevated.errors.push(e);
            }
        }
        let via = elevated.allowed;
        self.finish(request, elevated, via)
    }

    /// One Cedar evaluation with the standing grants, or with all of them; `cached`: keep
    /// the principal's entity for the next request.
    fn evaluate(&self, request: &AccessRequest<'_>, with_elevated: bool, cached: bool) -> Outcome {
        let inner = &*self.inner;
        let built = self.request(request, with_elevated, cached);
        let (cedar_request, entities) = match built {
            Ok(built) => built,
            Err(e) => {
                return Outcome {
                    allowed: false,
                    policies: Vec::new(),
                    errors: vec![e],
                    forbid_errored: Vec::new(),
                }
            }
        };
        let slice = &inner.slices[request.action.index()];
        let response = inner
            .authorizer
            .is_authorized(&cedar_request, slice, &entities);
        let diagnostics = response.diagnostics();
        let mut policies: Vec<String> = diagnostics.reason().map(|id| id.to_string()).collect();
        policies.sort();
        let mut errors = Vec::new();
        let mut forbid_errored = Vec::new();
        for error in diagnostics.errors() {
            let AuthorizationError::PolicyEvaluationError(e) = error;
            let id = e.policy_id();
            errors.push(error.to_string());
            if slice
                .policy(id)
                .is_some_and(|p| p.effect() == Effect::Forbid)
            {
                forbid_errored.push(id.to_string());
            }
        }
        // Cedar skips a policy whose evaluation fails; for a forbid that could allow what
        // the forbid would have denied. Fail closed instead.
        let allowed = response.decision() == CedarDecision::Allow && forbid_errored.is_empty();
        Outcome {
            allowed,
            policies,
            errors,
            forbid_errored,
        }
    }

    /// The Cedar request and entities: the principal with the grants considered, the
    /// resource, and the action with its groups.
    fn request(
        &self,
        request: &AccessRequest<'_>,
        with_elevated: bool,
        cached: bool,
    ) -> Result<(Request, Entities), String> {
        let (user, resource, action) = self.entities(request, with_elevated, cached)?;
        let inner = &*self.inner;
        let (action_uid, _) = &inner.actions[request.action.index()];
        let cedar_request = Request::new(
            user.uid(),
            action_uid.clone(),
            resource.uid(),
            inner.contexts[usize::from(with_elevated)].clone(),
            None,
        )
        .map_err(|e| format!("请求无法构造 (the request could not be built): {e}"))?;
        let action = inner.reads_action[request.action.index()].then_some(action);
        let department = self.department_entity(request.resource);
        let entities = Entities::from_entities(
            [Some(user), Some(resource), action, department]
                .into_iter()
                .flatten(),
            None,
        )
        .map_err(|e| format!("实体无法构造 (the entities could not be built): {e}"))?;
        Ok((cedar_request, entities))
    }

    /// The three entities of a request, unchecked (what the schema says is checked by
    /// the crate's tests, not per call).
    pub(crate) fn entities(
        &self,
        request: &AccessRequest<'_>,
        with_elevated: bool,
        cached: bool,
    ) -> Result<(Entity, Entity, Entity), String> {
        let inner = &*self.inner;
        let principal = request.principal;
        let resource = request.resource;
        let department = |code: &str| {
            EntityUid::from_type_name_and_id(inner.department_type.clone(), EntityId::new(code))
        };
        let user_uid = |name: &str| {
            EntityUid::from_type_name_and_id(inner.user_type.clone(), EntityId::new(name))
        };

        let scopes_read = inner.scopes_read[request.action.index()];
        let scopes = scopes_read
            .iter()
            .enumerate()
            .fold(0u8, |bits, (i, &read)| bits | (u8::from(read) << i));
        let key = UserKey {
            principal,
            with_elevated,
            scopes,
        };
        let build = || self.user(principal, with_elevated, scopes_read);
        let user = if cached {
            inner.users.get_or_build(key, build)?
        } else {
            build()?
        };

        let mut attrs = vec![
            (
                "kind".to_string(),
                RestrictedExpression::new_string(resource.kind.clone()),
            ),
            (
                "id".to_string(),
                RestrictedExpression::new_string(resource.id.clone()),
            ),
        ];
        if let Some(d) = &resource.department {
            attrs.push((
                "department".to_string(),
                RestrictedExpression::new_entity_uid(department(d)),
            ));
        }
        if let Some(owner) = &resource.owner {
            attrs.push((
                "owner".to_string(),
                RestrictedExpression::new_entity_uid(user_uid(owner)),
            ));
        }
        let resource_uid = EntityUid::from_type_name_and_id(
            inner.resource_type.clone(),
            EntityId::new(format!("{}:{}", resource.kind, resource.id)),
        );
        let resource = Entity::new_with_tags(resource_uid, attrs, [], []).map_err(|e| {
            format!("对象实体无法构造 (the resource entity could not be built): {e}")
        })?;
        let action = inner.actions[request.action.index()].1.clone();
        Ok((user, resource, action))
    }

    /// The resource's department with its reach markers as parents: `"<d>/*"` for it and
    /// each ancestor, and `"*"` — what makes `resource.department in scope` true for a
    /// scope reaching it. The parents are listed in full, so Cedar's transitive closure
    /// has nothing to walk.
    fn department_entity(&self, resource: &Resource) -> Option<Entity> {
        let inner = &*self.inner;
        let code = resource.department.as_deref()?;
        let uid = |id: String| {
            EntityUid::from_type_name_and_id(inner.department_type.clone(), EntityId::new(id))
        };
        let parents: std::collections::HashSet<EntityUid> = std::iter::once(code)
            .chain(resource.ancestors.iter().map(String::as_str))
            .map(|d| uid(subtree_marker(d)))
            .chain(std::iter::once(uid(ALL_MARKER.to_string())))
            .collect();
        Some(Entity::new_no_attrs(uid(code.to_string()), parents))
    }

    /// The principal's entity: its department, vendor flag, roles and self-only roles held
    /// in the grants considered, and `scope_<role>` for each role held whose attribute a
    /// policy of the slice names.
    fn user(
        &self,
        principal: &Principal,
        with_elevated: bool,
        scopes_read: [bool; 8],
    ) -> Result<Entity, String> {
        let inner = &*self.inner;
        let department = |code: &str| {
            EntityUid::from_type_name_and_id(inner.department_type.clone(), EntityId::new(code))
        };
        let user_uid = |name: &str| {
            EntityUid::from_type_name_and_id(inner.user_type.clone(), EntityId::new(name))
        };
        let grants = || {
            principal
                .grants
                .iter()
                .filter(move |g| with_elevated || !g.elevated)
        };
        let mut roles = Vec::new();
        let mut self_only = Vec::new();
        let mut attrs: Vec<(String, RestrictedExpression)> = Vec::with_capacity(12);
        for (i, role) in Role::ALL.into_iter().enumerate() {
            let mut held = false;
            let mut own = false;
            for g in grants().filter(|g| g.role == role) {
                held = true;
                own |= g.self_only;
            }
            if !held {
                continue;
            }
            roles.push(RestrictedExpression::new_string(role.id().to_string()));
            if own {
                self_only.push(RestrictedExpression::new_string(role.id().to_string()));
            }
            if !scopes_read[i] {
                continue;
            }
            let mut reached: BTreeSet<String> = BTreeSet::new();
            for g in grants().filter(|g| g.role == role) {
                if g.all {
                    reached.insert(ALL_MARKER.to_string());
                }
                reached.extend(g.departments.iter().cloned());
                reached.extend(g.subtrees.iter().map(|d| subtree_marker(d)));
            }
            let reached = reached
                .iter()
                .map(|d| RestrictedExpression::new_entity_uid(department(d)));
            attrs.push((
                scope_attribute(role).to_string(),
                RestrictedExpression::new_set(reached),
            ));
        }
        attrs.push((
            "department".to_string(),
            RestrictedExpression::new_entity_uid(department(&principal.department)),
        ));
        attrs.push((
            "vendor".to_string(),
            RestrictedExpression::new_bool(principal.vendor),
        ));
        attrs.push(("roles".to_string(), RestrictedExpression::new_set(roles)));
        attrs.push((
            "self_only_roles".to_string(),
            RestrictedExpression::new_set(self_only),
        ));
        Entity::new_with_tags(user_uid(&principal.username), attrs, [], [])
            .map_err(|e| format!("主体实体无法构造 (the principal entity could not be built): {e}"))
    }

    /// Asks Cedar, for every action, which single role allows it (on a platform-wide
    /// resource, or on one in a department the role's scope reaches), and whether anyone
    /// may do it on a resource they own.
    fn probe(&self) -> Vec<Hint> {
        const PROBE: &str = "\u{0}probe";
        let nobody = Principal {
            username: PROBE.to_string(),
            department: PROBE.to_string(),
            vendor: false,
            grants: Vec::new(),
        };
        let anything = Resource {
            kind: PROBE.to_string(),
            id: PROBE.to_string(),
            department: None,
            owner: None,
            ancestors: Vec::new(),
        };
        let reached = Resource {
            department: Some(PROBE.to_string()),
            ..anything.clone()
        };
        let own = Resource {
            owner: Some(PROBE.to_string()),
            ..anything.clone()
        };
        Action::ALL
            .iter()
            .map(|&action| {
                let roles = Role::ALL
                    .into_iter()
                    .filter(|&role| {
                        let holder = Principal {
                            grants: vec![EffectiveGrant {
                                role,
                                department: PROBE.to_string(),
                                departments: BTreeSet::from([PROBE.to_string()]),
                                subtrees: BTreeSet::new(),
                                all: false,
                                self_only: false,
                                elevated: false,
                            }],
                            ..nobody.clone()
                        };
                        [&anything, &reached].into_iter().any(|resource| {
                            let request = AccessRequest {
                                principal: &holder,
                                action,
                                resource,
                            };
                            self.evaluate(&request, false, false).allowed
                        })
                    })
                    .collect();
                let request = AccessRequest {
                    principal: &nobody,
                    action,
                    resource: &own,
                };
                let own = self.evaluate(&request, false, false).allowed;
                Hint { roles, own }
            })
            .collect()
    }

    /// The decision with its explanation.
    fn finish(&self, request: &AccessRequest<'_>, outcome: Outcome, via: bool) -> Decision {
        let explanation = if outcome.allowed {
            let by = outcome.policies.join(", ");
            if via {
                format!(
                    "允许：{}，经已批准的提权，依据策略 {by} (allowed through an approved \
                     elevation by policy {by})",
                    request.action
                )
            } else {
                format!(
                    "允许：{}，依据策略 {by} (allowed by policy {by})",
                    request.action
                )
            }
        } else {
            self.denial(request, &outcome)
        };
        Decision {
            allowed: outcome.allowed,
            policies: outcome.policies,
            via_elevation: via && outcome.allowed,
            explanation,
            errors: outcome.errors,
        }
    }

    /// Why a request was denied, and what would allow it.
    fn denial(&self, request: &AccessRequest<'_>, outcome: &Outcome) -> String {
        let inner = &*self.inner;
        let action = request.action;
        let mut out = String::from("没有权限：");
        if !outcome.forbid_errored.is_empty() {
            let ids = outcome.forbid_errored.join(", ");
            let _ = write!(
                out,
                "{action}的禁止策略 {ids} 求值出错，按拒绝处理 (permission denied: the forbid \
                 policy {ids} failed to evaluate, which denies)"
            );
            return out;
        }
        if !outcome.policies.is_empty() {
            // Denied by forbids: say which and why.
            let mut zh = Vec::new();
            let mut en = Vec::new();
            for id in &outcome.policies {
                let reason = inner
                    .policies
                    .annotation(&PolicyId::new(id), "reason")
                    .unwrap_or("");
                let (r_zh, r_en) = split_reason(reason);
                zh.push(format!("策略 {id} 禁止{}", prefixed("：", r_zh)));
                en.push(format!("policy {id} forbids it{}", prefixed(": ", r_en)));
            }
            let _ = write!(
                out,
                "{action}，{} (permission denied: {})",
                zh.join("；"),
                en.join("; ")
            );
            return out;
        }
        let hint = inner.hints.get(action.index()).cloned().unwrap_or_default();
        let held: BTreeSet<Role> = request.principal.grants.iter().map(|g| g.role).collect();
        let department = request.resource.department.as_deref();
        let reach_zh = department
            .map(|d| format!("（其数据范围须包含部门 {d}）"))
            .unwrap_or_default();
        let reach_en = department
            .map(|d| format!(" with a data scope reaching department {d}"))
            .unwrap_or_default();
        let (own_zh, own_en) = if hint.own {
            (
                "；或者对象属于本人",
                "; or the resource is the principal's own",
            )
        } else {
            ("", "")
        };
        if hint.roles.is_empty() {
            if hint.own {
                let _ = write!(
                    out,
                    "{action}只能对本人的对象执行 (permission denied: {} is allowed only on \
                     one's own resources)",
                    action.id()
                );
            } else {
                let _ = write!(
                    out,
                    "没有角色可以执行{action} (permission denied: no role allows {})",
                    action.id()
                );
            }
            return out;
        }
        let needed_zh: Vec<String> = hint.roles.iter().map(|r| r.to_string()).collect();
        let needed_en: Vec<&str> = hint.roles.iter().map(|r| r.id()).collect();
        let _ = write!(
            out,
            "{action}需要以下角色之一{reach_zh}：{}{own_zh}。",
            needed_zh.join("、")
        );
        let short: Vec<&Role> = hint.roles.iter().filter(|r| held.contains(r)).collect();
        let held_en = match (short.is_empty(), department) {
            (false, Some(d)) => {
                let zh: Vec<String> = short.iter().map(|r| r.to_string()).collect();
                let en: Vec<&str> = short.iter().map(|r| r.id()).collect();
                let _ = write!(out, "您的{}授权的数据范围不包含部门 {d}。", zh.join("、"));
                format!(
                    "the grants of {} held do not reach department {d}",
                    en.join(", ")
                )
            }
            _ if held.is_empty() => {
                out.push_str("当前没有任何角色。");
                "no role held".to_string()
            }
            _ => {
                let zh: Vec<String> = held.iter().map(|r| r.to_string()).collect();
                let en: Vec<&str> = held.iter().map(|r| r.id()).collect();
                let _ = write!(out, "当前角色：{}。", zh.join("、"));
                format!("roles held: {}", en.join(", "))
            }
        };
        let _ = write!(
            out,
            " (permission denied: {} needs one of the roles {}{reach_en}{own_en}; {held_en})",
            action.id(),
            needed_en.join(", "),
        );
        out
    }

    /// Per action, whether the action's entity is sent (for tests).
    #[cfg(test)]
    pub(crate) fn inner_reads_action(&self) -> Vec<bool> {
        self.inner.reads_action.clone()
    }

    /// How many principals' entities are cached (for tests).
    #[cfg(test)]
    pub(crate) fn cached_users(&self) -> usize {
        self.inner.users.len()
    }

    /// Checks the entities `decide` builds against the schema (for tests).
    #[cfg(test)]
    pub(crate) fn check_entities(
        &self,
        request: &AccessRequest<'_>,
        with_elevated: bool,
    ) -> Result<(), String> {
        let schema = validator().schema();
        let (user, resource, _) = self.entities(request, with_elevated, false)?;
        let inner = &*self.inner;
        let (action_uid, _) = &inner.actions[request.action.index()];
        Request::new(
            user.uid(),
            action_uid.clone(),
            resource.uid(),
            inner.contexts[usize::from(with_elevated)].clone(),
            Some(schema),
        )
        .map_err(|e| e.to_string())?;
        let department = self.department_entity(request.resource);
        Entities::from_entities(
            [Some(user), Some(resource), department]
                .into_iter()
                .flatten(),
            Some(schema),
        )
        .map_err(|e| e.to_string())?;
        Ok(())
    }
}

/// Whether the policy's conditions read the `action` variable (the scope is not a
/// condition). When unsure, yes.
fn conditions_read_action(policy: &Policy) -> bool {
    match policy.to_json() {
        Ok(json) => json
            .get("conditions")
            .map(|c| c.to_string().contains(r#"{"Var":"action"}"#))
            .unwrap_or(true),
        Err(_) => true,
    }
}

/// The policy with its action scope widened to any action. In a slice, which only ever
/// sees requests for actions its policies' scopes match, this decides the same; it spares
/// Cedar building the set of a listed scope (`action in [...]`) on every request.
fn any_action(policy: &Policy) -> Policy {
    if matches!(policy.action_constraint(), ActionConstraint::Any) {
        return policy.clone();
    }
    let widened = policy.to_json().ok().and_then(|mut json| {
        let scope = json.get_mut("action")?;
        *scope = serde_json::json!({ "op": "All" });
        Policy::from_json(Some(policy.id().clone()), json).ok()
    });
    widened.unwrap_or_else(|| policy.clone())
}

/// A `@reason` is "中文。English." — split at the first full stop 。.
fn split_reason(reason: &str) -> (&str, &str) {
    match reason.split_once('。') {
        Some((zh, en)) => (zh, en.trim()),
        None => (reason, reason),
    }
}

fn prefixed(prefix: &str, text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!("{prefix}{text}")
    }
}

/// The policies of a shipped file, each under its `@id`.
fn parse_defaults(file: &str, text: &str) -> Result<Vec<Policy>, PolicyError> {
    let set = PolicySet::from_str(text).map_err(|e| PolicyError::Parse {
        id: file.to_string(),
        problems: e.iter().map(describe).collect(),
    })?;
    if set.templates().next().is_some() {
        return Err(PolicyError::Template {
            id: file.to_string(),
        });
    }
    let mut out = Vec::new();
    for policy in in_source_order(&set) {
        let id = policy
            .annotation("id")
            .ok_or_else(|| PolicyError::MissingId {
                file: file.to_string(),
            })?;
        out.push(policy.new_id(PolicyId::new(id)));
    }
    Ok(out)
}

/// The policies of a custom text: `id` for one, `id#1`, `id#2` … for several.
fn parse_custom(id: &str, text: &str) -> Result<Vec<Policy>, PolicyError> {
    if id.is_empty()
        || id.chars().count() > MAX_ID_CHARS
        || id.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(PolicyError::InvalidId { id: id.to_string() });
    }
    let set = PolicySet::from_str(text).map_err(|e| PolicyError::Parse {
        id: id.to_string(),
        problems: e.iter().map(describe).collect(),
    })?;
    if set.templates().next().is_some() {
        return Err(PolicyError::Template { id: id.to_string() });
    }
    let policies = in_source_order(&set);
    let n = policies.len();
    if n == 0 {
        return Err(PolicyError::Empty { id: id.to_string() });
    }
    Ok(policies
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let new = if n == 1 {
                id.to_string()
            } else {
                format!("{id}#{}", i + 1)
            };
            p.new_id(PolicyId::new(new))
        })
        .collect())
}

/// A parsed text's policies in the order written (Cedar names them `policy0`, `policy1` …).
fn in_source_order(set: &PolicySet) -> Vec<&Policy> {
    let by_number: BTreeMap<u64, &Policy> = set
        .policies()
        .map(|p| {
            let n = p
                .id()
                .to_string()
                .strip_prefix("policy")
                .and_then(|n| n.parse().ok())
                .unwrap_or(u64::MAX);
            (n, p)
        })
        .collect();
    by_number.into_values().collect()
}

fn add(set: &mut PolicySet, policy: Policy) -> Result<(), PolicyError> {
    let id = policy.id().to_string();
    if set.policy(policy.id()).is_some() {
        return Err(PolicyError::Duplicate { id });
    }
    set.add(policy).map_err(|_| PolicyError::Duplicate { id })
}

/// Strict validation against the schema; every error, each naming its policy.
fn check(set: &PolicySet) -> Result<(), PolicyError> {
    let result = validator().validate(set, ValidationMode::Strict);
    let problems: Vec<String> = result.validation_errors().map(describe).collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(PolicyError::Invalid { problems })
    }
}

/// An error's message with Cedar's hint, if it has one.
fn describe(error: &(impl Diagnostic + ?Sized)) -> String {
    let mut text = error.to_string();
    if let Some(help) = error.help() {
        let _ = write!(text, " ({help})");
    }
    text
}
