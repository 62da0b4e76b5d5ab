//! The CPP API behind the workflow's interface: offers read and written whole with their ETag,
//! operations read from the submissions list.

use serde_json::{Map, Value, json};

use crate::cpp::operation_for_submission;
use crate::cpp::progress::{classify, later_steps, messages_for_people, parse_time_frame};
use crate::cpp::{ApiError, CppClient, ErrorKind, Offer, OfferView, PlanImage, Submission};
use crate::marketplace::{
    Activity, Api, Draft, ImageRecord, ImageSource, MarketError, Marketplace, NewSource,
    NewVersion, OfferId, OperationKind, OperationRef, OperationReport, PlanChange, PlanDraft,
    PlanVersions, RunStatus, Slot, VersionRecord,
};

/// The only offer type whose plans hold VM images.
const VM_OFFER_TYPE: &str = "microsoft-azure-virtualmachines";

impl Marketplace for CppClient {
    fn api(&self) -> Api {
        Api::Cpp
    }

    async fn read_draft(&self, offer: &OfferId, plans: &[&str]) -> Result<Draft, MarketError> {
        let document = self
            .get_offer(&offer.publisher, &offer.offer, OfferView::Draft)
            .await
            .map_err(|e| match e.kind {
                ErrorKind::NotFound => MarketError::new(
                    ErrorKind::OfferNotFound,
                    format!(
                        "offer {offer} does not exist (or the service principal cannot see it): {e}"
                    ),
                ),
                _ => in_context(&format!("reading the draft of {offer}"), e),
            })?;
        if let Some(kind) = document.offer_type().filter(|k| *k != VM_OFFER_TYPE) {
            return Err(MarketError::new(
                ErrorKind::InvalidOffer,
                format!(
                    "offer {offer} is of type {kind}; only {VM_OFFER_TYPE} offers are supported"
                ),
            ));
        }
        let mut drafts = Vec::with_capacity(plans.len());
        for plan in plans {
            let Some(versions) = plan_versions(&document, offer, plan)? else {
                return Err(MarketError::new(
                    ErrorKind::PlanNotFound,
                    format!(
                        "plan {plan} is not in offer {offer} (its plans: {})",
                        document.plan_ids().join(", ")
                    ),
                ));
            };
            drafts.push(PlanDraft {
                plan: (*plan).to_owned(),
                versions,
                document: Value::Null,
            });
        }
        Ok(Draft {
            plans: drafts,
            token: document.etag().map(|e| e.0.clone()),
            document: document.to_value(),
        })
    }

    async fn read_plan(
        &self,
        offer: &OfferId,
        plan: &str,
        slot: Slot,
    ) -> Result<Option<PlanVersions>, MarketError> {
        let view = match slot {
            Slot::Draft => OfferView::Draft,
            Slot::Preview => OfferView::Preview,
            Slot::Live => OfferView::Production,
        };
        match self.get_offer(&offer.publisher, &offer.offer, view).await {
            Ok(document) => Ok(Some(
                plan_versions(&document, offer, plan)?.unwrap_or_default(),
            )),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(in_context(
                &format!("reading the {view:?} slot of {offer}"),
                e,
            )),
        }
    }

    async fn write_draft(
        &self,
        offer: &OfferId,
        draft: Draft,
        changes: &[PlanChange],
    ) -> Result<(), MarketError> {
        let mut document = Offer::new(draft.document, draft.token.map(crate::cpp::ETag))
            .map_err(|e| MarketError::new(ErrorKind::Rejected, format!("{offer}: {e}")))?;
        // Every plan in the one document: one PUT with If-Match carries them all.
        for change in changes {
            add_version(&mut document, &change.plan, &change.new, &change.retire)?;
        }
        self.put_offer(&offer.publisher, &document)
            .await
            .map_err(|e| match e.kind {
                ErrorKind::PreconditionFailed => MarketError::new(e.kind, e.to_string()),
                _ => in_context(&format!("writing the draft of {offer}"), e),
            })?;
        Ok(())
    }

    async fn activity(&self, offer: &OfferId) -> Result<Vec<Activity>, MarketError> {
        let list = self
            .list_operations(&offer.publisher, &offer.offer, None)
            .await
            .map_err(|e| in_context(&format!("listing the operations of {offer}"), e))?;
        Ok(list.iter().map(|s| activity_of(offer, s)).collect())
    }

    async fn publish(
        &self,
        offer: &OfferId,
        notification_emails: &str,
    ) -> Result<OperationRef, MarketError> {
        self.publish(&offer.publisher, &offer.offer, notification_emails)
            .await
            .map_err(|e| match e.kind {
                ErrorKind::Conflict => MarketError::new(
                    ErrorKind::Busy,
                    format!("{offer}: another operation started before the publish: {e}"),
                ),
                _ => in_context(&format!("publishing {offer}"), e),
            })
    }

    async fn go_live(&self, offer: &OfferId) -> Result<OperationRef, MarketError> {
        self.go_live(&offer.publisher, &offer.offer)
            .await
            .map_err(|e| match e.kind {
                ErrorKind::Conflict => MarketError::new(
                    ErrorKind::Busy,
                    format!("{offer} cannot go live now (another operation holds it, or preview is not ready): {e}"),
                ),
                _ => in_context(&format!("going live with {offer}"), e),
            })
    }

