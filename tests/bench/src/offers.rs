//! The offer a pipeline publishes through each API: how it is seeded in the emulator, its build
//! manifest, and whether live holds the build's image at the end.

use serde_json::{Value, json};
use shared::config::Api;
use test_harness::{PLAN, PUBLISHER, SEEDED_VERSION};

use crate::aws;
use crate::pipeline::{BUCKET, MANIFEST_PREFIX, World};
use crate::product::{self, image_name};

/// Both APIs, in the order the report shows them.
pub const APIS: [Api; 2] = [Api::Cpp, Api::ProductIngestion];

/// A build manifest for `version` of plan gen2 of `offer`, going live automatically; Product
/// Ingestion needs no publisher (the token's Partner Center account scopes the offer).
pub fn manifest(api: Api, offer: &str, version: &str) -> Value {
    let mut manifest = json!({
        "offerId": offer,
        "planId": PLAN,
        "version": version,
        "osVhdUrl": test_harness::sas_url(&image_name(offer, version)),
        "lunVhdDetails": [],
        "notificationEmails": "release@contoso.com",
        "goLive": "auto"
    });
    match api {
        Api::Cpp => manifest["publisherId"] = json!(PUBLISHER),
        Api::ProductIngestion => manifest["api"] = json!(api.as_str()),
    }
    manifest
}

impl World {
    /// Seeds `offer` with plan gen2 holding 1.0.0, published (CPP: the test offer with a second plan
    /// and unknown fields; Product Ingestion: a product already live); returns the id its API's
    /// paths carry (the offer id, or the product GUID).
    pub fn seed(&self, api: Api, offer: &str) -> String {
        match api {
            Api::Cpp => {
                let mut document = test_harness::test_offer(&[SEEDED_VERSION]);
                document["id"] = json!(offer);
                self.emulator.seed_offer(document);
                offer.to_owned()
            }
            Api::ProductIngestion => self
                .emulator
                .seed_published_product(product::test_product(offer, &[SEEDED_VERSION])),
        }
    }

    /// Uploads the build manifest of `offer` `version` and returns its storage event.
    pub fn upload_manifest(&self, api: Api, offer: &str, version: &str) -> Value {
        let key = format!("{MANIFEST_PREFIX}{offer}/{PLAN}/{version}.json");
        self.aws.put_object(
            BUCKET,
            &key,
            manifest(api, offer, version).to_string().into_bytes(),
        );
        json!({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": aws::REGION,
            "eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": BUCKET, "arn": format!("arn:aws:s3:::{BUCKET}")},
                   "object": {"key": key, "size": 400}}}]})
    }

    /// Whether live (CPP: the production slot) holds `version` of plan gen2 with the build's image.
    pub fn live_holds(&self, api: Api, offer: &str, version: &str) -> bool {
        let expected = test_harness::sas_url(&image_name(offer, version));
        self.plan_live_holds(api, offer, PLAN, version, &expected)
    }

    /// Whether live (CPP: the production slot) holds `version` of `plan` with the image at `expected`.
    pub fn plan_live_holds(
        &self,
        api: Api,
        offer: &str,
        plan: &str,
        version: &str,
        expected: &str,
    ) -> bool {
        match api {
            Api::Cpp => self
                .emulator
                .slot(PUBLISHER, offer, "production")
                .and_then(|doc| {
                    doc["definition"]["plans"]
                        .as_array()?
                        .iter()
                        .find(|p| p["planId"] == plan)
                        .map(|p| p[shared::cpp::VM_IMAGES_KEY][version]["osVhdUrl"] == expected)
                })
                .unwrap_or(false),
            Api::ProductIngestion => self.emulator.ingestion_state(offer).is_some_and(|state| {
                product::plan_image_url(&state["live"], plan, version) == Some(expected)
            }),
        }
    }
}
