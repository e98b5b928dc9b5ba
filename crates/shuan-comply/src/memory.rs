//! An [`EvidenceSource`] held in memory: records per department, each kind `None` until a
//! caller says the platform keeps it. Tests build a department's records step by step with
//! it; benches fill it at scale. The server implements the trait over its store instead.

use std::collections::{BTreeMap, HashMap};

use crate::source::{
    AccountRecord, AlertFacts, BackupRecord, CollectionRecord, ColumnScope, ConnectionFacts, Day,
    DocumentRef, ElevationRecord, EncryptionFacts, EvidenceSource, GovernanceKind,
    GovernanceRecord, ImportantDataFacts, IncidentRecord, InventoryFacts, KeyRecord, LedgerFacts,
    LineageFacts, Lookup, MaskingFacts, OpenCatalogueEntry, OperationFacts, OperationKind, Period,
    RecordRef, RectificationItem, SharingFacts, TemporaryFacts, VendorRecord,
};

/// One alert as kept.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRecord {
    /// Alert id.
    pub id: String,
    /// Day raised.
    pub raised: Day,
    /// Day handled, if it was.
    pub handled: Option<Day>,
}

/// Alert rules and alerts as kept.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertStore {
    /// Rules enabled.
    pub rules_enabled: u64,
    /// Every alert.
    pub alerts: Vec<AlertRecord>,
}

/// One department's records. `None` = the platform keeps no such records.
#[derive(Debug, Clone, Default)]
#[allow(missing_docs)] // each field is the answer of the trait method of the same name
pub struct DepartmentRecords {
    pub inventory: Option<InventoryFacts>,
    pub important_data: Option<ImportantDataFacts>,
    /// Per scope; a scope not listed has no column in it.
    pub encryption: Option<HashMap<ColumnScope, EncryptionFacts>>,
    pub keys: Option<Vec<KeyRecord>>,
    pub connections: Option<ConnectionFacts>,
    pub ledger: Option<LedgerFacts>,
    /// Per kind; a kind not listed ran no operation.
    pub operations: Option<HashMap<OperationKind, OperationFacts>>,
    pub accounts: Option<Vec<AccountRecord>>,
    pub elevations: Option<Vec<ElevationRecord>>,
    pub masking: Option<MaskingFacts>,
    pub alerts: Option<AlertStore>,
    pub backups: Option<Vec<BackupRecord>>,
    pub sharing: Option<SharingFacts>,
    pub open_catalogue: Option<Vec<OpenCatalogueEntry>>,
    /// Per kind; a kind missing from the map is not kept at all.
    pub governance: HashMap<GovernanceKind, Vec<GovernanceRecord>>,
    pub incidents: Option<Vec<IncidentRecord>>,
    pub vendors: Option<Vec<VendorRecord>>,
    pub rectifications: Option<Vec<RectificationItem>>,
    pub collections: Option<Vec<CollectionRecord>>,
    pub temporaries: Option<TemporaryFacts>,
    pub lineage: Option<LineageFacts>,
    /// Per control id; `None` when uploads are not kept.
    pub documents: Option<HashMap<String, Vec<DocumentRef>>>,
}

/// An in-memory evidence source.
#[derive(Debug, Clone, Default)]
pub struct MemorySource {
    departments: BTreeMap<String, DepartmentRecords>,
    empty: DepartmentRecords,
}

impl MemorySource {
    /// A source that keeps nothing yet.
    pub fn new() -> MemorySource {
        MemorySource::default()
    }

    /// The records of a department, to fill in.
    pub fn department(&mut self, id: &str) -> &mut DepartmentRecords {
        self.departments.entry(id.to_string()).or_default()
    }

    fn get(&self, id: &str) -> &DepartmentRecords {
        self.departments.get(id).unwrap_or(&self.empty)
    }
}

