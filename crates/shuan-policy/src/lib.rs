//! The platform's single policy decision point (策略决策点): given who asks (an account
//! with its grants and their data scopes), what for (an
//! [`Action`]) and on what (a [`Resource`]), it answers allow or deny with the policies
//! that decided and an explanation in Chinese and English. Roles, data scopes,
//! separation of duties (三员分立, R-12), least privilege and approved elevations
//! are all decided by Cedar policies — the shipped ones in `policies/*.cedar`
//! plus the custom ones a security administrator adds — validated in strict mode against
//! `policies/shuan.cedarschema`. This crate owns the schema, the default policies, the
//! validation of custom ones and the decision. It must not authenticate anyone, store
//! anything (grants, policies and departments come from the caller) or write audit
//! records (the server audits every decision it asks for); nor does it decide whether a
//! grant may be given (that is `shuan-access`).
//!
//! # The model
//!
//! Every request becomes Cedar entities built per call; the parsed policies and the
//! schema are kept in the [`PolicyPoint`]:
//!
//! - `User::"<username>"` (the principal) with `department: Department`, `vendor: Bool`,
//!   `roles: Set<String>` (the role ids held), `self_only_roles: Set<String>` (roles held
//!   with the 仅本人数据 scope), and for each role held an attribute
//!   `scope_<role>: Set<Department>`: what its grants reach, never expanded over the
//!   tree — a department reached exactly (自定, 本部门), the marker `"<code>/*"` for a
//!   department and everything below it (本部门及以下), the marker `"*"` for 全部.
//! - `Resource::"<kind>:<id>"` with `kind`, `id`, and the optional `department:
//!   Department` and `owner: User`. The resource's `Department` entity has as parents
//!   the markers `"<d>/*"` of itself and of each of its ancestors
//!   ([`Resource::ancestors`], looked up by the caller only when
//!   [`Principal::needs_ancestors`]), and `"*"`; so `resource.department in
//!   principal.scope_<role>` holds exactly when the scope reaches the department
//!   ([`EffectiveGrant::reaches`] says the same in Rust; the tests compare them). A
//!   decision costs the same with ten departments or twenty thousand.
//! - `Action::"<id>"` ([`Action::id`]), member of `Action::"read_only"` (exactly the
//!   actions with [`Action::is_read`]) or else of `Action::"changes"`, and of
//!   `Action::"governance"` for users, grants, policies, settings, keys and audit.
//!
//! The context is `{ elevated: Bool }`. One `permit` per role (`@id("role.<role>")`)
//! lists that role's actions; it allows a resource with a department only when
//! `scope_<role>` reaches that department (or the role is self-only and the resource's
//! owner is the principal), and a resource without a department on the role alone.
//! `own.elevation` lets anyone request and read their own elevations, `own.share_request`
//! read their own share requests and the agreements they made. Four `forbid`s, which no
//! grant or custom policy can override: a vendor's account never performs a `governance`
//! action; an account whose only role is the auditor's performs no `changes` action;
//! nobody decides their own elevation; nobody reviews or signs off a share request they
//! filed.
//!
//! [`PolicyPoint::decide`] asks first with the standing grants (`elevated = false`); if
//! that denies and the principal has elevated grants, it asks again with all of them
//! (`elevated = true`) and reports `via_elevation`. A forbid whose evaluation fails denies
//! (Cedar would skip it).
//!
//! # Speed
//!
//! Cedar evaluates every policy it is given and rebuilds each entity's values per call,
//! so [`PolicyPoint::new`] prepares, per action, the slice of policies whose action scope
//! can match it (the others cannot change a decision, a reason or an error), with that
//! scope widened to any action; a `scope_<role>` attribute is built only when a policy of
//! the slice names it, the action's entity only when a condition reads `action`; and the
//! principal's entity is kept between requests (up to 1024 principals, compared field by
//! field). The crate's property tests check the decisions against the role table.

mod action;
mod cache;
mod error;
mod point;
mod scope;

pub use action::Action;
pub use error::PolicyError;
pub use point::{AccessRequest, Decision, PolicyPoint, Principal, Resource};
pub use scope::{DepartmentTree, EffectiveGrant};
pub use shuan_access::{DataScope, Grant, Role};

#[cfg(test)]
mod tests;
