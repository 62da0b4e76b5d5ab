//! The offer document, kept as the JSON it came as so that a GET then PUT loses nothing;
//! typed access only where the workflow reads or writes (plans and their image versions).

use std::fmt;

use serde_json::{Map, Value};

pub use crate::marketplace::{ImageVersion, VersionError};

/// The image map of a plan of a `microsoft-azure-virtualmachines` offer.
pub const VM_IMAGES_KEY: &str = "microsoft-azure-virtualmachines.vmImages";

/// The opaque entity tag from a GET or PUT, sent back in `If-Match`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ETag(pub String);

impl fmt::Display for ETag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OfferError {
    #[error("the offer document is not a JSON object")]
    NotAnObject,
    #[error("the offer document's {0} is malformed")]
    Malformed(String),
    #[error("plan {plan}: image version key {key:?} is not MAJOR.MINOR.PATCH")]
    BadVersionKey { plan: String, key: String },
}

/// An offer document with the ETag it was read with.
#[derive(Clone, PartialEq)]
pub struct Offer {
    document: Map<String, Value>,
    etag: Option<ETag>,
}

/// Only identifiers: the document holds SAS URLs, whose signatures must not reach logs.
impl fmt::Debug for Offer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Offer")
            .field("publisher_id", &self.publisher_id())
            .field("id", &self.id())
            .field("plans", &self.plan_ids())
            .field("etag", &self.etag)
            .finish_non_exhaustive()
    }
}

impl Offer {
    pub fn new(document: Value, etag: Option<ETag>) -> Result<Self, OfferError> {
        match document {
            Value::Object(document) => Ok(Self { document, etag }),
            _ => Err(OfferError::NotAnObject),
        }
    }

    pub fn id(&self) -> Option<&str> {
        self.document.get("id").and_then(Value::as_str)
    }

    pub fn publisher_id(&self) -> Option<&str> {
        self.document.get("publisherId").and_then(Value::as_str)
    }

    pub fn offer_type(&self) -> Option<&str> {
        self.document.get("offerTypeId").and_then(Value::as_str)
    }

    pub fn etag(&self) -> Option<&ETag> {
        self.etag.as_ref()
    }

    pub fn document(&self) -> &Map<String, Value> {
        &self.document
    }

    pub fn to_value(&self) -> Value {
        Value::Object(self.document.clone())
    }

    pub fn plan_ids(&self) -> Vec<&str> {
        self.plans()
            .filter_map(|plan| plan.get("planId").and_then(Value::as_str))
            .collect()
    }

    pub fn plan(&self, plan_id: &str) -> Option<Plan<'_>> {
        self.plans()
            .find(|plan| plan.get("planId").and_then(Value::as_str) == Some(plan_id))
            .map(Plan)
    }

    pub fn plan_mut(&mut self, plan_id: &str) -> Option<PlanMut<'_>> {
        self.document
            .get_mut("definition")?
            .get_mut("plans")?
            .as_array_mut()?
            .iter_mut()
            .filter_map(Value::as_object_mut)
            .find(|plan| plan.get("planId").and_then(Value::as_str) == Some(plan_id))
            .map(PlanMut)
    }

    fn plans(&self) -> impl Iterator<Item = &Map<String, Value>> {
        self.document
            .get("definition")
            .and_then(|d| d.get("plans"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
    }
}

/// A plan (SKU), read-only.
#[derive(Clone, Copy)]
pub struct Plan<'a>(&'a Map<String, Value>);

/// One entry of a plan's image map.
#[derive(Clone, Copy)]
pub struct PlanImage<'a> {
    pub key: &'a str,
    pub version: ImageVersion,
    pub image: &'a Value,
}

impl PlanImage<'_> {
    pub fn os_vhd_url(&self) -> Option<&str> {
        self.image.get("osVhdUrl").and_then(Value::as_str)
    }

    /// The data disks' SAS URLs, by LUN.
    pub fn data_disk_urls(&self) -> Vec<String> {
        let mut disks: Vec<(i64, String)> = self
            .image
            .get("lunVhdDetails")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|d| {
                let lun = d.get("lun").and_then(Value::as_i64).unwrap_or(i64::MAX);
                let url = d
                    .get("lunVhdUrl")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                (lun, url.to_owned())
            })
            .collect();
        disks.sort_by_key(|(lun, _)| *lun);
        disks.into_iter().map(|(_, url)| url).collect()
    }
}

impl<'a> Plan<'a> {
    pub fn id(&self) -> &'a str {
        self.0
            .get("planId")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The plan's image versions, lowest first.
    pub fn images(&self) -> Result<Vec<PlanImage<'a>>, OfferError> {
        let Some(map) = self.0.get(VM_IMAGES_KEY) else {
            return Ok(Vec::new());
        };
        let map = map
            .as_object()
            .ok_or_else(|| OfferError::Malformed(format!("plan {} {VM_IMAGES_KEY}", self.id())))?;
        let mut images = map
            .iter()
            .map(|(key, image)| {
                ImageVersion::parse_existing(key)
                    .map(|version| PlanImage {
                        key,
                        version,
                        image,
                    })
                    .ok_or_else(|| OfferError::BadVersionKey {
                        plan: self.id().to_owned(),
                        key: key.clone(),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        images.sort_by_key(|image| image.version);
        Ok(images)
    }
}

/// A plan (SKU) whose image map may change; nothing else of it is touched.
pub struct PlanMut<'a>(&'a mut Map<String, Value>);

impl PlanMut<'_> {
    pub fn as_plan(&self) -> Plan<'_> {
        Plan(self.0)
    }