impl EvidenceSource for MemorySource {
    fn inventory(&self, d: &str) -> Lookup<InventoryFacts> {
        Ok(self.get(d).inventory.clone())
    }
    fn important_data(&self, d: &str) -> Lookup<ImportantDataFacts> {
        Ok(self.get(d).important_data.clone())
    }
    fn encryption_at_rest(&self, d: &str, scope: &ColumnScope) -> Lookup<EncryptionFacts> {
        Ok(self
            .get(d)
            .encryption
            .as_ref()
            .map(|m| m.get(scope).cloned().unwrap_or_default()))
    }
    fn keys(&self, d: &str) -> Lookup<Vec<KeyRecord>> {
        Ok(self.get(d).keys.clone())
    }
    fn connections(&self, d: &str) -> Lookup<ConnectionFacts> {
        Ok(self.get(d).connections.clone())
    }
    fn ledger(&self, d: &str, _period: &Period) -> Lookup<LedgerFacts> {
        Ok(self.get(d).ledger.clone())
    }
    fn operations(&self, d: &str, _period: &Period, kind: OperationKind) -> Lookup<OperationFacts> {
        Ok(self
            .get(d)
            .operations
            .as_ref()
            .map(|m| m.get(&kind).cloned().unwrap_or_default()))
    }
    fn accounts(&self, d: &str) -> Lookup<Vec<AccountRecord>> {
        Ok(self.get(d).accounts.clone())
    }
    fn elevations(&self, d: &str, period: &Period) -> Lookup<Vec<ElevationRecord>> {
        let _ = period;
        Ok(self.get(d).elevations.clone())
    }
    fn masking(&self, d: &str, _period: &Period) -> Lookup<MaskingFacts> {
        Ok(self.get(d).masking.clone())
    }
    fn alerts(&self, d: &str, period: &Period, handle_within_days: u32) -> Lookup<AlertFacts> {
        Ok(self.get(d).alerts.as_ref().map(|store| {
            let in_period: Vec<&AlertRecord> = store
                .alerts
                .iter()
                .filter(|a| period.contains(a.raised))
                .collect();
            let in_time = |a: &AlertRecord| {
                a.handled
                    .is_some_and(|h| h.saturating_sub(a.raised) <= i64::from(handle_within_days))
            };
            AlertFacts {
                rules_enabled: store.rules_enabled,
                raised: in_period.len() as u64,
                handled_in_time: in_period.iter().filter(|a| in_time(a)).count() as u64,
                overdue: in_period
                    .iter()
                    .filter(|a| !in_time(a))
                    .map(|a| RecordRef::new("alert", &a.id, "未按时处置"))
                    .collect(),
            }
        }))
    }
    fn backups(&self, d: &str, period: &Period) -> Lookup<Vec<BackupRecord>> {
        Ok(self
            .get(d)
            .backups
            .as_ref()
            .map(|b| b.iter().filter(|b| b.at <= period.end).cloned().collect()))
    }
    fn sharing(&self, d: &str, _period: &Period) -> Lookup<SharingFacts> {
        Ok(self.get(d).sharing.clone())
    }
    fn open_catalogue(&self, d: &str) -> Lookup<Vec<OpenCatalogueEntry>> {
        Ok(self.get(d).open_catalogue.clone())
    }
    fn governance(&self, d: &str, kind: GovernanceKind) -> Lookup<Vec<GovernanceRecord>> {
        Ok(self.get(d).governance.get(&kind).cloned())
    }
    fn incidents(&self, d: &str, period: &Period) -> Lookup<Vec<IncidentRecord>> {
        Ok(self.get(d).incidents.as_ref().map(|v| {
            v.iter()
                .filter(|i| period.contains(i.found))
                .cloned()
                .collect()
        }))
    }
    fn vendors(&self, d: &str) -> Lookup<Vec<VendorRecord>> {
        Ok(self.get(d).vendors.clone())
    }
    fn rectifications(&self, d: &str, _period: &Period) -> Lookup<Vec<RectificationItem>> {
        Ok(self.get(d).rectifications.clone())
    }
    fn collections(&self, d: &str) -> Lookup<Vec<CollectionRecord>> {
        Ok(self.get(d).collections.clone())
    }
    fn temporaries(&self, d: &str, _period: &Period, _max_age_days: u32) -> Lookup<TemporaryFacts> {
        Ok(self.get(d).temporaries.clone())
    }
    fn lineage(&self, d: &str) -> Lookup<LineageFacts> {
        Ok(self.get(d).lineage.clone())
    }
    fn documents(&self, d: &str, _period: &Period, control_id: &str) -> Lookup<Vec<DocumentRef>> {
        Ok(self
            .get(d)
            .documents
            .as_ref()
            .map(|m| m.get(control_id).cloned().unwrap_or_default()))
    }
}
