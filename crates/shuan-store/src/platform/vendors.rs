//! Vendors and outsourcing (外包服务商, R-32).
//!
//! A vendor has contracts; a contract names its data security clauses (数据安全条款), the
//! data the vendor holds that must be returned or destroyed when it ends, and the vendor
//! accounts of its personnel. When a contract ends, those accounts are disabled and their
//! sessions ended in the same transaction — except an account another active contract
//! still names — and the contract records whom it disabled. Ending is a compare-and-set on
//! the status, so of several nodes one ends it. [`VendorStore`] is a supertrait of
//! [`super::PlatformStore`]; both backends run the one implementation in this file.

use serde::{Deserialize, Serialize};

use super::sharing::{bad, to_json, Cols, Exec, Val};
use super::{PlatformStoreError, UnixTime};

/// One vendor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vendor {
    /// Id (assigned by the store).
    pub id: i64,
    /// Name (unique).
    pub name: String,
    /// 统一社会信用代码.
    pub credit_code: String,
    /// Contact person and phone.
    pub contact: String,
    /// Who registered it.
    pub created_by: String,
    /// When.
    pub created_at: UnixTime,
}

/// One contract of a vendor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorContract {
    /// Id (assigned by the store).
    pub id: i64,
    /// The vendor.
    pub vendor_id: i64,
    /// 合同编号 (unique).
    pub number: String,
    /// The contracting department.
    pub department: String,
    /// 服务内容.
    pub scope: String,
    /// 数据安全条款.
    pub data_clauses: String,
    /// Data the vendor holds, to be returned or destroyed at the end.
    pub data_items: Vec<String>,
    /// The vendor accounts of its personnel.
    pub personnel: Vec<String>,
    /// When it starts.
    pub starts_at: UnixTime,
    /// When it ends.
    pub ends_at: UnixTime,
    /// Ended (its accounts disabled).
    pub ended: bool,
    /// When it was ended.
    pub ended_at: Option<UnixTime>,
    /// The accounts disabled when it ended.
    pub disabled_accounts: Vec<String>,
    /// Who registered it.
    pub created_by: String,
    /// When.
    pub created_at: UnixTime,
}

/// The vendor records; a supertrait of [`super::PlatformStore`].
pub trait VendorStore {
    /// Registers a vendor; answers its id (`Exists` for a taken name).
    fn create_vendor(&self, v: &Vendor) -> Result<i64, PlatformStoreError>;
    /// Vendors by name.
    fn vendors(&self) -> Result<Vec<Vendor>, PlatformStoreError>;
    /// Registers an active contract (its `id`, `ended` and later fields are not read);
    /// answers its id (`Exists` for a taken number, `NotFound` for an unknown vendor).
    fn create_vendor_contract(&self, c: &VendorContract) -> Result<i64, PlatformStoreError>;
    /// One contract.
    fn vendor_contract(&self, id: i64) -> Result<Option<VendorContract>, PlatformStoreError>;
    /// Contracts, newest first.
    fn vendor_contracts(&self) -> Result<Vec<VendorContract>, PlatformStoreError>;
    /// Active contracts whose end is at or before `now`.
    fn due_vendor_contracts(
        &self,
        now: UnixTime,
    ) -> Result<Vec<VendorContract>, PlatformStoreError>;
    /// Ends an active contract: disables its personnel's vendor accounts that no other
    /// active contract names and ends their sessions. Not active: `Conflict`.
    fn end_vendor_contract(
        &self,
        id: i64,
        now: UnixTime,
    ) -> Result<VendorContract, PlatformStoreError>;
}

/// Implements [`VendorStore`] for a backend (see `delegate_to_ops`).
macro_rules! vendor_store_for {
    ($backend:ty, $exec:ident) => {
        $crate::platform::delegate_to_ops!($crate::platform::VendorStore, $backend, $exec, vendors {
            write "register vendor" fn create_vendor(v: &$crate::platform::Vendor) -> i64;
            read "list vendors" fn vendors() -> Vec<$crate::platform::Vendor>;
            write "register vendor contract" fn create_vendor_contract(c: &$crate::platform::VendorContract) -> i64;
            read "read vendor contract" fn vendor_contract(id: i64) -> Option<$crate::platform::VendorContract>;
            read "list vendor contracts" fn vendor_contracts() -> Vec<$crate::platform::VendorContract>;
            read "list due vendor contracts" fn due_vendor_contracts(now: $crate::platform::UnixTime) -> Vec<$crate::platform::VendorContract>;
            write "end vendor contract" fn end_vendor_contract(id: i64, now: $crate::platform::UnixTime) -> $crate::platform::VendorContract;
        });
    };
}
pub(crate) use vendor_store_for;

