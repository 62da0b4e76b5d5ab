//! A product: its draft, preview and live resource lists, read as resource trees (shuffled, Q11).

use serde_json::{Value, json};
use uuid::Uuid;

use super::submissions::Submissions;
use super::techconfig::Blocked;

/// Where every current `$schema` lives.
pub(crate) const SCHEMA_ROOT: &str = "https://schema.mp.microsoft.com/schema/";
/// The retired schema host the server still returns on `property` and refuses on input (Q9).
pub(crate) const LEGACY_HOST: &str = "product-ingestion.azureedge.net";
pub(crate) const TECH_CONFIG: &str = "virtual-machine-plan-technical-configuration";
pub(crate) const SUBMISSION_SCHEMA: &str =
    "https://schema.mp.microsoft.com/schema/submission/2022-03-01-preview2";
const TREE_SCHEMA: &str =
    "https://schema.mp.microsoft.com/schema/resource-tree/2022-03-01-preview2";

/// The resource types a VM product's tree holds; anything else in a configure is refused.
pub(crate) const KNOWN_TYPES: [&str; 15] = [
    "product",
    "property",
    "plan",
    TECH_CONFIG,
    "core-virtual-machine-plan-technical-configuration",
    "submission",
    "customer-leads",
    "test-drive",
    "listing",
    "listing-asset",
    "listing-trailer",
    "plan-listing",
    "price-and-availability-offer",
    "price-and-availability-plan",
    "reseller",
];

/// The three targets a VM product has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Draft,
    Preview,
    Live,
}

impl Target {
    pub(crate) fn parse(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "draft" => Some(Self::Draft),
            "preview" => Some(Self::Preview),
            "live" => Some(Self::Live),
            _ => None,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Preview => "preview",
            Self::Live => "live",
        }
    }
}

#[derive(Debug)]
pub(crate) struct Product {
    /// The product GUID `P` of `product/{P}`.
    pub id: String,
    pub external_id: String,
    pub draft: Vec<Value>,
    pub preview: Option<Vec<Value>>,
    pub live: Option<Vec<Value>>,
    pub submissions: Submissions,
    /// Versions left pending by a failed certification (Q21).
    pub blocked: Vec<Blocked>,
    /// How many of the next preview submissions fail certification.
    pub certification_failures: u32,
}

pub(crate) fn id_of(resource: &Value) -> Option<&str> {
    resource.get("id").and_then(Value::as_str)
}

/// `plan/{P}/{L}` -> `plan`.
pub(crate) fn type_of_id(id: &str) -> &str {
    id.split('/').next().unwrap_or("")
}

/// `https://schema.mp.microsoft.com/schema/plan/2022-03-01-preview2` -> (`plan`, `2022-03-01-preview2`).
pub(crate) fn schema_parts(schema: &str) -> Option<(&str, &str)> {
    let rest = schema.split_once("/schema/")?.1;
    let (kind, version) = rest.split_once('/')?;
    (!kind.is_empty() && !version.is_empty() && !version.contains('/')).then_some((kind, version))
}

impl Product {
    /// A product from a resource-tree document (§7.1 shape); `submission` entries are dropped
    /// (the entries are derived from the product's submissions).
    pub(crate) fn from_tree(doc: &Value) -> Result<Self, String> {
        let resources = doc
            .get("resources")
            .and_then(Value::as_array)
            .ok_or("the document has no `resources` array")?;
        let product = resources
            .iter()
            .find(|r| id_of(r).is_some_and(|id| type_of_id(id) == "product"))
            .ok_or("the document has no `product/{P}` resource")?;
        let id = id_of(product)
            .and_then(|id| id.strip_prefix("product/"))
            .filter(|p| !p.is_empty() && !p.contains('/'))
            .ok_or("the product id is not `product/{P}`")?
            .to_owned();
        let external_id = product
            .pointer("/identity/externalId")
            .and_then(Value::as_str)
            .ok_or("the product has no identity.externalId")?
            .to_owned();
        let draft = resources
            .iter()
            .filter(|r| id_of(r).is_some_and(|i| type_of_id(i) != "submission"))
            .cloned()
            .collect();
        Ok(Self {
            id,
            external_id,
            draft,
            preview: None,
            live: None,
            submissions: Submissions::default(),
            blocked: Vec::new(),
            certification_failures: 0,
        })
    }