    /// CPP cancels whatever runs on the offer, which is the operation a run waits on.
    async fn cancel(&self, offer: &OfferId, _at: &OperationRef) -> Result<(), MarketError> {
        CppClient::cancel(self, &offer.publisher, &offer.offer)
            .await
            .map(|_| ())
            .map_err(|e| in_context(&format!("cancelling the operation on {offer}"), e))
    }

    async fn operation(
        &self,
        offer: &OfferId,
        at: &OperationRef,
        kind: OperationKind,
    ) -> Result<OperationReport, MarketError> {
        let read = match self.get_operation_at(&at.location).await {
            Err(e) if e.kind == ErrorKind::NotFound && at.id.is_some() => {
                let id = at.id.as_deref().unwrap_or_default();
                self.get_operation(&offer.publisher, &offer.offer, id).await
            }
            other => other,
        };
        let operation =
            read.map_err(|e| in_context(&format!("reading the operation of {offer}"), e))?;
        let step = operation.current_step();
        Ok(OperationReport {
            status: classify(kind, &operation),
            step: step.map(|s| s.label().to_owned()),
            progress_percentage: step.and_then(|s| s.progress_percentage),
            estimate: step
                .and_then(|s| s.estimated_time_frame.as_deref())
                .and_then(parse_time_frame),
            later: later_steps(kind, &operation),
            messages: messages_for_people(&operation),
        })
    }
}

fn in_context(context: &str, error: ApiError) -> MarketError {
    MarketError::new(error.kind, format!("{context}: {error}"))
}

fn activity_of(offer: &OfferId, submission: &Submission) -> Activity {
    let kind = if submission.is_go_live() {
        OperationKind::GoLive
    } else {
        OperationKind::Publish
    };
    let status = match &submission.submission_state {
        crate::cpp::OperationStatus::Succeeded => Some(RunStatus::Succeeded),
        crate::cpp::OperationStatus::Failed => Some(RunStatus::Failed),
        crate::cpp::OperationStatus::Canceled => Some(RunStatus::Canceled),
        _ => None,
    };
    Activity {
        kind,
        at: operation_for_submission(&offer.publisher, &offer.offer, &submission.id),
        active: submission.submission_state.is_active(),
        status,
    }
}

/// Adds `new` to `plan`'s image map and removes the versions keyed in `retire`; nothing else of
/// the document changes.
pub fn add_version(
    document: &mut Offer,
    plan: &str,
    new: &NewVersion,
    retire: &[String],
) -> Result<(), MarketError> {
    let entry = image_entry(new)?;
    let malformed = |e: crate::cpp::OfferError| {
        MarketError::new(ErrorKind::Rejected, format!("plan {plan}: {e}"))
    };
    let mut found = document.plan_mut(plan).ok_or_else(|| {
        MarketError::new(
            ErrorKind::PlanNotFound,
            format!("plan {plan} is not in the offer"),
        )
    })?;
    for key in retire {
        found.remove_image(key);
    }
    found.insert_image(new.version, entry).map_err(malformed)
}

/// The plan's image map as versions, or `None` when the offer has no such plan.
pub fn plan_versions(
    document: &Offer,
    offer: &OfferId,
    plan: &str,
) -> Result<Option<PlanVersions>, MarketError> {
    let Some(found) = document.plan(plan) else {
        return Ok(None);
    };
    let images = found
        .images()
        .map_err(|e| MarketError::new(ErrorKind::Rejected, format!("{offer} plan {plan}: {e}")))?;
    Ok(Some(PlanVersions {
        versions: images.iter().map(version_record).collect(),
        image_types: Vec::new(),
        fixed_data_disks: true,
    }))
}

fn version_record(image: &PlanImage<'_>) -> VersionRecord {
    let source = match image.os_vhd_url() {
        Some(url) => ImageSource::Sas {
            os_url: url.to_owned(),
            data_disks: image.data_disk_urls(),
        },
        None => ImageSource::Other,
    };
    VersionRecord {
        version: image.version,
        key: image.key.to_owned(),
        images: vec![ImageRecord {
            image_type: None,
            source,
        }],
        active: true,
    }
}

/// The image entry as CPP documents it: the OS disk and the data disks. CPP takes one SAS image.
fn image_entry(new: &NewVersion) -> Result<Value, MarketError> {
    let [image] = new.images.as_slice() else {
        return Err(MarketError::new(
            ErrorKind::InvalidOffer,
            "a CPP plan takes one image per version",
        ));
    };
    let NewSource::Sas {
        os_vhd_url,
        lun_vhd_details,
    } = &image.source
    else {
        return Err(MarketError::new(
            ErrorKind::InvalidOffer,
            "a CPP plan takes images by SAS URL only, not from a compute gallery",
        ));
    };
    let mut entry = Map::new();
    entry.insert("osVhdUrl".into(), json!(os_vhd_url));
    entry.insert(
        "lunVhdDetails".into(),
        Value::Array(lun_vhd_details.clone()),
    );
    Ok(Value::Object(entry))
}