/// The one implementation of [`VendorStore`], over an [`Exec`].
pub(crate) mod ops {
    use super::*;

    type R<T, E> = Result<T, <E as Exec>::Fail>;

    const VENDOR_COLUMNS: &str = "id, name, credit_code, contact, created_by, created_at";
    const COLUMNS: &str = "id, vendor_id, number, department, scope, data_clauses, data_items, \
         personnel, starts_at, ends_at, status, ended_at, disabled_accounts, created_by, created_at";

    fn vendor_from(r: &[Val]) -> Result<Vendor, PlatformStoreError> {
        let c = Cols(r);
        Ok(Vendor {
            id: c.int(0)?,
            name: c.text(1)?,
            credit_code: c.text(2)?,
            contact: c.text(3)?,
            created_by: c.text(4)?,
            created_at: c.int(5)?,
        })
    }

    fn contract_from(r: &[Val]) -> Result<VendorContract, PlatformStoreError> {
        let c = Cols(r);
        let status = c.text(10)?;
        let disabled: Vec<String> = match c.opt_text(12)? {
            None => Vec::new(),
            Some(t) => serde_json::from_str(&t)
                .map_err(|e| bad("decode vendor contract", e.to_string()))?,
        };
        Ok(VendorContract {
            id: c.int(0)?,
            vendor_id: c.int(1)?,
            number: c.text(2)?,
            department: c.text(3)?,
            scope: c.text(4)?,
            data_clauses: c.text(5)?,
            data_items: c.json(6)?,
            personnel: c.json(7)?,
            starts_at: c.int(8)?,
            ends_at: c.int(9)?,
            ended: match status.as_str() {
                "active" => false,
                "ended" => true,
                other => {
                    return Err(bad(
                        "decode vendor contract",
                        format!("unknown status {other:?}"),
                    ))
                }
            },
            ended_at: c.opt_int(11)?,
            disabled_accounts: disabled,
            created_by: c.text(13)?,
            created_at: c.int(14)?,
        })
    }

    pub(crate) fn create_vendor<E: Exec>(x: &mut E, v: &Vendor) -> R<i64, E> {
        let inserted = x.rows(
            "INSERT INTO vendors (name, credit_code, contact, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
            &[
                (&v.name).into(),
                (&v.credit_code).into(),
                (&v.contact).into(),
                (&v.created_by).into(),
                v.created_at.into(),
            ],
        );
        match inserted {
            Ok(rows) => {
                let row = rows
                    .first()
                    .ok_or_else(|| bad("register vendor", "no id returned"))?;
                Ok(Cols(row).int(0)?)
            }
            Err(e) if E::is_unique_violation(&e) => Err(PlatformStoreError::Exists {
                kind: "vendor",
                id: v.name.clone(),
            }
            .into()),
            Err(e) => Err(e),
        }
    }