    /// Adds or replaces the image at `version`, creating the image map if the plan has none.
    pub fn insert_image(&mut self, version: ImageVersion, image: Value) -> Result<(), OfferError> {
        let plan_id = self.as_plan().id().to_owned();
        let map = self
            .0
            .entry(VM_IMAGES_KEY)
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .ok_or_else(|| OfferError::Malformed(format!("plan {plan_id} {VM_IMAGES_KEY}")))?;
        map.insert(version.to_string(), image);
        Ok(())
    }

    /// Removes the image under `key`, keeping the order of the others.
    pub fn remove_image(&mut self, key: &str) -> Option<Value> {
        self.0
            .get_mut(VM_IMAGES_KEY)?
            .as_object_mut()?
            .shift_remove(key)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn offer() -> Offer {
        Offer::new(
            json!({
                "id": "o", "publisherId": "p", "unknownTop": {"x": [1, 2.5, null]},
                "definition": {"plans": [
                    {"planId": "a", "extra": true, VM_IMAGES_KEY: {
                        "1.10.0": {"osVhdUrl": "https://h/a?sig=S1", "lunVhdDetails": [{"lun": 0}]},
                        "1.9.0": {"osVhdUrl": "https://h/b"}}},
                    {"planId": "b", VM_IMAGES_KEY: {"2019.01.05": {"osVhdUrl": "https://h/c"}}}
                ]}
            }),
            Some(ETag("W/\"1\"".into())),
        )
        .unwrap()
    }

    #[test]
    fn strict_versions_reject_what_the_manifest_must_not_carry() {
        assert_eq!(
            "1.4.0".parse::<ImageVersion>().unwrap().to_string(),
            "1.4.0"
        );
        for bad in [
            "1.0",
            "1.0.0-rc1",
            "01.0.0",
            "1.0.0.0",
            "a.b.c",
            "",
            "1..0",
            "+1.0.0",
            "18446744073709551616.0.0",
        ] {
            assert!(bad.parse::<ImageVersion>().is_err(), "{bad}");
        }
        assert_eq!(
            ImageVersion::parse_existing("2019.01.05")
                .unwrap()
                .to_string(),
            "2019.1.5"
        );
    }

    #[test]
    fn versions_order_numerically() {
        let v = |s: &str| s.parse::<ImageVersion>().unwrap();
        assert!(v("1.10.0") > v("1.9.0") && v("2.0.0") > v("1.99.99") && v("1.0.1") > v("1.0.0"));
    }

    #[test]
    fn images_are_listed_lowest_first_with_their_disks() {
        let offer = offer();
        let images = offer.plan("a").unwrap().images().unwrap();
        let keys: Vec<&str> = images.iter().map(|i| i.key).collect();
        assert_eq!(keys, ["1.9.0", "1.10.0"]);
        assert_eq!(images[1].data_disk_urls().len(), 1);
        assert_eq!(images[0].os_vhd_url(), Some("https://h/b"));
        assert!(offer.plan("missing").is_none());
        assert_eq!(offer.plan_ids(), ["a", "b"]);
    }

    #[test]
    fn editing_one_plan_changes_only_its_image_map() {
        let before = offer();
        let mut after = before.clone();
        let mut plan = after.plan_mut("a").unwrap();
        plan.insert_image(
            "1.11.0".parse().unwrap(),
            json!({"osVhdUrl": "https://h/d"}),
        )
        .unwrap();
        assert!(plan.remove_image("1.9.0").is_some());
        let mut expected = before.to_value();
        let images = &mut expected["definition"]["plans"][0][VM_IMAGES_KEY];
        images.as_object_mut().unwrap().shift_remove("1.9.0");
        images["1.11.0"] = json!({"osVhdUrl": "https://h/d"});
        assert_eq!(after.to_value(), expected);
    }

    #[test]
    fn bad_keys_and_shapes_are_named() {
        let mut doc = offer().to_value();
        doc["definition"]["plans"][0][VM_IMAGES_KEY]["latest"] = json!({});
        let err = Offer::new(doc, None)
            .unwrap()
            .plan("a")
            .unwrap()
            .images()
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "plan a: image version key \"latest\" is not MAJOR.MINOR.PATCH"
        );
        assert_eq!(
            Offer::new(json!([1]), None).unwrap_err(),
            OfferError::NotAnObject
        );
    }

    #[test]
    fn debug_shows_identifiers_not_the_document() {
        let shown = format!("{:?}", offer());
        assert!(shown.contains("\"o\"") && !shown.contains("S1"), "{shown}");
    }
}