    pub(crate) fn durable_id(&self) -> String {
        format!("product/{}", self.id)
    }

    pub(crate) fn target(&self, target: Target) -> Option<&Vec<Value>> {
        match target {
            Target::Draft => Some(&self.draft),
            Target::Preview => self.preview.as_ref(),
            Target::Live => self.live.as_ref(),
        }
    }

    pub(crate) fn draft_resource(&self, id: &str) -> Option<&Value> {
        self.draft.iter().find(|r| id_of(r) == Some(id))
    }

    pub(crate) fn product_resource(&self) -> Option<&Value> {
        self.draft_resource(&self.durable_id())
    }

    pub(crate) fn plans(&self) -> impl Iterator<Item = &Value> {
        self.draft
            .iter()
            .filter(|r| id_of(r).is_some_and(|id| type_of_id(id) == "plan"))
    }

    /// The plan GUID `L` whose `identity.externalId` is `external_id`.
    pub(crate) fn plan_by_external_id(&self, external_id: &str) -> Option<String> {
        self.plans()
            .find(|p| {
                p.pointer("/identity/externalId")
                    .and_then(Value::as_str)
                    .is_some_and(|e| e.eq_ignore_ascii_case(external_id))
            })
            .and_then(id_of)
            .and_then(|id| id.rsplit('/').next())
            .map(str::to_owned)
    }

    /// The resource tree of `target`; resources shuffled by `seed` (None keeps the stored order).
    pub(crate) fn tree(
        &self,
        target: Target,
        seed: Option<u64>,
        fresh_urls: bool,
    ) -> Option<Value> {
        let mut resources = self.target(target)?.clone();
        resources.push(self.submissions.tree_entry(&self.id, target));
        if fresh_urls {
            resources.iter_mut().for_each(fresh_asset_url);
        }
        if let Some(seed) = seed {
            shuffle(&mut resources, seed);
        }
        Some(json!({
            "$schema": TREE_SCHEMA,
            "root": self.durable_id(),
            "target": { "targetType": target.name() },
            "resources": resources,
        }))
    }
}

/// A listing asset's SAS changes on every read (Q11): a new `st`/`se`/`sig` each time.
pub(crate) fn fresh_asset_url(resource: &mut Value) {
    if id_of(resource).is_none_or(|id| type_of_id(id) != "listing-asset") {
        return;
    }
    if let Some(Value::String(url)) = resource.get_mut("url") {
        let base = url.split('?').next().unwrap_or("").to_owned();
        let sig = Uuid::new_v4().simple();
        *url = format!("{base}?sv=2022-11-02&sr=b&sp=r&se=2099-01-01T00%3A00%3A00Z&sig={sig}");
    }
}

/// Fisher-Yates driven by a xorshift generator seeded from a per-call counter: a different but
/// reproducible order on every read.
pub(crate) fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for i in (1..items.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let bound = u64::try_from(i + 1).unwrap_or(u64::MAX);
        let j = usize::try_from(state % bound).unwrap_or(0);
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_parts_split_type_and_version() {
        assert_eq!(
            schema_parts("https://schema.mp.microsoft.com/schema/plan/2022-03-01-preview2"),
            Some(("plan", "2022-03-01-preview2"))
        );
        assert_eq!(
            schema_parts("https://schema.mp.microsoft.com/schema/plan"),
            None
        );
    }

    #[test]
    fn shuffle_keeps_the_items_and_changes_with_the_seed() {
        let mut a: Vec<u32> = (0..12).collect();
        let mut b = a.clone();
        shuffle(&mut a, 1);
        shuffle(&mut b, 2);
        assert_ne!(a, b);
        a.sort_unstable();
        assert_eq!(a, (0..12).collect::<Vec<_>>());
    }
}