    pub(crate) fn vendors<E: Exec>(x: &mut E) -> R<Vec<Vendor>, E> {
        let rows = x.rows(
            &format!("SELECT {VENDOR_COLUMNS} FROM vendors ORDER BY name"),
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|r| vendor_from(r))
            .collect::<Result<_, _>>()?)
    }

    pub(crate) fn create_vendor_contract<E: Exec>(x: &mut E, c: &VendorContract) -> R<i64, E> {
        let known = x.rows(
            "SELECT id FROM vendors WHERE id = $1",
            &[c.vendor_id.into()],
        )?;
        if known.is_empty() {
            return Err(PlatformStoreError::NotFound {
                kind: "vendor",
                id: c.vendor_id.to_string(),
            }
            .into());
        }
        let inserted = x.rows(
            "INSERT INTO vendor_contracts (vendor_id, number, department, scope, data_clauses, \
             data_items, personnel, starts_at, ends_at, status, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'active', $10, $11) RETURNING id",
            &[
                c.vendor_id.into(),
                (&c.number).into(),
                (&c.department).into(),
                (&c.scope).into(),
                (&c.data_clauses).into(),
                to_json(&c.data_items)?,
                to_json(&c.personnel)?,
                c.starts_at.into(),
                c.ends_at.into(),
                (&c.created_by).into(),
                c.created_at.into(),
            ],
        );
        match inserted {
            Ok(rows) => {
                let row = rows
                    .first()
                    .ok_or_else(|| bad("register vendor contract", "no id returned"))?;
                Ok(Cols(row).int(0)?)
            }
            Err(e) if E::is_unique_violation(&e) => Err(PlatformStoreError::Exists {
                kind: "vendor contract",
                id: c.number.clone(),
            }
            .into()),
            Err(e) => Err(e),
        }
    }

    pub(crate) fn vendor_contract<E: Exec>(x: &mut E, id: i64) -> R<Option<VendorContract>, E> {
        let rows = x.rows(
            &format!("SELECT {COLUMNS} FROM vendor_contracts WHERE id = $1"),
            &[id.into()],
        )?;
        Ok(rows.first().map(|r| contract_from(r)).transpose()?)
    }

    pub(crate) fn vendor_contracts<E: Exec>(x: &mut E) -> R<Vec<VendorContract>, E> {
        let rows = x.rows(
            &format!("SELECT {COLUMNS} FROM vendor_contracts ORDER BY id DESC"),
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|r| contract_from(r))
            .collect::<Result<_, _>>()?)
    }

    pub(crate) fn due_vendor_contracts<E: Exec>(
        x: &mut E,
        now: UnixTime,
    ) -> R<Vec<VendorContract>, E> {
        let rows = x.rows(
            &format!(
                "SELECT {COLUMNS} FROM vendor_contracts WHERE status = 'active' \
                 AND ends_at <= $1 ORDER BY ends_at, id"
            ),
            &[now.into()],
        )?;
        Ok(rows
            .iter()
            .map(|r| contract_from(r))
            .collect::<Result<_, _>>()?)
    }

    pub(crate) fn end_vendor_contract<E: Exec>(
        x: &mut E,
        id: i64,
        now: UnixTime,
    ) -> R<VendorContract, E> {
        let rows = x.rows(
            &format!(
                "SELECT {COLUMNS} FROM vendor_contracts WHERE id = $1{}",
                E::FOR_UPDATE
            ),
            &[id.into()],
        )?;
        let c = match rows.first() {
            Some(r) => contract_from(r)?,
            None => {
                return Err(PlatformStoreError::NotFound {
                    kind: "vendor contract",
                    id: id.to_string(),
                }
                .into())
            }
        };
        if c.ended {
            return Err(PlatformStoreError::Conflict(format!(
                "合同 {} 已终止 (vendor contract {} has ended already)",
                c.number, c.number
            ))
            .into());
        }
        // Accounts another active contract still names stay enabled.
        let others = x.rows(
            "SELECT personnel FROM vendor_contracts WHERE status = 'active' AND id <> $1",
            &[id.into()],
        )?;
        let mut kept = std::collections::BTreeSet::new();
        for r in &others {
            let names: Vec<String> = Cols(r).json(0)?;
            kept.extend(names);
        }
        let mut disabled = Vec::new();
        for username in c.personnel.iter().filter(|u| !kept.contains(*u)) {
            let changed = x.exec(
                "UPDATE users SET disabled = $2 WHERE username = $1 AND vendor = $3 \
                 AND disabled = $4",
                &[username.into(), true.into(), true.into(), false.into()],
            )?;
            x.exec(
                "DELETE FROM sessions WHERE username = $1 AND username IN \
                 (SELECT username FROM users WHERE vendor = $2)",
                &[username.into(), true.into()],
            )?;
            if changed > 0 {
                disabled.push(username.clone());
            }
        }
        let changed = x.exec(
            "UPDATE vendor_contracts SET status = 'ended', ended_at = $2, \
             disabled_accounts = $3 WHERE id = $1 AND status = 'active'",
            &[id.into(), now.into(), to_json(&disabled)?],
        )?;
        if changed == 0 {
            return Err(PlatformStoreError::Conflict(format!(
                "合同 {} 已终止 (vendor contract {} has ended already)",
                c.number, c.number
            ))
            .into());
        }
        vendor_contract(x, id)?.ok_or_else(|| {
            PlatformStoreError::NotFound {
                kind: "vendor contract",
                id: id.to_string(),
            }
            .into()
        })
    }
}
